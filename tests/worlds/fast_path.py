"""The fast-path world: a small org seeded through the public mutations, with every
relation a page prefetches and canaries where a row rule or a HIDE must bite (values of
its own, ``FASTCANARY-…``, so a leak names its world). Its main order walks the same
journey as the canary world's (``worlds.journey``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from conftest import GraphQL, make_token
from db.engine import Database
from graphql_support import (
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    ISSUE_ORDER,
    line_input,
    mutate,
    order_input,
)
from permissions.principal import Principal, Role
from worlds.journey import (
    MainOrder,
    add_buyer_notes,
    cancel_after_acknowledgement,
    deliver_and_invoice,
    issue_main,
)

# -- the canaries --------------------------------------------------------------------------

SUPPLIER_NAME = "FASTCANARY-SUPPLIER-3e8d"
SUPPLIER_EMAIL = "fastcanary-3e8d@supplier.example"
SUPPLIER_SUBJECT = "fastcanary-subject-supplier-61a0"
UNIT_PRICE = "24681.37"  # x 3 on the main order
LINE_TOTAL = "74044.11"
SECOND_UNIT_PRICE = "1357.93"  # x 2 on the main order
ORDER_TOTAL = "76759.97"
TERMS = "FASTCANARY-TERMS-0c4e"
INTERNAL_NOTE = "FASTCANARY-INTERNAL-9b17"  # Order.internalNote: the buyer's alone
INTERNAL_EVENT_NOTE = "FASTCANARY-INTERNAL-EVENT-5f02"  # a buyer's note shared with nobody
SUPPLIER_NOTE = "FASTCANARY-SUPNOTE-d7a3"
INVOICE_NUMBER = "FASTCANARY-INV-88e1"
COURIER_CARRIER = "FASTCANARY-COURIER-2b6f"  # a courier's name: a client may see it
OWN_DRIVER_CARRIER = "FASTCANARY-OWNDRIVER-a41c"  # the supplier's own van: never a client's
OWN_DRIVER_REFERENCE = "FASTCANARY-OWNREF-7d90"
OWN_DRIVER_URL = "https://fastcanary-ownvan-c3e5.example/runs/4"
MAIN_PART = "FASTCANARY-PART-5a2b"
CLIENT_NAME = "FASTCANARY-CLIENT-e9f4"
CLIENT_REFERENCE = "FASTCANARY-CREF-1d3c"
CLIENT_SUBJECT = "fastcanary-subject-client-04b8"
BUYER_CANCEL_REASON = "FASTCANARY-CANCEL-buyer-wrote-this-6c1d"  # no visibleTo: the buyer's
OTHER_SUPPLIER_NAME = "FASTCANARY-SUPPLIER-B-97d2"
OTHER_PART = "FASTCANARY-B-PART-40aa"
PROMISED = "2026-03-25"

# What a client must never receive, in any order it can see.
HIDDEN_FROM_CLIENT = {
    "supplier name": SUPPLIER_NAME,
    "supplier email": SUPPLIER_EMAIL,
    "supplier subject": SUPPLIER_SUBJECT,
    "unit price": UNIT_PRICE,
    "line total": LINE_TOTAL,
    "second unit price": SECOND_UNIT_PRICE,
    "order total": ORDER_TOTAL,
    "terms": TERMS,
    "internal note": INTERNAL_NOTE,
    "internal event note": INTERNAL_EVENT_NOTE,
    "cancel reason": BUYER_CANCEL_REASON,
    "supplier note": SUPPLIER_NOTE,
    "invoice number": INVOICE_NUMBER,
    "own driver carrier": OWN_DRIVER_CARRIER,
    "own driver reference": OWN_DRIVER_REFERENCE,
    "own driver url": OWN_DRIVER_URL,
    "other supplier": OTHER_SUPPLIER_NAME,
}

# The main order's journey (``worlds.journey``) with this world's canaries.
MAIN = MainOrder(
    part=MAIN_PART,
    unit_price=UNIT_PRICE,
    second_unit_price=SECOND_UNIT_PRICE,
    order_total=ORDER_TOTAL,
    client_reference=CLIENT_REFERENCE,
    terms=TERMS,
    internal_note=INTERNAL_NOTE,
    promised=PROMISED,
    supplier_note=SUPPLIER_NOTE,
    courier_carrier=COURIER_CARRIER,
    courier_tracking="TRK-2002",
    own_driver_carrier=OWN_DRIVER_CARRIER,
    own_driver_reference=OWN_DRIVER_REFERENCE,
    own_driver_url=OWN_DRIVER_URL,
    invoice_number=INVOICE_NUMBER,
)

# -- the world -----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Org A: supplier A (the canary supplier), supplier B, one client. Orders:
    main        A / client  DELIVERED: supplier notes, a COURIER and an OWN_DRIVER
                            shipment, a receipt, an invoice, a buyer-internal event
    cancelled   A / client  CANCELLED by the buyer (a buyer-written note)
    no_client   A / -       ISSUED, never acknowledged (an alert once the clock moves)
    other       B / client  ISSUED: not supplier A's
    """

    supplier_a: str
    supplier_b: str
    client_id: str
    orders: dict[str, str]

    def principal(self, role: Role) -> Principal:
        if role is Role.CLIENT:
            return Principal(role, "org-a", CLIENT_SUBJECT, client_id=self.client_id)
        if role is Role.SUPPLIER:
            return Principal(role, "org-a", SUPPLIER_SUBJECT, supplier_id=self.supplier_a)
        return Principal(role, "org-a", "buyer-user@org-a")

    def caller(self, http: httpx.AsyncClient, role: Role) -> GraphQL:
        p = self.principal(role)
        claims = {"client_id": p.client_id, "supplier_id": p.supplier_id}
        return GraphQL(http, make_token(role.value, subject=p.subject, **claims))

    def visible_orders(self, role: Role) -> set[str]:
        if role is Role.CLIENT:
            return {self.orders[k] for k in ("main", "cancelled", "other")}
        if role is Role.SUPPLIER:
            return {self.orders[k] for k in ("main", "cancelled", "no_client")}
        return set(self.orders.values())


