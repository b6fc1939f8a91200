"""Leaks when the order does not go to plan: proposals and revisions carry canary prices
and notes, buyers' notes carry every audience (none, SUPPLIER, CLIENT, both), and each
reaches exactly its audience, byte for byte — over HTTP (every order entry point of each
role's schema, maximally selected) and over the ``orderEvents`` subscription.

A client never receives a price, a proposal, a revision or the supplier's identity; a
supplier's note never reaches a client; a buyer's note without ``visibleTo`` reaches no
one but the buyer. And what each may see does arrive, so the search cannot pass empty.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from redaction_support import MaximalSelection, leaked
from websockets.asyncio.client import ClientConnection, connect

from app.main import create_app, stop_background
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import Database
from graphql_support import (
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    line_input,
    order_input,
    payload_mutation,
)
from permissions.policy import ROW_CONTENT
from permissions.principal import Role

# -- the canaries ---------------------------------------------------------------------------

SUPPLIER_NAME = "CANARY-X-SUPPLIER-4e1a"
PROPOSED_PRICE = "7391.17"  # accepted: now the line's price and in revision 2
PENDING_PRICE = "8462.29"  # in a proposal still waiting
AMENDED_PRICE = "9573.31"  # an amendment's
ADDED_PRICE = "6284.53"  # a line an amendment added
PROPOSAL_NOTE = "CANARY-X-PROPOSAL-NOTE-2b7c"  # supplier-written
PENDING_NOTE = "CANARY-X-PENDING-NOTE-5d1f"  # supplier-written
REJECTED_NOTE = "CANARY-X-REJECTED-NOTE-0e3b"  # supplier-written, then rejected
MILESTONE = "CANARY-X-MILESTONE-5a9e"  # supplier-written
ACCEPT_NOTE_S = "CANARY-X-ACCEPT-S-8a3e"  # visibleTo SUPPLIER
REJECT_NOTE_C = "CANARY-X-REJECT-C-7c1d"  # visibleTo CLIENT
AMEND_REASON = "CANARY-X-AMEND-0c9d"  # no visibleTo: the buyer's alone
AMEND_REASON_S = "CANARY-X-AMEND-S-6f2e"  # visibleTo SUPPLIER
AMEND_REASON_SC = "CANARY-X-AMEND-SC-3a8b"  # visibleTo SUPPLIER and CLIENT
RECEIPT_NOTE_S = "CANARY-X-RECEIPT-S-9d4c"  # visibleTo SUPPLIER
RECEIPT_NOTE = "CANARY-X-RECEIPT-0f8a"  # no visibleTo: the buyer's alone
REJECT_REASON = "CANARY-X-REJECT-REASON-7e5f"  # on the receipt line: for the supplier
CLOSE_REASON_C = "CANARY-X-CLOSE-C-1b6d"  # visibleTo CLIENT
CANCEL_REASON = "CANARY-X-CANCEL-4c2a"  # no visibleTo: the buyer's alone

BUYER, SUPPLIER_A, SUPPLIER_B, CLIENT_A, CLIENT_B = (
    "buyer",
    "supplier A",
    "supplier B",
    "client A",
    "client B",
)
B, S, C = frozenset({BUYER}), frozenset({BUYER, SUPPLIER_A}), frozenset({BUYER, CLIENT_A})
SEEN_BY: dict[str, frozenset[str]] = {
    SUPPLIER_NAME: S,
    PROPOSED_PRICE: S,
    PENDING_PRICE: S,
    AMENDED_PRICE: S,
    ADDED_PRICE: S,
    PROPOSAL_NOTE: S,
    PENDING_NOTE: S,
    REJECTED_NOTE: S,
    MILESTONE: S,
    ACCEPT_NOTE_S: S,
    REJECT_NOTE_C: C,
    AMEND_REASON: B,
    AMEND_REASON_S: S,
    AMEND_REASON_SC: S | C,
    RECEIPT_NOTE_S: S,
    RECEIPT_NOTE: B,
    REJECT_REASON: S,
    CLOSE_REASON_C: C,
    CANCEL_REASON: B,
}
# The notes among them: what an event stream can carry (prices and names it cannot).
NOTES = {
    PROPOSAL_NOTE,
    PENDING_NOTE,
    REJECTED_NOTE,
    MILESTONE,
    ACCEPT_NOTE_S,
    REJECT_NOTE_C,
    AMEND_REASON,
    AMEND_REASON_S,
    AMEND_REASON_SC,
    RECEIPT_NOTE_S,
    RECEIPT_NOTE,
    CLOSE_REASON_C,
    CANCEL_REASON,
}
VIEWERS = (BUYER, SUPPLIER_A, SUPPLIER_B, CLIENT_A, CLIENT_B)


def hidden_from(viewer: str, among: set[str] | None = None) -> dict[str, str]:
    return {v: v for v, seen in SEEN_BY.items() if viewer not in seen and v in (among or SEEN_BY)}


def visible_to(viewer: str, among: set[str] | None = None) -> dict[str, str]:
    return {v: v for v, seen in SEEN_BY.items() if viewer in seen and v in (among or SEEN_BY)}


# -- the world, built through the public mutations -------------------------------------------

Post = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _m(name: str, input_type: str) -> str:
    return payload_mutation(name, input_type, "order { id }")


ISSUE = _m("issueOrder", "IssueOrderInput")
ACK = _m("acknowledgeOrder", "AcknowledgeOrderInput")
START = _m("startProduction", "OrderActionInput")
MILESTONE_DOC = _m("addMilestone", "AddMilestoneInput")
DISPATCH = _m("dispatchOrder", "DispatchOrderInput")
RECEIVE = _m("receiveDelivery", "ReceiveDeliveryInput")
PROPOSE = _m("proposeChanges", "ProposeChangesInput")
RESPOND = _m("respondToProposal", "RespondToProposalInput")
AMEND = _m("amendOrder", "AmendOrderInput")
CLOSE = _m("closeOrder", "CloseOrderInput")
CANCEL = _m("cancelOrder", "CancelOrderInput")


@dataclass
class NoteWorld:
    tokens: dict[str, str]  # by viewer
    parties: dict[str, str] = field(default_factory=dict)  # supplier or client id, by viewer
    orders: dict[str, str] = field(default_factory=dict)


async def _run(post: Post, token: str, document: str, data: dict[str, Any]) -> dict[str, Any]:
    """A mutation that must succeed: its payload's object."""
    body = await post(token, document, {"input": data})
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert payload["userErrors"] == [], payload
    [result] = [v for k, v in payload.items() if k != "userErrors"]
    found: dict[str, Any] = result
    return found


