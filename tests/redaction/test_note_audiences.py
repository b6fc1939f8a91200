"""Leaks when the order does not go to plan: proposals and revisions carry canary prices
and notes, buyers' notes carry every audience (none, SUPPLIER, CLIENT, both), and each
reaches exactly its audience, byte for byte — over HTTP (every order entry point of each
role's schema, maximally selected) and over the ``orderEvents`` subscription.

A client never receives a price, a proposal, a revision or the supplier's identity; a
supplier's note never reaches a client; a buyer's note without ``visibleTo`` reaches no
one but the buyer. And what each may see does arrive, so the search cannot pass empty.
The world, its canaries and who may see each: ``worlds/notes.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from app.main import create_app, stop_background
from app.settings import Settings
from conftest import FixedClock
from db.engine import Database
from permissions.policy import ROW_CONTENT
from permissions.principal import Role
from redaction_support import MaximalSelection, leaked
from worlds.notes import (
    AMEND_REASON,
    AMEND_REASON_S,
    AMEND_REASON_SC,
    BUYER,
    CLIENT_A,
    CLIENT_B,
    MILESTONE,
    NOTES,
    RECEIPT_NOTE,
    RECEIPT_NOTE_S,
    SUPPLIER_A,
    SUPPLIER_B,
    VIEWERS,
    NoteWorld,
    build,
    create_parties,
    hidden_from,
    play,
    visible_to,
)

# -- HTTP -------------------------------------------------------------------------------------


def _documents(role: Role) -> dict[str, str]:
    m = MaximalSelection(role, depth=5)
    return {
        "orders": m.document(f"query Orders {{ orders(first: 100) {m.of('OrderConnection', 5)} }}"),
        "order": m.document(f"query One($id: ID!) {{ order(id: $id) {m.of('Order')} }}"),
        "node": m.document(
            f"query Node($id: ID!) {{ node(id: $id) {m.of_member('Node', 'Order')} }}"
        ),
    }


DOCUMENTS = {role: _documents(role) for role in Role}
ROLE = {
    BUYER: Role.BUYER,
    SUPPLIER_A: Role.SUPPLIER,
    SUPPLIER_B: Role.SUPPLIER,
    CLIENT_A: Role.CLIENT,
    CLIENT_B: Role.CLIENT,
}
EVENTS = """query Events($id: ID!) { order(id: $id) { events { kind note visibleTo }
  receipts { note visibleTo } revisions { number reason visibleTo } } }"""


async def test_every_canary_reaches_exactly_its_audience_over_http(
    client: httpx.AsyncClient,
) -> None:
    # given
    world = await build(client)

    for viewer in VIEWERS:
        # when the viewer reads every order every way its schema allows
        documents = DOCUMENTS[ROLE[viewer]]
        headers = {"Authorization": f"Bearer {world.tokens[viewer]}"}
        responses = [
            await client.post("/graphql", json={"query": documents["orders"]}, headers=headers)
        ]
        for order_id in world.orders.values():
            for name in ("order", "node"):
                body = {"query": documents[name], "variables": {"id": order_id}}
                responses.append(await client.post("/graphql", json=body, headers=headers))

        # then: no canary it must not see, and every one it may see
        content = b"".join(r.content for r in responses)
        assert all(r.status_code == 200 and b'"errors"' not in r.content for r in responses)
        assert leaked(content, hidden_from(viewer)) == {}, viewer
        assert leaked(content, visible_to(viewer)) == visible_to(viewer), viewer


async def test_the_buyer_sees_whom_each_note_reaches(client: httpx.AsyncClient) -> None:
    # given
    world = await build(client)
    buyer = world.caller(BUYER)

    # when
    amended = (await buyer(EVENTS, {"id": world.orders["amended"]}))["data"]["order"]
    closed = (await buyer(EVENTS, {"id": world.orders["closed"]}))["data"]["order"]

    # then: none, SUPPLIER, both — as given; a supplier's note carries no audience
    assert [(e["note"], e["visibleTo"]) for e in amended["events"] if e["kind"] == "AMENDED"] == [
        (AMEND_REASON, []),
        (AMEND_REASON_S, ["SUPPLIER"]),
        (AMEND_REASON_SC, ["CLIENT", "SUPPLIER"]),
    ]
    assert [(r["reason"], r["visibleTo"]) for r in amended["revisions"]] == [
        (None, []),
        (AMEND_REASON, []),
        (AMEND_REASON_S, ["SUPPLIER"]),
        (AMEND_REASON_SC, ["CLIENT", "SUPPLIER"]),
    ]
    # (two receipts in the same instant: their order is by random id, so compare sorted)
    assert sorted(closed["receipts"], key=lambda r: r["note"]) == sorted(
        [
            {"note": RECEIPT_NOTE_S, "visibleTo": ["SUPPLIER"]},
            {"note": RECEIPT_NOTE, "visibleTo": []},
        ],
        key=lambda r: r["note"],
    )
    milestone = next(e for e in closed["events"] if e["kind"] == "MILESTONE")
    assert milestone == {"kind": "MILESTONE", "note": MILESTONE, "visibleTo": []}


# -- the subscription --------------------------------------------------------------------------

SUBSCRIBE = "subscription Live { orderEvents { kind stage actorRole actorSubject note } }"
WAIT = 5.0  # seconds: the bound on every wait, never a sleep for time
COUNT = """query Count { orders(first: 100) { edges { node { id
  supplier { id } client { id } events { kind visibleTo } } } } }"""


@pytest.fixture
async def live(
    settings: Settings, db: Database, clock: FixedClock
) -> AsyncIterator[tuple[Any, str]]:
    app = create_app(settings, db=db, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, lifespan="off", ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield app, f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        await stop_background(app)


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def test_every_note_reaches_exactly_its_audience_over_the_subscription(
    live: tuple[Any, str],
) -> None:
    app, url = live
    async with AsyncExitStack() as stack:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        stack.push_async_callback(http.aclose)

        # given every viewer listening before anything happens to an order
        world = await create_parties(http)
        sockets = {viewer: await _open(stack, url, world.tokens[viewer]) for viewer in VIEWERS}
        async with asyncio.timeout(WAIT):
            while app.state.hub.listeners("org-a") < len(VIEWERS):  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        # when every exception path is played
        await play(world)

        # then each viewer hears as many events as it may see, and nothing more ...
        expected = await _expected_counts(world)
        assert expected[SUPPLIER_B] == expected[CLIENT_B] == 1  # their own order's issue
        heard = {}
        for viewer, ws in sockets.items():
            heard[viewer] = [await _receive(ws) for _ in range(expected[viewer])]
            await ws.send(json.dumps({"type": "ping"}))
            assert await _receive(ws) == {"type": "pong"}, viewer
            assert {m["type"] for m in heard[viewer]} == {"next"}, viewer

        # ... and exactly the notes whose audience it is in
        for viewer, messages in heard.items():
            content = json.dumps(messages).encode()
            assert leaked(content, hidden_from(viewer, NOTES)) == {}, viewer
            assert leaked(content, visible_to(viewer, NOTES)) == visible_to(viewer, NOTES), viewer


async def _open(stack: AsyncExitStack, url: str, token: str) -> ClientConnection:
    ws = await stack.enter_async_context(
        connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    )
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    assert await _receive(ws) == {"type": "connection_ack"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


async def _expected_counts(world: NoteWorld) -> dict[str, int]:
    """How many events each viewer may hear: every one of the org's for the buyer; a
    party's own orders' for a party (for a client, those the policy's row content lets
    it read: never an invoice's or a proposal's, an answer or amendment only when the
    buyer shared its note with the client)."""
    client = ROW_CONTENT[Role.CLIENT]
    body = await world.caller(BUYER)(COUNT)
    by_party = {party: viewer for viewer, party in world.parties.items()}
    counts = dict.fromkeys(VIEWERS, 0)
    for edge in body["data"]["orders"]["edges"]:
        order = edge["node"]
        events = order["events"]
        counts[BUYER] += len(events)
        counts[by_party[order["supplier"]["id"]]] += len(events)
        counts[by_party[order["client"]["id"]]] += len(
            [e for e in events if client.reads_event(e["kind"], frozenset(e["visibleTo"] or ()))]
        )
    return counts
