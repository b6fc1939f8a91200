"""NULL per row: fields that exist for a role but read null on some rows, on every path
that reaches them (order, node, orderByNumber, the orders list, the client's own
orders). Shipment.carrier is null to a client on OWN_DRIVER shipments (the carrier is
the supplier itself); OrderEvent.actorSubject is null to a client unless the buyer wrote
the event; a note reaches only its audience (a buyer's note without visibleTo, like this
world's cancel reason, is the buyer's alone); the supplier sees its own notes.
(Notes with and without visibleTo: ``test_note_audiences.py``.)
"""

from __future__ import annotations

from typing import Any

from conftest import GraphQL
from worlds.canary import (
    BUYER_A,
    CLIENT_A,
    COURIER_CARRIER,
    INVOICE_NUMBER,
    OWN_DRIVER_CARRIER,
    PROMISED,
    PROMISED_LATER,
    SUPPLIER_A,
    SUPPLIER_NOTE,
    SUPPLIER_SUBJECT,
    World,
)

ROWS = """
fragment Rows on Order {
  id
  events { kind actorRole actorSubject note promisedDate }
  shipments { id method carrier }
}
"""

# Extra variables are ignored, so every path gets both $id and $number.
ORDER_PATHS = {
    "order": "query ById($id: ID!) { order(id: $id) { ...Rows } }",
    "node": "query ByNode($id: ID!) { node(id: $id) { ...Rows } }",
    "orderByNumber": (
        "query ByNumber($number: String!) { orderByNumber(number: $number) { ...Rows } }"
    ),
    "orders": "query Listed { orders(first: 100) { edges { node { ...Rows } } } }",
}
CLIENT_ONLY_PATHS = {
    "clients.orders": "query ClientOrders "
    "{ clients(first: 2) { edges { node { orders(first: 100) { edges { node { ...Rows } } } } } "
    "} }",
}
SUPPLIER_ONLY_PATHS = {
    "suppliers.orders": "query SupplierOrders "
    "{ suppliers(first: 2) { edges { node { orders(first: 100) { edges { node { ...Rows } } } } "
    "} } }",
}

SHIPMENT_NODE = "query Shipment($id: ID!) { node(id: $id) { ... on Shipment { method carrier } } }"

BUYER = "buyer-user@org-a"


def _find(value: Any, order_id: str) -> list[dict[str, Any]]:
    """Every selection of the order ``order_id`` anywhere in a response."""
    if isinstance(value, dict):
        if value.get("id") == order_id and "events" in value:
            return [value]
        return [found for item in value.values() for found in _find(item, order_id)]
    if isinstance(value, list):
        return [found for item in value for found in _find(item, order_id)]
    return []


async def _through_every_path(gql: GraphQL, paths: dict[str, str], order: Any) -> dict:
    seen = {}
    for name, document in paths.items():
        body = await gql(document + ROWS, {"id": order.id, "number": order.number})
        assert "errors" not in body, body
        [found] = _find(body["data"], order.id)
        seen[name] = found
    return seen