async def create_parties(post: Post) -> NoteWorld:
    """Two suppliers and two clients, and a token for each viewer."""
    buyer = make_token("buyer")
    parties = {
        SUPPLIER_A: (CREATE_SUPPLIER, SUPPLIER_NAME),
        SUPPLIER_B: (CREATE_SUPPLIER, "Other Supplier"),
        CLIENT_A: (CREATE_CLIENT, "Client A"),
        CLIENT_B: (CREATE_CLIENT, "Client B"),
    }
    world = NoteWorld(tokens={BUYER: buyer})
    for viewer, (document, name) in parties.items():
        party_id = (await _run(post, buyer, document, {"name": name}))["id"]
        world.parties[viewer] = party_id
        claim = "supplier_id" if document is CREATE_SUPPLIER else "client_id"
        role = "supplier" if document is CREATE_SUPPLIER else "client"
        world.tokens[viewer] = make_token(role, subject=viewer, **{claim: party_id})
    return world


async def play(post: Post, world: NoteWorld) -> None:
    """About 30 mutations: every exception path, every audience, a canary in each."""
    buyer, supplier = world.tokens[BUYER], world.tokens[SUPPLIER_A]
    sup_a, sup_b = world.parties[SUPPLIER_A], world.parties[SUPPLIER_B]
    cli_a, cli_b = world.parties[CLIENT_A], world.parties[CLIENT_B]

    async def run(token: str, document: str, data: dict[str, Any]) -> dict[str, Any]:
        return await _run(post, token, document, data)

    lines = [line_input("X-PART-1", 3, "10.00"), line_input("X-PART-2", 2, "4.00")]

    async def issue(name: str, supplier_id: str = sup_a, client_id: str = cli_a) -> str:
        order_id: str = (await run(buyer, ISSUE, order_input(supplier_id, client_id, lines)))["id"]
        world.orders[name] = order_id
        return order_id

    # A proposal accepted, the buyer's answer shared with the supplier.
    o = await issue("accepted")
    await run(
        supplier,
        PROPOSE,
        {
            "orderId": o,
            "promisedDate": "2026-03-25",
            "lines": [{"lineNo": 1, "unitPrice": PROPOSED_PRICE}],
            "note": PROPOSAL_NOTE,
        },
    )
    await run(
        buyer,
        RESPOND,
        {"orderId": o, "accept": True, "note": ACCEPT_NOTE_S, "visibleTo": ["SUPPLIER"]},
    )
    # A proposal still waiting.
    o = await issue("pending")
    await run(
        supplier,
        PROPOSE,
        {
            "orderId": o,
            "promisedDate": "2026-03-26",
            "lines": [{"lineNo": 1, "unitPrice": PENDING_PRICE}],
            "note": PENDING_NOTE,
        },
    )
    # A proposal rejected, the buyer's answer shared with the client.
    o = await issue("rejected")
    await run(
        supplier,
        PROPOSE,
        {"orderId": o, "promisedDate": "2026-03-27", "note": REJECTED_NOTE},
    )
    await run(
        buyer,
        RESPOND,
        {"orderId": o, "accept": False, "note": REJECT_NOTE_C, "visibleTo": ["CLIENT"]},
    )
    # Three amendments after acknowledgement, one per audience, then acknowledged.
    o = await issue("amended")
    await run(supplier, ACK, {"orderId": o, "promisedDate": "2026-03-20"})
    await run(
        buyer,
        AMEND,
        {
            "orderId": o,
            "lines": [{"lineNo": 1, "unitPrice": AMENDED_PRICE}],
            "reason": AMEND_REASON,
        },
    )
    await run(
        buyer,
        AMEND,
        {
            "orderId": o,
            "addLines": [line_input("X-PART-3", 1, ADDED_PRICE)],
            "reason": AMEND_REASON_S,
            "visibleTo": ["SUPPLIER"],
        },
    )
    await run(
        buyer,
        AMEND,
        {
            "orderId": o,
            "needBy": "2026-04-08",
            "reason": AMEND_REASON_SC,
            "visibleTo": ["SUPPLIER", "CLIENT"],
        },
    )
    await run(supplier, ACK, {"orderId": o, "promisedDate": "2026-03-30"})
    # Rejects at receipt, then a short-close shared with the client.
    o = await issue("closed")
    await run(supplier, ACK, {"orderId": o, "promisedDate": "2026-03-20"})
    await run(supplier, START, {"orderId": o})
    await run(supplier, MILESTONE_DOC, {"orderId": o, "note": MILESTONE})
    await run(supplier, DISPATCH, {"orderId": o, "method": "OWN_DRIVER"})
    await run(
        buyer,
        RECEIVE,
        {
            "orderId": o,
            "lines": [
                {"lineNo": 1, "quantity": 2, "rejectedQuantity": 1, "rejectReason": REJECT_REASON}
            ],
            "note": RECEIPT_NOTE_S,
            "visibleTo": ["SUPPLIER"],
        },
    )
    await run(
        buyer,
        RECEIVE,
        {"orderId": o, "lines": [{"lineNo": 2, "quantity": 1}], "note": RECEIPT_NOTE},
    )
    await run(buyer, CLOSE, {"orderId": o, "reason": CLOSE_REASON_C, "visibleTo": ["CLIENT"]})
    # Cancelled, the reason the buyer's alone.
    o = await issue("cancelled")
    await run(buyer, CANCEL, {"orderId": o, "reason": CANCEL_REASON})
    # Supplier B's job for client B: what they may see exists too.
    await issue("theirs", sup_b, cli_b)


