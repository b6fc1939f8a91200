"""Oracles: ways to learn a hidden value without ever reading it. A client cannot filter
or sort by supplier or price; orders that differ only in supplier and price read the
same to it; cursors carry nothing but a sort name and an id already given; counts count
only what the caller may see; search matches only columns the caller can see.
"""

from __future__ import annotations

import re
from typing import Any

from conftest import GraphQL
from graphql_support import (
    ACKNOWLEDGE_ORDER,
    DISPATCH_ORDER,
    ISSUE_ORDER,
    NEED_BY,
    RECEIVE_DELIVERY,
    START_PRODUCTION,
    SUBMIT_INVOICE,
    mutate,
)
from permissions.principal import Role
from redaction_support import MaximalSelection, cursors_in, decode_cursor, leaked, strings_in
from schema.build import schema_for
from worlds.canary import (
    BUYER_A,
    CLIENT_A,
    CLIENT_NAME,
    CLIENT_REFERENCE,
    CROSS_PART,
    INTERNAL_NOTE,
    INVOICE_NUMBER,
    LINE_TOTAL,
    MAIN_PART,
    ORDER_TOTAL,
    OTHER_CLIENT_REFERENCE,
    OTHER_PART,
    OWN_DRIVER_CARRIER,
    PROMISED,
    SUPPLIER_A,
    SUPPLIER_EMAIL,
    SUPPLIER_NAME,
    SUPPLIER_NOTE,
    TERMS,
    UNIT_PRICE,
    OrderRef,
    World,
)

HIDDEN_SORT = "{ orders(orderBy: TOTAL_DESC) { totalCount edges { node { id } } } }"
HIDDEN_SUPPLIER_FILTER = (
    "query BySupplier($id: ID) { orders(filter: {supplierId: $id}) { totalCount } }"
)
HIDDEN_PRICE_FILTER = '{ orders(filter: {minTotal: "13377.31"}) { totalCount } }'
HIDDEN_SORT_VARIABLE = "query Sorted($s: OrderSort!) { orders(orderBy: $s) { totalCount } }"

