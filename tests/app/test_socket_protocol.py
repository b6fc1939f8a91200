"""The socket's rules: the same limits as HTTP, a reason on every refusal, the end of a
token is the end of the socket, one ``connection_init`` only, a clean close, and a relay
that loses its database connection catches up."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import jwt
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.main import create_app
from app.settings import Settings
from conftest import AUDIENCE, ISSUER, PG_URL, SECRET, FixedClock, make_token
from db.engine import Database
from live_support import WAIT, InProcess, serving, socket_to
from permissions.tokens import issue_token

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ISSUE = """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2099-01-01",
  currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1.00"}]}) {
  order { id } } }"""
EVENTS = "subscription { orderEvents { id kind } }"


@pytest.fixture
async def live(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[InProcess]:
    async with serving(create_app(settings, db=db, clock=clock)) as served:
        yield served


async def _closed(ws: object) -> ConnectionClosed:
    """Read until the server closes the socket (bounded); the close frame."""

    async def drain() -> None:
        while True:
            await ws.recv()  # type: ignore[attr-defined]

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(drain(), WAIT)
    return closed.value


async def test_a_socket_closes_with_4403_when_its_token_expires(live: InProcess) -> None:
    # tokens are checked against real time (as HTTP does), so the timer runs on it too
    token = issue_token(
        secret=SECRET,
        audience=AUDIENCE,
        issuer=ISSUER,
        org="org-a",
        role="buyer",
        subject="short-lived",
        ttl_seconds=2,
    )
    async with socket_to(live.ws, token) as socket:
        await socket.subscribe("s", EVENTS)
        closed = await _closed(socket.ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4403, "Forbidden: token expired")


async def test_a_token_expired_before_connecting_is_refused_as_expired(live: InProcess) -> None:
    # given: a genuine token whose exp passed (beyond the leeway) before the socket opened
    now = int(time.time())
    claims = {"sub": "late", "role": "buyer", "org": "org-a", "aud": AUDIENCE, "iss": ISSUER}
    token = jwt.encode({**claims, "iat": now - 1200, "exp": now - 600}, SECRET, "HS256")
    async with connect(live.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        closed = await _closed(ws)
    # then: the words HTTP's 401 uses for it, so a client knows to refresh, not to give up
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4403, "Forbidden: token expired")


async def test_a_bad_token_is_refused_with_a_reason(live: InProcess) -> None:
    async with connect(live.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload = {"Authorization": "Bearer not-a-token"}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        closed = await _closed(ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4403, "Forbidden: invalid token")


async def test_a_second_connection_init_closes_with_4429(live: InProcess) -> None:
    async with socket_to(live.ws, make_token("buyer")) as socket:
        await socket.ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        closed = await _closed(socket.ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4429, "Too many initialisation requests")


async def test_a_message_over_the_body_limit_closes_the_socket_with_1009(
    live: InProcess,
) -> None:
    # given: the limit that answers 413 over HTTP (100,000 bytes by default)
    limit = live.app.state.settings.max_body_bytes
    padding = " " * limit
    async with socket_to(live.ws, make_token("buyer")) as socket:
        # a message just under it is served ...
        under = {"id": "u", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        text = json.dumps(under)
        await socket.ws.send(text[:-1] + " " * (limit - len(text)) + "}")
        assert (await socket.receive())["type"] == "next"
        # ... one over it closes the socket, whatever it carries
        over = {"id": "o", "type": "subscribe", "payload": {"query": "{ __typename }" + padding}}
        await socket.ws.send(json.dumps(over))
        closed = await _closed(socket.ws)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (
        1009,
        f"Message too big (limit {limit} bytes)",
    )


async def test_an_oversized_connection_init_closes_with_1009(live: InProcess) -> None:
    async with connect(live.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        payload = {"Authorization": "Bearer x", "pad": "x" * 200_000}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        closed = await _closed(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 1009


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "subscription { " + " ".join(f"a{i}: orderEvents {{ kind }}" for i in range(20)) + " }",
            "Query uses too many aliases (limit 15).",
        ),
        (
            "subscription { orderEvents { order { supplier { orders(first: 1) { edges { node {"
            " supplier { orders(first: 1) { edges { node { id } } } } } } } } } } }",
            "Query is too deep: 11 levels (limit 10).",
        ),
    ],
)
async def test_a_subscription_over_a_limit_is_refused_like_a_query(
    live: InProcess, document: str, message: str
) -> None:
    async with socket_to(live.ws, make_token("buyer")) as socket:
        await socket.subscribe("s", document)
        refused = await socket.receive()
    assert refused == {"type": "error", "id": "s", "payload": [{"message": message}]}


async def test_closing_a_socket_with_live_subscriptions_logs_no_error(
    live: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with socket_to(live.ws, make_token("buyer")) as socket:
        for i in range(5):
            await socket.subscribe(f"s{i}", EVENTS)
        await live.listening("org-a", 5)
    async with asyncio.timeout(WAIT):
        while live.app.state.hub.listeners("org-a"):  # noqa: ASYNC110 (cleanup is async)
            await asyncio.sleep(0.01)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_relay_that_loses_its_listen_connection_catches_up_from_the_log(
    live: InProcess, db: Database
) -> None:
    buyer = make_token("buyer")
    supplier_id = (await live.post(buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    relay = live.app.state.relay
    async with socket_to(live.ws, buyer) as socket:
        await socket.subscribe("s", EVENTS)
        await live.listening("org-a", 1)
        await asyncio.wait_for(relay.listening(), WAIT)

        # when: the server drops the relay's LISTEN connection, and an order is issued
        # through another app (no local wake-up) before the relay is back
        async with db.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
            await conn.commit()
        other = create_app(live.app.state.settings, db=db)
        async with serving(other) as elsewhere:
            order = (await elsewhere.post(buyer, ISSUE, s=supplier_id))["issueOrder"]["order"]

        # then: the subscriber still hears it
        event = (await socket.next_data())["orderEvents"]
    assert event["kind"] == "ISSUED"
    assert order["id"]
