"""The note world: orders that do not go to plan, seeded through the public mutations.
Proposals and revisions carry canary prices and notes, and the buyer's notes carry every
audience (none, SUPPLIER, CLIENT, both), so each canary has exactly one set of viewers
(``SEEN_BY``). Supplier A and client A own every order but one; supplier B and client B
own that one (``theirs``), so what they may see exists too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from conftest import GraphQL, make_token
from graphql_support import (
    ACKNOWLEDGE_ORDER,
    ADD_MILESTONE,
    AMEND_ORDER,
    CANCEL_ORDER,
    CLOSE_ORDER,
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    DISPATCH_ORDER,
    ISSUE_ORDER,
    PROPOSE_CHANGES,
    RECEIVE_DELIVERY,
    RESPOND_TO_PROPOSAL,
    START_PRODUCTION,
    line_input,
    mutate,
    order_input,
)

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


@dataclass
class NoteWorld:
    http: httpx.AsyncClient
    tokens: dict[str, str]  # by viewer
    parties: dict[str, str] = field(default_factory=dict)  # supplier or client id, by viewer
    orders: dict[str, str] = field(default_factory=dict)

    def caller(self, viewer: str) -> GraphQL:
        return GraphQL(self.http, self.tokens[viewer])


async def create_parties(http: httpx.AsyncClient) -> NoteWorld:
    """Two suppliers and two clients, and a token for each viewer."""
    world = NoteWorld(http, tokens={BUYER: make_token("buyer")})
    buyer = world.caller(BUYER)
    parties = {
        SUPPLIER_A: (CREATE_SUPPLIER, SUPPLIER_NAME),
        SUPPLIER_B: (CREATE_SUPPLIER, "Other Supplier"),
        CLIENT_A: (CREATE_CLIENT, "Client A"),
        CLIENT_B: (CREATE_CLIENT, "Client B"),
    }
    for viewer, (document, name) in parties.items():
        party_id = (await mutate(buyer, document, {"name": name}))["id"]
        world.parties[viewer] = party_id
        claim = "supplier_id" if document is CREATE_SUPPLIER else "client_id"
        role = "supplier" if document is CREATE_SUPPLIER else "client"
        world.tokens[viewer] = make_token(role, subject=viewer, **{claim: party_id})
    return world


async def play(world: NoteWorld) -> None:
    """About 30 mutations: every exception path, every audience, a canary in each."""
    buyer, supplier = world.caller(BUYER), world.caller(SUPPLIER_A)
    sup_a, sup_b = world.parties[SUPPLIER_A], world.parties[SUPPLIER_B]
    cli_a, cli_b = world.parties[CLIENT_A], world.parties[CLIENT_B]

    lines = [line_input("X-PART-1", 3, "10.00"), line_input("X-PART-2", 2, "4.00")]

    async def issue(name: str, supplier_id: str = sup_a, client_id: str = cli_a) -> str:
        order_id: str = (
            await mutate(buyer, ISSUE_ORDER, order_input(supplier_id, client_id, lines))
        )["id"]
        world.orders[name] = order_id
        return order_id

    # A proposal accepted, the buyer's answer shared with the supplier.
    o = await issue("accepted")
    await mutate(
        supplier,
        PROPOSE_CHANGES,
        {
            "orderId": o,
            "promisedDate": "2026-03-25",
            "lines": [{"lineNo": 1, "unitPrice": PROPOSED_PRICE}],
            "note": PROPOSAL_NOTE,
        },
    )
    await mutate(
        buyer,
        RESPOND_TO_PROPOSAL,
        {"orderId": o, "accept": True, "note": ACCEPT_NOTE_S, "visibleTo": ["SUPPLIER"]},
    )
    # A proposal still waiting.
    o = await issue("pending")
    await mutate(
        supplier,
        PROPOSE_CHANGES,
        {
            "orderId": o,
            "promisedDate": "2026-03-26",
            "lines": [{"lineNo": 1, "unitPrice": PENDING_PRICE}],
            "note": PENDING_NOTE,
        },
    )
    # A proposal rejected, the buyer's answer shared with the client.
    o = await issue("rejected")
    await mutate(
        supplier,
        PROPOSE_CHANGES,
        {"orderId": o, "promisedDate": "2026-03-27", "note": REJECTED_NOTE},
    )
    await mutate(
        buyer,
        RESPOND_TO_PROPOSAL,
        {"orderId": o, "accept": False, "note": REJECT_NOTE_C, "visibleTo": ["CLIENT"]},
    )
    # Three amendments after acknowledgement, one per audience, then acknowledged.
    o = await issue("amended")
    await mutate(supplier, ACKNOWLEDGE_ORDER, {"orderId": o, "promisedDate": "2026-03-20"})
    await mutate(
        buyer,
        AMEND_ORDER,
        {
            "orderId": o,
            "lines": [{"lineNo": 1, "unitPrice": AMENDED_PRICE}],
            "reason": AMEND_REASON,
        },
    )
    await mutate(
        buyer,
        AMEND_ORDER,
        {
            "orderId": o,
            "addLines": [line_input("X-PART-3", 1, ADDED_PRICE)],
            "reason": AMEND_REASON_S,
            "visibleTo": ["SUPPLIER"],
        },
    )
    await mutate(
        buyer,
        AMEND_ORDER,
        {
            "orderId": o,
            "needBy": "2026-04-08",
            "reason": AMEND_REASON_SC,
            "visibleTo": ["SUPPLIER", "CLIENT"],
        },
    )
    await mutate(supplier, ACKNOWLEDGE_ORDER, {"orderId": o, "promisedDate": "2026-03-30"})
    # Rejects at receipt, then a short-close shared with the client.
    o = await issue("closed")
    await mutate(supplier, ACKNOWLEDGE_ORDER, {"orderId": o, "promisedDate": "2026-03-20"})
    await mutate(supplier, START_PRODUCTION, {"orderId": o})
    await mutate(supplier, ADD_MILESTONE, {"orderId": o, "note": MILESTONE})
    await mutate(supplier, DISPATCH_ORDER, {"orderId": o, "method": "OWN_DRIVER"})
    await mutate(
        buyer,
        RECEIVE_DELIVERY,
        {
            "orderId": o,
            "lines": [
                {"lineNo": 1, "quantity": 2, "rejectedQuantity": 1, "rejectReason": REJECT_REASON}
            ],
            "note": RECEIPT_NOTE_S,
            "visibleTo": ["SUPPLIER"],
        },
    )
    await mutate(
        buyer,
        RECEIVE_DELIVERY,
        {"orderId": o, "lines": [{"lineNo": 2, "quantity": 1}], "note": RECEIPT_NOTE},
    )
    await mutate(
        buyer, CLOSE_ORDER, {"orderId": o, "reason": CLOSE_REASON_C, "visibleTo": ["CLIENT"]}
    )
    # Cancelled, the reason the buyer's alone.
    o = await issue("cancelled")
    await mutate(buyer, CANCEL_ORDER, {"orderId": o, "reason": CANCEL_REASON})
    # Supplier B's job for client B: what they may see exists too.
    await issue("theirs", sup_b, cli_b)


async def build(http: httpx.AsyncClient) -> NoteWorld:
    world = await create_parties(http)
    await play(world)
    return world