ORDER_PAGE = """
query OrderPage($first: Int, $after: String, $filter: OrderFilter, $orderBy: OrderSort!) {
  orders(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

CLIENT_TWIN_VIEW = MaximalSelection(Role.CLIENT, depth=3)
TWIN = CLIENT_TWIN_VIEW.document(
    f"query Twin($id: ID!) {{ order(id: $id) {CLIENT_TWIN_VIEW.of('Order')} "
    f"node(id: $id) {CLIENT_TWIN_VIEW.of_member('Node', 'Order')} }}"
)
BUYER_TWIN = """
query BuyerTwin($id: ID!) { order(id: $id) { supplier { id } total lines { unitPrice } } }
"""

CLIENT_CURSORS = MaximalSelection(Role.CLIENT, depth=6)
SUPPLIER_CURSORS = MaximalSelection(Role.SUPPLIER, depth=6)
ALL_CURSORS = {
    CLIENT_A: CLIENT_CURSORS.document(
        "query Cursors($orderBy: OrderSort!, $after: String) { "
        "orders(orderBy: $orderBy, first: 2, after: $after) "
        f"{CLIENT_CURSORS.of('OrderConnection')} "
        f"clients {CLIENT_CURSORS.of('ClientConnection')} }}"
    ),
    SUPPLIER_A: SUPPLIER_CURSORS.document(
        "query Cursors($orderBy: OrderSort!, $after: String) { "
        "orders(orderBy: $orderBy, first: 2, after: $after) "
        f"{SUPPLIER_CURSORS.of('OrderConnection')} "
        f"suppliers {SUPPLIER_CURSORS.of('SupplierConnection')} }}"
    ),
}

NESTED_COUNTS = {
    CLIENT_A: "{ clients { totalCount edges { node { id orders { totalCount } } } } }",
    SUPPLIER_A: "{ suppliers { totalCount edges { node { id orders { totalCount } } } } }",
}


def _sorts(role: Role) -> list[str]:
    return list(schema_for(role)._schema.get_type("OrderSort").values)  # type: ignore[union-attr]


# -- filters and sorts ------------------------------------------------------------------


async def test_a_client_cannot_filter_or_sort_orders_by_supplier_or_price(world: World) -> None:
    # given
    gql = world.caller(CLIENT_A)
    attempts: list[tuple[str, dict[str, Any] | None]] = [
        (HIDDEN_SORT, None),
        (HIDDEN_SUPPLIER_FILTER, {"id": world.supplier_a}),
        (HIDDEN_PRICE_FILTER, None),
        (HIDDEN_SORT_VARIABLE, {"s": "TOTAL_DESC"}),
    ]

    # when
    bodies = [await gql(document, variables) for document, variables in attempts]

    # then: rejected before execution; no data at all, so nothing to compare
    for body in bodies:
        assert body.get("data") is None, body
        assert body["errors"]


# -- twins ----------------------------------------------------------------------------------


def _without(text: str, *values: str) -> str:
    """The text with the given values, and any shipment or event id, blanked out."""
    for value in values:
        text = text.replace(value, "…")
    return re.sub(r"(shp|evt)_[a-z2-7]{20}", r"\1_…", text)


async def test_orders_differing_only_in_supplier_and_price_read_the_same_to_the_client(
    world: World,
) -> None:
    # given: the twins differ, as the buyer sees them
    a, b = world.orders["twin_a"], world.orders["twin_b"]
    buyer = world.caller(BUYER_A)
    buyer_a = await buyer(BUYER_TWIN, {"id": a.id})
    buyer_b = await buyer(BUYER_TWIN, {"id": b.id})
    assert buyer_a["data"]["order"]["supplier"] != buyer_b["data"]["order"]["supplier"]
    assert buyer_a["data"]["order"]["total"] != buyer_b["data"]["order"]["total"]

    # when
    gql = world.caller(CLIENT_A)
    seen_a = await gql.raw(TWIN, {"id": a.id})
    seen_b = await gql.raw(TWIN, {"id": b.id})

    # then: the same bytes, once each order's own id and number are blanked
    assert seen_a.json()["data"]["order"] is not None
    assert _without(seen_a.text, a.id, a.number) == _without(seen_b.text, b.id, b.number)


async def test_an_invoice_leaves_no_trace_the_client_can_see(world: World) -> None:
    # given: two orders with the same history, one of them invoiced
    buyer, supplier = world.caller(BUYER_A), world.caller(SUPPLIER_A)
    line = {"partNumber": "PAIR-PART", "quantity": 1, "unitPrice": "10.00"}
    pair = []
    for _ in range(2):
        order = await mutate(
            buyer,
            ISSUE_ORDER,
            {"supplierId": world.supplier_a, "clientId": world.client_a, "needBy": NEED_BY,
             "currency": "EUR", "lines": [line]},
        )  # fmt: skip
        pair.append(OrderRef(order["id"], order["number"]))
        await mutate(
            supplier, ACKNOWLEDGE_ORDER, {"orderId": order["id"], "promisedDate": PROMISED}
        )
        await mutate(supplier, START_PRODUCTION, {"orderId": order["id"]})
        await mutate(supplier, DISPATCH_ORDER, {"orderId": order["id"], "method": "OWN_DRIVER"})
        await mutate(
            buyer,
            RECEIVE_DELIVERY,
            {"orderId": order["id"], "lines": [{"lineNo": 1, "quantity": 1}]},
        )
    invoiced, plain = pair
    await mutate(
        supplier,
        SUBMIT_INVOICE,
        {"orderId": invoiced.id, "number": "INV-PAIR-1",
         "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": "10.00"}]},
    )  # fmt: skip

    # when
    gql = world.caller(CLIENT_A)
    seen_invoiced = await gql.raw(TWIN, {"id": invoiced.id})
    seen_plain = await gql.raw(TWIN, {"id": plain.id})

    # then
    assert seen_plain.json()["data"]["order"]["stage"] == "DELIVERED"
    assert _without(seen_invoiced.text, invoiced.id, invoiced.number) == _without(
        seen_plain.text, plain.id, plain.number
    )


# -- cursors ------------------------------------------------------------------------------


async def _every_page(gql: GraphQL, viewer: str, role: Role) -> list[tuple[str, Any]]:
    """Every sort, paged two at a time, with every nested connection."""
    bodies: list[tuple[str, Any]] = []
    for sort in _sorts(role):
        after = None
        while True:
            body = await gql(ALL_CURSORS[viewer], {"orderBy": sort, "after": after})
            bodies.append((sort, body))
            page = body["data"]["orders"]["pageInfo"]
            if not page["hasNextPage"]:
                break
            after = page["endCursor"]
    return bodies


VIEWERS = {CLIENT_A: Role.CLIENT, SUPPLIER_A: Role.SUPPLIER}


async def test_every_cursor_holds_only_the_sort_and_an_id_the_caller_was_given(
    world: World,
) -> None:
    for viewer, role in VIEWERS.items():
        # given
        gql = world.caller(viewer)
        hidden = world.hidden_from(viewer)

        # when
        bodies = await _every_page(gql, viewer, role)

        # then
        _check_cursors(world, bodies, hidden)


def _check_cursors(world: World, bodies: list[tuple[str, Any]], hidden: dict[str, str]) -> None:
    decoded_count = 0
    for sort, body in bodies:
        given = set(strings_in(body))
        for cursor in cursors_in(body):
            decoded = decode_cursor(cursor)
            version, cursor_sort, row_id = decoded.split("|")
            assert version == "c1"
            assert cursor_sort in (sort, "NAME", "ISSUED_AT_DESC"), decoded
            assert row_id in given, f"{decoded} names an id not in the response"
            assert leaked(decoded.encode(), hidden) == {}, decoded
            for secret in (UNIT_PRICE, LINE_TOTAL, ORDER_TOTAL, world.supplier_b):
                assert secret not in decoded
            decoded_count += 1
    assert decoded_count > 20


# -- counts --------------------------------------------------------------------------------


def _filters_for(world: World, role: Role) -> list[dict[str, Any]]:
    fields = set(schema_for(role)._schema.get_type("OrderFilter").fields)  # type: ignore[union-attr]
    candidates: list[dict[str, Any]] = [
        {},
        {"stages": ["ISSUED"]},
        {"stages": ["DELIVERED", "CANCELLED"]},
        {"needByAfter": "2026-03-31"},
        {"search": "PART"},
        {"search": "PO-"},
        {"clientId": world.client_a},
        {"clientId": world.client_b},
        {"supplierId": world.supplier_a},
        {"supplierId": world.supplier_b},
        {"minTotal": "1"},
    ]
    return [f for f in candidates if set(f) <= fields]


async def _ids_and_count(gql: GraphQL, flt: dict[str, Any]) -> tuple[set[str], int]:
    body = await gql(ORDER_PAGE, {"first": 100, "filter": flt, "orderBy": "ISSUED_AT_DESC"})
    orders = body["data"]["orders"]
    return {e["node"]["id"] for e in orders["edges"]}, orders["totalCount"]


async def test_total_count_counts_only_the_callers_own_orders_under_every_filter(
    world: World,
) -> None:
    # given
    buyer = world.caller(BUYER_A)
    for viewer, party_filter, own in (
        (CLIENT_A, "clientId", world.client_a),
        (SUPPLIER_A, "supplierId", world.supplier_a),
    ):
        # when / then: what the caller counts is what the buyer counts for that party
        await _check_counts(world, viewer, party_filter, own, buyer)


async def _check_counts(
    world: World, viewer: str, party_filter: str, own: str, buyer: GraphQL
) -> None:
    gql = world.caller(viewer)
    for flt in _filters_for(world, VIEWERS[viewer]):
        ids, count = await _ids_and_count(gql, flt)
        if flt.get(party_filter, own) != own:
            expected_ids: set[str] = set()
        else:
            expected_ids, _ = await _ids_and_count(buyer, {**flt, party_filter: own})
        assert ids == expected_ids, flt
        assert count == len(expected_ids), flt
    _, total = await _ids_and_count(gql, {})
    assert total == 4
    nested = await gql(NESTED_COUNTS[viewer])
    [party] = nested["data"].values()
    assert party["totalCount"] == 1
    assert [e["node"]["orders"]["totalCount"] for e in party["edges"]] == [4]
    assert [e["node"]["id"] for e in party["edges"]] == [own]


# -- search --------------------------------------------------------------------------------


async def test_a_client_search_for_supplier_or_price_values_finds_nothing(world: World) -> None:
    # given
    gql = world.caller(CLIENT_A)
    buyer = world.caller(BUYER_A)
    hidden_terms = [
        SUPPLIER_NAME,
        "CANARY-SUPPLIER",
        SUPPLIER_EMAIL,
        world.supplier_a,
        UNIT_PRICE,
        "13377",
        LINE_TOTAL,
        ORDER_TOTAL,
        TERMS,
        INTERNAL_NOTE,
        SUPPLIER_NOTE,
        INVOICE_NUMBER,
        OWN_DRIVER_CARRIER,
        "EUR",
        OTHER_PART,
        CROSS_PART,
        OTHER_CLIENT_REFERENCE,
    ]

    # when
    found = {term: await _ids_and_count(gql, {"search": term}) for term in hidden_terms}

    # then
    assert {t: r for t, r in found.items() if r != (set(), 0)} == {}
    main, cancelled = world.orders["main"].id, world.orders["cancelled"].id
    twins = {world.orders["twin_a"].id, world.orders["twin_b"].id}
    assert await _ids_and_count(gql, {"search": MAIN_PART}) == ({main, cancelled}, 2)
    assert await _ids_and_count(gql, {"search": CLIENT_REFERENCE}) == ({main, *twins}, 3)
    assert await _ids_and_count(buyer, {"search": MAIN_PART}) == ({main, cancelled}, 2)
    assert (await _ids_and_count(buyer, {"search": OTHER_PART}))[
        1
    ] == 3  # b_issued, acked, dispatched


async def test_a_supplier_search_for_client_values_finds_nothing(world: World) -> None:
    # given
    gql = world.caller(SUPPLIER_A)
    hidden_terms = [CLIENT_REFERENCE, "CANARY-CREF", CLIENT_NAME, world.client_a, OTHER_PART]

    # when
    found = {term: await _ids_and_count(gql, {"search": term}) for term in hidden_terms}

    # then
    assert {t: r for t, r in found.items() if r != (set(), 0)} == {}
    assert await _ids_and_count(gql, {"search": CROSS_PART}) == ({world.orders["cross"].id}, 1)
