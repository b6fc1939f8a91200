"""The canary world: two organisations of parties and orders, every canary value in
place (a supplier name, prices, notes no one would type), and the table of who may see
each one. Seeded through the public mutations; the redaction and compiler tests search
every response for these values byte by byte.

Long because the canary table is data: one row per value, read as one list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from conftest import GraphQL, make_token
from graphql_support import (
    ACKNOWLEDGE_ORDER,
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    DISPATCH_ORDER,
    ISSUE_ORDER,
    RECEIVE_DELIVERY,
    START_PRODUCTION,
    SUBMIT_INVOICE,
    line_input,
    mutate,
    order_input,
)
from worlds.journey import MainOrder, cancel_after_acknowledgement, deliver_and_invoice, issue_main

# -- the canaries ------------------------------------------------------------------------

SUPPLIER_NAME = "CANARY-SUPPLIER-7f3a"
SUPPLIER_EMAIL = "canary-7f3a@supplier.example"
SUPPLIER_SUBJECT = "canary-subject-supplier-1c9b"
UNIT_PRICE = "13377.31"  # x 3 on the main order
LINE_TOTAL = "40131.93"
SECOND_UNIT_PRICE = "2468.13"  # x 2 on the main order
SECOND_LINE_TOTAL = "4936.26"
ORDER_TOTAL = "45068.19"
TWIN_LINE_TOTAL = "66886.55"  # 13377.31 x 5
INTERNAL_NOTE = "CANARY-INTERNAL-5d1e"
TERMS = "CANARY-TERMS-22b0"
SUPPLIER_NOTE = "CANARY-SUPNOTE-0a9c"
INVOICE_NUMBER = "CANARY-INV-3c7d"
COURIER_CARRIER = "CANARY-CARRIER-91c2"  # a client may see this one: a courier's name
OWN_DRIVER_CARRIER = "CANARY-OWNDRIVER-e5a0"  # the supplier's own van: never to a client
OWN_DRIVER_REFERENCE = "CANARY-OWNREF-71c3"  # the van's run sheet names the supplier
OWN_DRIVER_URL = "https://canary-ownvan-9d2e.example/runs/7"
MAIN_PART = "CANARY-A-PART-e0b7"
CLIENT_NAME = "CANARY-CLIENT-b41e"
CLIENT_REFERENCE = "CANARY-CREF-77aa"
CLIENT_SUBJECT = "canary-subject-client-8e02"

OTHER_SUPPLIER_NAME = "CANARY-SUPPLIER-B-6b1f"
OTHER_SUPPLIER_EMAIL = "canary-b-6b1f@supplier.example"
OTHER_SUPPLIER_SUBJECT = "canary-subject-supplier-b-47d3"
OTHER_UNIT_PRICE = "86420.97"
OTHER_TWIN_LINE_TOTAL = "432104.85"  # 86420.97 x 5
OTHER_LINE_TOTAL = "172841.94"  # 86420.97 x 2
OTHER_SUPPLIER_NOTE = "CANARY-SUPNOTE-B-1f60"
OTHER_SUPPLIER_TERMS = "CANARY-TERMS-B-90c4"
OTHER_CARRIER = "CANARY-CARRIER-B-2e7a"
OTHER_PART = "CANARY-B-PART-4d21"
OTHER_CLIENT_NAME = "CANARY-CLIENT-B-93e2"
OTHER_CLIENT_REFERENCE = "CANARY-CREF-B-5c19"
OTHER_CLIENT_SUBJECT = "canary-subject-client-b-2a58"
CROSS_PART = "CANARY-AB-PART-a5e3"  # supplier A's job for client B

ORG_A, ORG_B = "org-a", "org-b"
ORG_B_SUPPLIER_NAME = "CANARY-ORGB-SUPPLIER-d2c5"
ORG_B_SUPPLIER_EMAIL = "canary-d2c5@orgb.example"
ORG_B_SUPPLIER_SUBJECT = "canary-subject-orgb-supplier-77e1"
ORG_B_CLIENT_NAME = "CANARY-ORGB-CLIENT-e7f1"
ORG_B_CLIENT_REFERENCE = "CANARY-ORGB-CREF-0b3e"
ORG_B_INTERNAL_NOTE = "CANARY-ORGB-INTERNAL-4a6c"
ORG_B_TERMS = "CANARY-ORGB-TERMS-9a41"
ORG_B_PART = "CANARY-ORGB-PART-71f0"
ORG_B_UNIT_PRICE = "31415.93"
ORG_B_SUPPLIER_NOTE = "CANARY-ORGB-SUPNOTE-3b8d"
ORG_B_CARRIER = "CANARY-ORGB-CARRIER-8d9e"
ORG_B_INVOICE_NUMBER = "CANARY-ORGB-INV-6f2a"

# Buyer-written without visibleTo: the buyer's alone (cancel reasons included).
BUYER_CANCEL_REASON = "Client moved the build to next quarter"
# Buyer-written without visibleTo, on the receipt and its event: the buyer's alone.
RECEIPT_NOTE = "CANARY-RECEIPT-NOTE-6b0e claim vs supplier"
PROMISED = "2026-03-25"
PROMISED_LATER = "2026-03-27"

# The viewers the redaction tests look through.
BUYER_A, CLIENT_A, CLIENT_B = "buyer of org A", "client A", "client B"
SUPPLIER_A, SUPPLIER_B, BUYER_B = "supplier A", "supplier B", "buyer of org B"
ORG_A_PARTIES = frozenset({BUYER_A, CLIENT_A, CLIENT_B, SUPPLIER_A, SUPPLIER_B})


@dataclass(frozen=True)
class Canary:
    name: str
    value: str
    seen_by: frozenset[str]  # everyone else must never receive these bytes


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
    promised_later=PROMISED_LATER,
    supplier_note=SUPPLIER_NOTE,
    courier_carrier=COURIER_CARRIER,
    courier_tracking="TRK-1001",
    own_driver_carrier=OWN_DRIVER_CARRIER,
    own_driver_reference=OWN_DRIVER_REFERENCE,
    own_driver_url=OWN_DRIVER_URL,
    invoice_number=INVOICE_NUMBER,
    receipt_note=RECEIPT_NOTE,
)


# -- the world ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRef:
    id: str
    number: str


@dataclass
class World:
    """Two orgs of parties and orders, every canary in place, and a caller per viewer.

    Org A: supplier A (the canary supplier) and supplier B, client A (the canary client)
    and client B. Orders (supplier / client / stage):
      main        A / A  DELIVERED, a COURIER and an OWN_DRIVER shipment, an invoice
      cancelled   A / A  CANCELLED by the buyer after a supplier milestone
      twin_a      A / A  ISSUED, 5 x TWIN-PART at 13377.31
      twin_b      B / A  ISSUED, identical but for supplier and price (86420.97)
      cross       A / B  ISSUED
      b_issued    B / B  ISSUED
      b_acked     B / B  ACKNOWLEDGED
      b_dispatched B / B  DISPATCHED (one of two units)
    Org B: its own supplier, client and a delivered, invoiced order.
    """

    http: httpx.AsyncClient
    callers: dict[str, GraphQL]
    supplier_a: str
    supplier_b: str
    client_a: str
    client_b: str
    org_b_supplier: str
    org_b_client: str
    orders: dict[str, OrderRef]
    shipments: dict[str, str]  # courier, own_driver, b_courier, org_b
    invoices: dict[str, str]  # main, org_b
    receipts: dict[str, str]  # main, org_b
    canaries: list[Canary] = field(default_factory=list)

    def caller(self, viewer: str) -> GraphQL:
        return self.callers[viewer]

    def hidden_from(self, viewer: str) -> dict[str, str]:
        """Every canary ``viewer`` must never receive, by name."""
        return {c.name: c.value for c in self.canaries if viewer not in c.seen_by}

    def org_a_ids(self) -> dict[str, str]:
        """Every org-A object id, by a readable name."""
        ids = {
            "supplier A": self.supplier_a,
            "supplier B": self.supplier_b,
            "client A": self.client_a,
            "client B": self.client_b,
        }
        ids |= {f"order {k}": o.id for k, o in self.orders.items() if k != "org_b"}
        ids |= {f"shipment {k}": s for k, s in self.shipments.items() if k != "org_b"}
        ids |= {f"invoice {k}": i for k, i in self.invoices.items() if k != "org_b"}
        ids |= {f"receipt {k}": r for k, r in self.receipts.items() if k != "org_b"}
        return ids

    def all_ids(self) -> dict[str, str]:
        return self.org_a_ids() | {
            "org B supplier": self.org_b_supplier,
            "org B client": self.org_b_client,
            "org B order": self.orders["org_b"].id,
            "org B shipment": self.shipments["org_b"],
            "org B invoice": self.invoices["org_b"],
            "org B receipt": self.receipts["org_b"],
        }


def _callers(http: httpx.AsyncClient, ids: Mapping[str, str]) -> dict[str, GraphQL]:
    def token(role: str, org: str, subject: str, **claims: str) -> GraphQL:
        return GraphQL(http, make_token(role, org=org, subject=subject, **claims))

    return {
        BUYER_A: token("buyer", ORG_A, "buyer-user@org-a"),
        BUYER_B: token("buyer", ORG_B, "buyer-user@org-b"),
        SUPPLIER_A: token("supplier", ORG_A, SUPPLIER_SUBJECT, supplier_id=ids["supplier_a"]),
        SUPPLIER_B: token("supplier", ORG_A, OTHER_SUPPLIER_SUBJECT, supplier_id=ids["supplier_b"]),
        CLIENT_A: token("client", ORG_A, CLIENT_SUBJECT, client_id=ids["client_a"]),
        CLIENT_B: token("client", ORG_A, OTHER_CLIENT_SUBJECT, client_id=ids["client_b"]),
        "org B supplier": token(
            "supplier", ORG_B, ORG_B_SUPPLIER_SUBJECT, supplier_id=ids["org_b_supplier"]
        ),
    }


async def seed_world(http: httpx.AsyncClient) -> World:
    """Build the world through the buyer's and the suppliers' mutations (about 40 calls)."""
    buyer = GraphQL(http, make_token("buyer", org=ORG_A, subject="buyer-user@org-a"))
    buyer_b = GraphQL(http, make_token("buyer", org=ORG_B, subject="buyer-user@org-b"))
    # The parties, in this order: (whose buyer, document, name, contact e-mail).
    parties = {
        "supplier_a": (buyer, CREATE_SUPPLIER, SUPPLIER_NAME, SUPPLIER_EMAIL),
        "supplier_b": (buyer, CREATE_SUPPLIER, OTHER_SUPPLIER_NAME, OTHER_SUPPLIER_EMAIL),
        "client_a": (buyer, CREATE_CLIENT, CLIENT_NAME, None),
        "client_b": (buyer, CREATE_CLIENT, OTHER_CLIENT_NAME, None),
        "org_b_supplier": (buyer_b, CREATE_SUPPLIER, ORG_B_SUPPLIER_NAME, ORG_B_SUPPLIER_EMAIL),
        "org_b_client": (buyer_b, CREATE_CLIENT, ORG_B_CLIENT_NAME, None),
    }
    ids = {}
    for key, (gql, document, name, email) in parties.items():
        data = {"name": name} | ({"contactEmail": email} if email else {})
        ids[key] = (await mutate(gql, document, data))["id"]
    callers = _callers(http, ids)
    sup_a, sup_b = callers[SUPPLIER_A], callers[SUPPLIER_B]
    sup_org_b = callers["org B supplier"]
    sa, sb, ca, cb = ids["supplier_a"], ids["supplier_b"], ids["client_a"], ids["client_b"]

    async def issue(gql: GraphQL, data: dict[str, Any]) -> OrderRef:
        order = await mutate(gql, ISSUE_ORDER, data)
        return OrderRef(order["id"], order["number"])

    # Every order but the main one: (supplier, client, lines, more of the input), issued
    # in this order after the main one, then org B's.
    twin = line_input("TWIN-PART-1", 5, UNIT_PRICE, "Twin housing")
    on_a = {"clientReference": CLIENT_REFERENCE, "internalNote": INTERNAL_NOTE}
    on_b = {"clientReference": OTHER_CLIENT_REFERENCE, "internalNote": INTERNAL_NOTE}
    two_of_b = (
        sb,
        cb,
        [line_input(OTHER_PART, 2, OTHER_UNIT_PRICE)],
        on_b | {"terms": OTHER_SUPPLIER_TERMS},
    )
    plan: dict[str, tuple[str, str, list[dict[str, Any]], dict[str, str]]] = {
        "cancelled": (
            sa,
            ca,
            [line_input(MAIN_PART, 1, UNIT_PRICE)],
            {"internalNote": INTERNAL_NOTE},
        ),
        "twin_a": (sa, ca, [twin], on_a),
        "twin_b": (sb, ca, [{**twin, "unitPrice": OTHER_UNIT_PRICE}], on_a),
        "cross": (sa, cb, [line_input(CROSS_PART, 1, UNIT_PRICE)], on_b | {"terms": TERMS}),
        "b_acked": two_of_b,
        "b_issued": (sb, cb, [line_input(OTHER_PART, 1, OTHER_UNIT_PRICE)], on_b),
        "b_dispatched": two_of_b,
    }
    main_order = await issue_main(buyer, sa, ca, MAIN)
    orders = {"main": OrderRef(main_order["id"], main_order["number"])}
    for name, (supplier, client, lines, more) in plan.items():
        orders[name] = await issue(buyer, order_input(supplier, client, lines, **more))
    orders["org_b"] = await issue(
        buyer_b,
        order_input(
            ids["org_b_supplier"],
            ids["org_b_client"],
            [line_input(ORG_B_PART, 1, ORG_B_UNIT_PRICE)],
            clientReference=ORG_B_CLIENT_REFERENCE,
            terms=ORG_B_TERMS,
            internalNote=ORG_B_INTERNAL_NOTE,
        ),
    )

    def oid(name: str) -> str:
        return orders[name].id

    # The main order: the whole journey, every supplier note a canary.
    main = await deliver_and_invoice(buyer, sup_a, main_order, MAIN)

    # Cancelled by the buyer after the supplier's milestone.
    await cancel_after_acknowledgement(
        buyer,
        sup_a,
        oid("cancelled"),
        promised=PROMISED,
        milestone_note=SUPPLIER_NOTE,
        reason=BUYER_CANCEL_REASON,
    )

    # Supplier B's jobs in the stages where each of its actions would apply.
    await mutate(
        sup_b,
        ACKNOWLEDGE_ORDER,
        {"orderId": oid("b_acked"), "promisedDate": PROMISED, "note": OTHER_SUPPLIER_NOTE},
    )
    b_dispatched = oid("b_dispatched")
    await mutate(
        sup_b,
        ACKNOWLEDGE_ORDER,
        {"orderId": b_dispatched, "promisedDate": PROMISED, "note": OTHER_SUPPLIER_NOTE},
    )
    await mutate(sup_b, START_PRODUCTION, {"orderId": b_dispatched, "note": OTHER_SUPPLIER_NOTE})
    b_courier = await mutate(
        sup_b,
        DISPATCH_ORDER,
        {
            "orderId": b_dispatched,
            "method": "COURIER",
            "carrier": OTHER_CARRIER,
            "lines": [{"lineNo": 1, "quantity": 1}],
        },
    )

    # Org B's order, the whole way.
    org_b = oid("org_b")
    await mutate(
        sup_org_b,
        ACKNOWLEDGE_ORDER,
        {"orderId": org_b, "promisedDate": PROMISED, "note": ORG_B_SUPPLIER_NOTE},
    )
    await mutate(sup_org_b, START_PRODUCTION, {"orderId": org_b})
    org_b_shipment = await mutate(
        sup_org_b, DISPATCH_ORDER, {"orderId": org_b, "method": "COURIER", "carrier": ORG_B_CARRIER}
    )
    org_b_received = await mutate(
        buyer_b, RECEIVE_DELIVERY, {"orderId": org_b, "lines": [{"lineNo": 1, "quantity": 1}]}
    )
    org_b_invoice = await mutate(
        sup_org_b,
        SUBMIT_INVOICE,
        {
            "orderId": org_b,
            "number": ORG_B_INVOICE_NUMBER,
            "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": ORG_B_UNIT_PRICE}],
        },
    )

    world = World(
        http=http,
        callers=callers,
        supplier_a=sa,
        supplier_b=sb,
        client_a=ca,
        client_b=cb,
        org_b_supplier=ids["org_b_supplier"],
        org_b_client=ids["org_b_client"],
        orders=orders,
        shipments={
            "courier": main.courier_shipment,
            "own_driver": main.own_driver_shipment,
            "b_courier": b_courier["shipments"][0]["id"],
            "org_b": org_b_shipment["shipments"][0]["id"],
        },
        invoices={"main": main.invoice, "org_b": org_b_invoice["id"]},
        receipts={"main": main.receipt, "org_b": org_b_received["receipts"][0]["id"]},
    )
    world.canaries = _canaries(world)
    return world


def _canaries(w: World) -> list[Canary]:
    a_sup = frozenset({BUYER_A, SUPPLIER_A})
    b_sup = frozenset({BUYER_A, SUPPLIER_B})
    a_cli = frozenset({BUYER_A, CLIENT_A})
    b_cli = frozenset({BUYER_A, CLIENT_B})
    org_b = frozenset({BUYER_B})
    table: list[tuple[str, str, frozenset[str]]] = [
        # supplier A's identity, prices, terms, notes, invoice, own van
        ("supplier A name", SUPPLIER_NAME, a_sup),
        ("supplier A contact email", SUPPLIER_EMAIL, a_sup),
        ("supplier A id", w.supplier_a, a_sup),
        ("supplier A token subject", SUPPLIER_SUBJECT, a_sup),
        ("unit price", UNIT_PRICE, a_sup),
        ("line total", LINE_TOTAL, a_sup),
        ("second unit price", SECOND_UNIT_PRICE, a_sup),
        ("second line total", SECOND_LINE_TOTAL, a_sup),
        ("order total", ORDER_TOTAL, a_sup),
        ("twin line total", TWIN_LINE_TOTAL, a_sup),
        ("terms", TERMS, a_sup),
        ("supplier note", SUPPLIER_NOTE, a_sup),
        ("invoice number", INVOICE_NUMBER, a_sup),
        ("invoice id", w.invoices["main"], a_sup),
        ("receipt id", w.receipts["main"], a_sup),
        ("OWN_DRIVER carrier", OWN_DRIVER_CARRIER, a_sup),
        ("OWN_DRIVER tracking reference", OWN_DRIVER_REFERENCE, a_sup),
        ("OWN_DRIVER tracking link", OWN_DRIVER_URL, a_sup),
        ("COURIER carrier", COURIER_CARRIER, a_sup | {CLIENT_A}),
        ("main order part", MAIN_PART, a_sup | {CLIENT_A}),
        ("cross order part", CROSS_PART, a_sup | {CLIENT_B}),
        # the buyer's own notes
        ("internal note", INTERNAL_NOTE, frozenset({BUYER_A})),
        ("receipt note", RECEIPT_NOTE, frozenset({BUYER_A})),
        ("cancel reason", BUYER_CANCEL_REASON, frozenset({BUYER_A})),
        # client A
        ("client A name", CLIENT_NAME, a_cli),
        ("client A id", w.client_a, a_cli),
        ("client reference", CLIENT_REFERENCE, a_cli),
        ("client A token subject", CLIENT_SUBJECT, frozenset({CLIENT_A})),
        # supplier B and its jobs
        ("supplier B name", OTHER_SUPPLIER_NAME, b_sup),
        ("supplier B contact email", OTHER_SUPPLIER_EMAIL, b_sup),
        ("supplier B id", w.supplier_b, b_sup),
        ("supplier B token subject", OTHER_SUPPLIER_SUBJECT, b_sup),
        ("supplier B unit price", OTHER_UNIT_PRICE, b_sup),
        ("supplier B twin line total", OTHER_TWIN_LINE_TOTAL, b_sup),
        ("supplier B line total", OTHER_LINE_TOTAL, b_sup),
        ("supplier B note", OTHER_SUPPLIER_NOTE, b_sup),
        ("supplier B terms", OTHER_SUPPLIER_TERMS, b_sup),
        ("supplier B carrier", OTHER_CARRIER, b_sup | {CLIENT_B}),
        ("supplier B part", OTHER_PART, b_sup | {CLIENT_B}),
        # client B
        ("client B name", OTHER_CLIENT_NAME, b_cli),
        ("client B id", w.client_b, b_cli),
        ("client B reference", OTHER_CLIENT_REFERENCE, b_cli),
        ("client B token subject", OTHER_CLIENT_SUBJECT, frozenset({CLIENT_B})),
        # organisations
        ("org A key", ORG_A, ORG_A_PARTIES),
        ("org B key", ORG_B, org_b),
        ("org B supplier name", ORG_B_SUPPLIER_NAME, org_b),
        ("org B supplier email", ORG_B_SUPPLIER_EMAIL, org_b),
        ("org B supplier id", w.org_b_supplier, org_b),
        ("org B supplier subject", ORG_B_SUPPLIER_SUBJECT, org_b),
        ("org B client name", ORG_B_CLIENT_NAME, org_b),
        ("org B client id", w.org_b_client, org_b),
        ("org B client reference", ORG_B_CLIENT_REFERENCE, org_b),
        ("org B internal note", ORG_B_INTERNAL_NOTE, org_b),
        ("org B terms", ORG_B_TERMS, org_b),
        ("org B part", ORG_B_PART, org_b),
        ("org B unit price", ORG_B_UNIT_PRICE, org_b),
        ("org B supplier note", ORG_B_SUPPLIER_NOTE, org_b),
        ("org B carrier", ORG_B_CARRIER, org_b),
        ("org B invoice number", ORG_B_INVOICE_NUMBER, org_b),
        ("org B order id", w.orders["org_b"].id, org_b),
        ("org B shipment id", w.shipments["org_b"], org_b),
        ("org B invoice id", w.invoices["org_b"], org_b),
        ("org B receipt id", w.receipts["org_b"], org_b),
    ]
    # Org A's order and shipment ids: each seen by the buyer and the order's two parties.
    parties = {
        "main": a_sup | {CLIENT_A},
        "cancelled": a_sup | {CLIENT_A},
        "twin_a": a_sup | {CLIENT_A},
        "twin_b": b_sup | {CLIENT_A},
        "cross": a_sup | {CLIENT_B},
        "b_issued": b_sup | {CLIENT_B},
        "b_acked": b_sup | {CLIENT_B},
        "b_dispatched": b_sup | {CLIENT_B},
    }
    table += [(f"order {k} id", w.orders[k].id, seen) for k, seen in parties.items()]
    table += [
        ("COURIER shipment id", w.shipments["courier"], parties["main"]),
        ("OWN_DRIVER shipment id", w.shipments["own_driver"], parties["main"]),
        ("supplier B shipment id", w.shipments["b_courier"], parties["b_dispatched"]),
    ]
    return [Canary(name, value, seen_by) for name, value, seen_by in table]
