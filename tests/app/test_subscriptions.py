"""orderEvents over graphql-transport-ws, against a real uvicorn on loopback: each role
hears only the events it may see, redacted like queries; bad tokens and
non-subscriptions are refused. Every wait is bounded, so a missing event fails fast."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.main import create_app, stop_background
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import Database

EVENTS = """subscription Live($id: ID) { orderEvents(orderId: $id) {
  kind stage actorRole actorSubject note } }"""
SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
CLIENT = 'mutation { createClient(input: {name: "Contoso"}) { client { id } } }'
ISSUE = """mutation($s: ID!, $c: ID) { issueOrder(input: {supplierId: $s, clientId: $c,
  needBy: "2099-01-01", currency: "EUR", lines: [{partNumber: "P", quantity: 1,
  unitPrice: "13377.31"}]}) { order { id } } }"""
ACK = """mutation($o: ID!) { acknowledgeOrder(input: {orderId: $o, promisedDate: "2098-12-01",
  note: "SUPPLIER-NOTE-CANARY"}) { order { stage } } }"""
WAIT = 5.0  # seconds: the bound on every wait, never a sleep for time


class Live:
    def __init__(self, app: Starlette, base: str) -> None:
        self.app = app
        self.base = base
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async def post(self, token: str, query: str, **variables: Any) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def socket(self, stack: AsyncExitStack, token: str | None) -> ClientConnection:
        ws = await stack.enter_async_context(
            connect(f"{self.base}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        )
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        return ws

    async def subscribed(self, org: str, count: int) -> None:
        """Wait until ``count`` subscriptions listen on ``org`` (bounded)."""
        async with asyncio.timeout(WAIT):
            while self.app.state.hub.listeners(org) < count:  # noqa: ASYNC110 (a poll of a count)
                await asyncio.sleep(0.01)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


@pytest.fixture
async def live(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[Live]:
    app = create_app(settings, db=db, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, lifespan="off", ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    live = Live(app, f"ws://127.0.0.1:{port}")
    try:
        yield live
    finally:
        await live.http.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        await stop_background(app)


async def test_each_role_hears_only_what_it_may_see(live: Live) -> None:
    buyer = make_token("buyer")
    supplier_id = (await live.post(buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    client_id = (await live.post(buyer, CLIENT))["createClient"]["client"]["id"]
    other = (await live.post(buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    tokens = {
        "buyer": buyer,
        "client": make_token("client", client_id=client_id),
        "supplier": make_token("supplier", supplier_id=supplier_id, subject="shop-x"),
        "outsider": make_token("supplier", supplier_id=other),
        "rival": make_token("buyer", org="org-z"),
    }
    async with AsyncExitStack() as stack:
        sockets = {}
        for name, token in tokens.items():
            ws = await live.socket(stack, token)
            assert await receive(ws) == {"type": "connection_ack"}
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}})
            )
            sockets[name] = ws
        await live.subscribed("org-a", 4)
        await live.subscribed("org-z", 1)

        data = await live.post(buyer, ISSUE, s=supplier_id, c=client_id)
        order = data["issueOrder"]["order"]["id"]
        await live.post(tokens["supplier"], ACK, o=order)

        async def events(name: str, n: int) -> list[dict[str, Any]]:
            found = []
            for _ in range(n):
                message = await receive(sockets[name])
                assert message["type"] == "next", message
                found.append(message["payload"]["data"]["orderEvents"])
            return found

        assert [e["kind"] for e in await events("buyer", 2)] == ["ISSUED", "ACKNOWLEDGED"]
        supplier_seen = await events("supplier", 2)
        assert supplier_seen[1]["note"] == "SUPPLIER-NOTE-CANARY"
        assert supplier_seen[1]["actorSubject"] == "shop-x"
        issued, acked = await events("client", 2)
        assert issued["kind"] == "ISSUED"
        assert acked == {
            "kind": "ACKNOWLEDGED",
            "stage": "ACKNOWLEDGED",
            "actorRole": "supplier",
            "actorSubject": None,
            "note": None,
        }

        # Another supplier and another org heard nothing: their next message is the pong.
        for name in ("outsider", "rival"):
            await sockets[name].send(json.dumps({"type": "ping"}))
            assert await receive(sockets[name]) == {"type": "pong"}


async def test_a_bad_token_closes_the_connection_with_4403(live: Live) -> None:
    async with AsyncExitStack() as stack:
        ws = await live.socket(stack, "not-a-token")
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_queries_are_served_over_the_socket_and_hidden_fields_do_not_exist(
    live: Live,
) -> None:
    async with AsyncExitStack() as stack:
        ws = await live.socket(stack, make_token("client", client_id="cli_aaaaaaaaaaaaaaaaaaaa"))
        assert await receive(ws) == {"type": "connection_ack"}
        await ws.send(
            json.dumps(
                {"id": "q", "type": "subscribe", "payload": {"query": "{ viewer { role } }"}}
            )
        )
        assert await receive(ws) == {
            "type": "next",
            "id": "q",
            "payload": {"data": {"viewer": {"role": "client"}}},
        }
        assert await receive(ws) == {"type": "complete", "id": "q"}
        await ws.send(
            json.dumps(
                {
                    "id": "h",
                    "type": "subscribe",
                    "payload": {"query": "subscription { orderEvents { kind supplier { name } } }"},
                }
            )
        )
        error = await receive(ws)
    assert error["type"] == "error"
    assert error["payload"][0]["message"] == "Cannot query field 'supplier' on type 'OrderEvent'."
