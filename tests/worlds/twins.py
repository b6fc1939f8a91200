"""Twin worlds: pairs that agree in everything one viewer may see and differ in what it
must not, so that any difference in its answers is a leak.

``supplier_twin(n)``  world n of a supplier's twins (issue 17): supplier 1's five orders,
                      one per stage, alike at the same instants; all else differs
                      (``TWINS``). Placeholders (``@ORD1@``, ...) name the same objects.
``negotiated_twins``  two orders for one client, A acknowledged as issued and A'
                      negotiated (proposals, an amendment) to the same end.
``tracking_twin(s)``  an order the whole way to a tracking link; the two differ only in
                      what its client must not see (``PAGE_TWINS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from conftest import T0, FixedClock, GraphQL, make_token
from db.engine import Database
from db.seed import seed
from graphql_support import (
    ACKNOWLEDGE_ORDER,
    ADD_MILESTONE,
    AMEND_ORDER,
    CANCEL_ORDER,
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    CREATE_TRACKING_LINK,
    DISPATCH_ORDER,
    ISSUE_ORDER,
    PROPOSE_CHANGES,
    RECEIVE_DELIVERY,
    RESPOND_TO_PROPOSAL,
    START_PRODUCTION,
    SUBMIT_INVOICE,
    UPDATE_PROMISED_DATE,
    UPDATE_SHIPMENT,
    line_input,
    mutate,
    order_input,
)

ORGS = ("twin-org-1", "twin-org-2")
BUYER_SUBJECT = "buyer@twin"
SUPPLIER_ONE_SUBJECT = "north-ops"
EVENT_IDS = "query($id: ID!) { order(id: $id) { events(first: 100) { id } } }"


@dataclass(frozen=True)
class Hidden:
    """What supplier 1 must not learn; the twins differ in all of it."""

    other_supplier: str
    other_price: str
    client: str
    reference: str
    internal: str
    reason: str
    receipt_note: str
    volume: int


TWINS = (
    Hidden("Apex Sheet Metal", "12.50", "Contoso Robotics", "CR-7", "margin 40%", "late", "ok", 3),
    Hidden("Brightline Fab", "99.10", "Fabrikam", "FAB-913", "backup shop", "no", "dent", 40),
)


@dataclass
class TwinWorld:
    """One twin: the placeholder -> id map, and supplier 1's caller."""

    org: str
    supplier: GraphQL
    ids: dict[str, str] = field(default_factory=dict)

    def document(self, generated: str) -> str:
        """``generated`` with each placeholder replaced by this world's id."""
        for placeholder, id_ in self.ids.items():
            generated = generated.replace(placeholder, id_)
        return generated