async def build(post: Post) -> NoteWorld:
    world = await create_parties(post)
    await play(post, world)
    return world


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
    async def post(token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    world = await build(post)

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
    async def post(token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = (
            await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
        return body

    world = await build(post)
    buyer = world.tokens[BUYER]

    # when
    amended = (await post(buyer, EVENTS, {"id": world.orders["amended"]}))["data"]["order"]
    closed = (await post(buyer, EVENTS, {"id": world.orders["closed"]}))["data"]["order"]

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

        async def post(token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            body: dict[str, Any] = response.json()
            return body

        # given every viewer listening before anything happens to an order
        world = await create_parties(post)
        sockets = {viewer: await _open(stack, url, world.tokens[viewer]) for viewer in VIEWERS}
        async with asyncio.timeout(WAIT):
            while app.state.hub.listeners("org-a") < len(VIEWERS):  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        # when every exception path is played
        await play(post, world)

        # then each viewer hears as many events as it may see, and nothing more ...
        expected = await _expected_counts(post, world)
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


async def _expected_counts(post: Post, world: NoteWorld) -> dict[str, int]:
    """How many events each viewer may hear: every one of the org's for the buyer; a
    party's own orders' for a party (for a client, those the policy's row content lets
    it read: never an invoice's or a proposal's, an answer or amendment only when the
    buyer shared its note with the client)."""
    client = ROW_CONTENT[Role.CLIENT]
    body = await post(world.tokens[BUYER], COUNT, {})
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