def _by_method(shipments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(shipments, key=lambda s: s["method"] != "COURIER")


def _event(kind: str, role: str, subject: str | None, note: str | None, promised=None) -> dict:
    return {
        "kind": kind,
        "actorRole": role,
        "actorSubject": subject,
        "note": note,
        "promisedDate": promised,
    }


# -- Shipment.carrier ------------------------------------------------------------------


# viewer -> (the paths it has to the order, the OWN_DRIVER carrier it should read)
CARRIER_VIEWS = {
    CLIENT_A: (ORDER_PATHS | CLIENT_ONLY_PATHS, None),
    SUPPLIER_A: (ORDER_PATHS | SUPPLIER_ONLY_PATHS, OWN_DRIVER_CARRIER),
    BUYER_A: (ORDER_PATHS | CLIENT_ONLY_PATHS | SUPPLIER_ONLY_PATHS, OWN_DRIVER_CARRIER),
}


async def test_the_carrier_of_an_own_driver_shipment_is_null_only_for_the_client(
    world: World,
) -> None:
    for viewer, (paths, own_driver_carrier) in CARRIER_VIEWS.items():
        # given
        gql = world.caller(viewer)

        # when
        seen = await _through_every_path(gql, paths, world.orders["main"])
        by_node = {
            method: await gql(SHIPMENT_NODE, {"id": world.shipments[key]})
            for method, key in (("COURIER", "courier"), ("OWN_DRIVER", "own_driver"))
        }

        # then (both shipments left at the same instant: their order is the ids')
        courier = {"method": "COURIER", "carrier": COURIER_CARRIER}
        own_driver = {"method": "OWN_DRIVER", "carrier": own_driver_carrier}
        expected = [
            {"id": world.shipments["courier"], **courier},
            {"id": world.shipments["own_driver"], **own_driver},
        ]
        assert {path: _by_method(order["shipments"]) for path, order in seen.items()} == {
            path: expected for path in paths
        }, viewer
        assert by_node == {
            "COURIER": {"data": {"node": courier}},
            "OWN_DRIVER": {"data": {"node": own_driver}},
        }, viewer


# -- OrderEvent.note / actorSubject -----------------------------------------------------


async def test_the_client_sees_only_the_buyers_actors_and_no_note_it_was_not_given(
    world: World,
) -> None:
    # given
    gql = world.caller(CLIENT_A)

    # when
    main = await _through_every_path(gql, ORDER_PATHS | CLIENT_ONLY_PATHS, world.orders["main"])
    cancelled = await _through_every_path(
        gql, ORDER_PATHS | CLIENT_ONLY_PATHS, world.orders["cancelled"]
    )

    # then: supplier-written notes and subjects are null, and so is the buyer's cancel
    # reason (shared with nobody); the invoice event is not there
    main_events = [
        _event("ISSUED", "buyer", BUYER, None),
        _event("ACKNOWLEDGED", "supplier", None, None, PROMISED),
        _event("PRODUCTION_STARTED", "supplier", None, None),
        _event("PROMISE_UPDATED", "supplier", None, None, PROMISED_LATER),
        _event("MILESTONE", "supplier", None, None),
        _event("DISPATCHED", "supplier", None, None),
        _event("DISPATCHED", "supplier", None, None),
        _event("RECEIVED", "buyer", BUYER, None),
        _event("DELIVERED", "buyer", BUYER, None),
    ]
    cancelled_events = [
        _event("ISSUED", "buyer", BUYER, None),
        _event("ACKNOWLEDGED", "supplier", None, None, PROMISED),
        _event("MILESTONE", "supplier", None, None),
        _event("CANCELLED", "buyer", BUYER, None),
    ]
    assert {p: o["events"] for p, o in main.items()} == {p: main_events for p in main}
    assert {p: o["events"] for p, o in cancelled.items()} == {
        p: cancelled_events for p in cancelled
    }


async def test_the_supplier_sees_its_own_notes_and_subjects_but_not_the_buyers_own_notes(
    world: World,
) -> None:
    # given
    gql = world.caller(SUPPLIER_A)

    # when
    main = await _through_every_path(gql, ORDER_PATHS | SUPPLIER_ONLY_PATHS, world.orders["main"])
    cancelled = await _through_every_path(
        gql, ORDER_PATHS | SUPPLIER_ONLY_PATHS, world.orders["cancelled"]
    )

    # then
    main_events = [
        _event("ISSUED", "buyer", BUYER, None),
        _event("ACKNOWLEDGED", "supplier", SUPPLIER_SUBJECT, SUPPLIER_NOTE, PROMISED),
        _event("PRODUCTION_STARTED", "supplier", SUPPLIER_SUBJECT, SUPPLIER_NOTE),
        _event("PROMISE_UPDATED", "supplier", SUPPLIER_SUBJECT, SUPPLIER_NOTE, PROMISED_LATER),
        _event("MILESTONE", "supplier", SUPPLIER_SUBJECT, SUPPLIER_NOTE),
        _event("DISPATCHED", "supplier", SUPPLIER_SUBJECT, None),
        _event("DISPATCHED", "supplier", SUPPLIER_SUBJECT, None),
        _event("RECEIVED", "buyer", BUYER, None),
        _event("DELIVERED", "buyer", BUYER, None),
        _event("INVOICE_SUBMITTED", "supplier", SUPPLIER_SUBJECT, f"invoice {INVOICE_NUMBER}"),
    ]
    cancelled_events = [
        _event("ISSUED", "buyer", BUYER, None),
        _event("ACKNOWLEDGED", "supplier", SUPPLIER_SUBJECT, None, PROMISED),
        _event("MILESTONE", "supplier", SUPPLIER_SUBJECT, SUPPLIER_NOTE),
        _event("CANCELLED", "buyer", BUYER, None),
    ]
    assert {p: o["events"] for p, o in main.items()} == {p: main_events for p in main}
    assert {p: o["events"] for p, o in cancelled.items()} == {
        p: cancelled_events for p in cancelled
    }