async def supplier_twin(
    http: httpx.AsyncClient, db: Database, clock: FixedClock, n: int
) -> TwinWorld:
    """World ``n``: every step at the same instant as in the other world."""
    hidden = TWINS[n]
    org = ORGS[n]
    clock.now = T0
    # The org's volume: orders of another supplier, seeded before ours.
    await seed(db=db, org=org, orders=hidden.volume, suppliers=1, clients=1, seed=n, now=T0)
    buyer = GraphQL(http, make_token("buyer", org=org, subject=BUYER_SUBJECT))
    north = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": "Northwind", "contactEmail": "o@n.example"})
    )["id"]
    other = (await mutate(buyer, CREATE_SUPPLIER, {"name": hidden.other_supplier}))["id"]
    client = (await mutate(buyer, CREATE_CLIENT, {"name": hidden.client}))["id"]
    supplier = GraphQL(
        http, make_token("supplier", org=org, subject=SUPPLIER_ONE_SUBJECT, supplier_id=north)
    )
    world = TwinWorld(org=org, supplier=supplier)
    world.ids |= {"@SUP1@": north, "@SUP2@": other, "@CLI@": client}

    async def issue(supplier_id: str, price: str, need_by: str) -> str:
        clock.advance(hours=1)
        data = order_input(
            supplier_id,
            client,
            [line_input("BRKT-1001", 5, price, "Bracket"), line_input("PIN-2002", 10, "1.25")],
            needBy=need_by,
            clientReference=hidden.reference,
            internalNote=hidden.internal,
            terms="Net 30",
            leadTimeDays=10,
        )
        return str((await mutate(buyer, ISSUE_ORDER, data))["id"])

    async def step(caller: GraphQL, document: str, order: str, **data: Any) -> dict[str, Any]:
        clock.advance(hours=1)
        return await mutate(caller, document, {"orderId": order, **data})

    # Supplier 1's orders, one per stage, each step an hour apart; the other supplier's
    # order in between (same instants, different price).
    orders = [await issue(north, "10.00", f"2026-04-{10 + i:02d}") for i in range(5)]
    world.ids["@ORD_OTHER@"] = await issue(other, hidden.other_price, "2026-04-20")
    _issued, o_acked, o_making, o_sent, o_cancelled = orders
    await step(supplier, ACKNOWLEDGE_ORDER, o_acked, promisedDate="2026-04-08", note="booked")
    # later than its need-by date: PROMISE_SLIPPED is raised with the acknowledgement
    await step(supplier, ACKNOWLEDGE_ORDER, o_making, promisedDate="2026-04-20")
    await step(supplier, START_PRODUCTION, o_making, note="on the mill")
    await step(supplier, ADD_MILESTONE, o_making, note="parts cut")
    await step(supplier, ACKNOWLEDGE_ORDER, o_sent, promisedDate="2026-04-10")
    await step(supplier, START_PRODUCTION, o_sent)
    sent = await step(
        supplier,
        DISPATCH_ORDER,
        o_sent,
        method="COURIER",
        carrier="DHL",
        trackingReference="JD1",
        lines=[{"lineNo": 1, "quantity": 5}],
    )
    await step(
        buyer,
        RECEIVE_DELIVERY,
        o_sent,
        lines=[{"lineNo": 1, "quantity": 5}],
        note=hidden.receipt_note,
    )
    await step(
        supplier,
        SUBMIT_INVOICE.replace("invoice { id number total }", "invoice { id }"),
        o_sent,
        number="INV-1",
        lines=[{"lineNo": 1, "quantity": 5, "unitPrice": "10.00"}],
    )
    rival = GraphQL(http, make_token("supplier", org=org, subject="rival", supplier_id=other))
    await step(rival, ACKNOWLEDGE_ORDER, world.ids["@ORD_OTHER@"], promisedDate="2026-04-11")
    await step(buyer, CANCEL_ORDER, o_cancelled, reason=hidden.reason)
    clock.advance(hours=1)
    for i, order in enumerate(orders, 1):
        world.ids[f"@ORD{i}@"] = order
        body = await supplier(EVENT_IDS, {"id": order})
        found = body["data"]["order"]
        for k, event in enumerate(found["events"], 1):
            world.ids[f"@EVT{i}_{k}@"] = event["id"]
    world.ids["@SHP@"] = sent["shipments"][0]["id"]
    return world


NEGOTIATED_PROMISE = "2026-03-20"


async def negotiated_twins(
    as_role: Callable[..., GraphQL],
) -> tuple[GraphQL, dict[str, Any], dict[str, Any]]:
    """(the client's caller, order A, order A'): both acknowledged for the same date with
    the same quantities; A' got there through two proposals and an amendment."""
    buyer = as_role("buyer")
    supplier_id = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Northwind"}))["id"]
    client_id = (await mutate(buyer, CREATE_CLIENT, {"name": "Acme Rail"}))["id"]
    supplier = as_role("supplier", supplier_id=supplier_id)
    lines = [line_input("BRKT-1", 3, "10.00"), line_input("HSG-2", 4, "2.50")]

    plain = await mutate(buyer, ISSUE_ORDER, order_input(supplier_id, client_id, lines))
    await mutate(
        supplier, ACKNOWLEDGE_ORDER, {"orderId": plain["id"], "promisedDate": NEGOTIATED_PROMISE}
    )

    dealt = await mutate(buyer, ISSUE_ORDER, order_input(supplier_id, client_id, lines))
    o = dealt["id"]
    price = [{"lineNo": 1, "unitPrice": "12.75"}]
    await mutate(
        supplier,
        PROPOSE_CHANGES,
        {"orderId": o, "promisedDate": NEGOTIATED_PROMISE, "lines": price, "note": "steel"},
    )
    await mutate(buyer, RESPOND_TO_PROPOSAL, {"orderId": o, "accept": True, "note": "fine"})
    amend = [{"lineNo": 2, "unitPrice": "2.95"}]
    await mutate(buyer, AMEND_ORDER, {"orderId": o, "lines": amend, "reason": "new quote"})
    again = [{"lineNo": 1, "unitPrice": "13.10"}]
    await mutate(supplier, PROPOSE_CHANGES, {"orderId": o, "lines": again, "note": "steel again"})
    await mutate(buyer, RESPOND_TO_PROPOSAL, {"orderId": o, "accept": False, "note": "no"})
    await mutate(supplier, ACKNOWLEDGE_ORDER, {"orderId": o, "promisedDate": NEGOTIATED_PROMISE})
    return as_role("client", client_id=client_id), plain, dealt