async def seed_world(http: httpx.AsyncClient, db: Database, now: datetime) -> World:
    """About 20 mutations through the API, and one buyer's note event of a kind no
    mutation writes, shared with nobody."""
    buyer = GraphQL(http, make_token("buyer"))
    sa = (
        await mutate(
            buyer, CREATE_SUPPLIER, {"name": SUPPLIER_NAME, "contactEmail": SUPPLIER_EMAIL}
        )
    )["id"]
    sb = (await mutate(buyer, CREATE_SUPPLIER, {"name": OTHER_SUPPLIER_NAME}))["id"]
    client = (await mutate(buyer, CREATE_CLIENT, {"name": CLIENT_NAME}))["id"]
    sup_a = GraphQL(http, make_token("supplier", subject=SUPPLIER_SUBJECT, supplier_id=sa))

    async def issue(data: dict[str, Any]) -> str:
        return str((await mutate(buyer, ISSUE_ORDER, data))["id"])

    main = await issue_main(buyer, sa, client, MAIN)
    orders = {
        "main": str(main["id"]),
        "cancelled": await issue(order_input(sa, client, [line_input(MAIN_PART, 1, UNIT_PRICE)])),
        "no_client": await issue(
            order_input(sa, None, [line_input(f"{MAIN_PART}-3", 4, SECOND_UNIT_PRICE)], terms=TERMS)
        ),
        "other": await issue(order_input(sb, client, [line_input(OTHER_PART, 1, "10.00")])),
    }
    await deliver_and_invoice(buyer, sup_a, main, MAIN)
    await cancel_after_acknowledgement(
        buyer, sup_a, orders["cancelled"], promised=PROMISED, reason=BUYER_CANCEL_REASON
    )
    await add_buyer_notes(db, orders["main"], now, [(INTERNAL_EVENT_NOTE, frozenset())])
    return World(supplier_a=sa, supplier_b=sb, client_id=client, orders=orders)