@dataclass(frozen=True)
class PageSecrets:
    """Everything the order's client must not see; the page twins differ in all of it."""

    supplier: str
    email: str
    subject: str
    price: str
    terms: str
    internal: str
    note: str
    van: str
    van_reference: str
    van_url: str
    receipt_note: str
    invoice: str | None


PAGE_TWINS = (
    PageSecrets(
        "Apex Sheet Metal",
        "po@apex.example",
        "apex-ops",
        "12.50",
        "Net 30",
        "margin 40%",
        "steel from Hagen",
        "Van 3, Dave",
        "RUN-17",
        "https://apex.example/runs/17",
        "two dented",
        "INV-0042",
    ),
    PageSecrets(
        "Brightline Fab",
        "sales@bright.example",
        "bl-planner",
        "19.99",
        "Net 60",
        "backup shop",
        "laser down",
        "Sprinter, Ana",
        "DR-9",
        "https://bright.example/drive/9",
        "all fine",
        None,
    ),
)


async def tracking_twin(
    http: httpx.AsyncClient, clock: FixedClock, org: str, s: PageSecrets
) -> str:
    """One tracking-page twin (``PAGE_TWINS``) in ``org``: its order, the whole way, with
    its secrets in every place they can go; the URL of a tracking link to it. The clock
    restarts, so both twins share every time."""
    clock.now = T0
    buyer = GraphQL(http, make_token("buyer", org=org))
    supplier_id = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": s.supplier, "contactEmail": s.email})
    )["id"]
    client_id = (await mutate(buyer, CREATE_CLIENT, {"name": "Contoso Robotics"}))["id"]
    lines = [line_input("BRKT-1001", 5, s.price, "Bracket"), line_input("PIN-2002", 10, s.price)]
    order = (
        await mutate(
            buyer,
            ISSUE_ORDER,
            order_input(
                supplier_id,
                client_id,
                lines,
                clientReference="CR-7",
                terms=s.terms,
                internalNote=s.internal,
                leadTimeDays=len(s.supplier),
            ),
        )
    )["id"]
    sup = GraphQL(http, make_token("supplier", org=org, subject=s.subject, supplier_id=supplier_id))
    steps = [
        (sup, ACKNOWLEDGE_ORDER, {"promisedDate": "2026-03-20", "note": s.note}),
        (sup, START_PRODUCTION, {"note": s.note}),
        (sup, ADD_MILESTONE, {"note": s.note}),
        (sup, UPDATE_PROMISED_DATE, {"promisedDate": "2026-03-22", "reason": s.note}),
        (
            sup,
            DISPATCH_ORDER,
            {
                "method": "COURIER",
                "carrier": "DHL",
                "trackingReference": "JD1",
                "trackingUrl": "https://track.example/JD1",
                "lines": [{"lineNo": 1, "quantity": 5}],
            },
        ),
        (
            sup,
            DISPATCH_ORDER,
            {
                "method": "OWN_DRIVER",
                "carrier": s.van,
                "trackingReference": s.van_reference,
                "trackingUrl": s.van_url,
            },
        ),
        (
            buyer,
            RECEIVE_DELIVERY,
            {"lines": [{"lineNo": 1, "quantity": 5}], "note": s.receipt_note},
        ),
    ]
    shipments: list[dict[str, str]] = []
    for caller, document, data in steps:
        clock.advance(hours=3)
        found = await mutate(caller, document, {"orderId": order, **data})
        shipments = found.get("shipments", shipments)
    van = next(x["id"] for x in shipments if x["method"] == "OWN_DRIVER")
    clock.advance(hours=3)
    await mutate(
        sup,
        UPDATE_SHIPMENT,
        {
            "shipmentId": van,
            "status": "OUT_FOR_DELIVERY",
            "estimatedArrival": "2026-03-04",
            "note": s.note,
        },
    )
    clock.advance(hours=3)
    if s.invoice is not None:
        invoice = {
            "orderId": order,
            "number": s.invoice,
            "lines": [{"lineNo": 1, "quantity": 5, "unitPrice": s.price}],
        }
        await mutate(sup, SUBMIT_INVOICE, invoice)
    clock.advance(hours=3)
    made = await mutate(buyer, CREATE_TRACKING_LINK, {"orderId": order})
    return str(made["url"])
