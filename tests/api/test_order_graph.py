"""The buyer's order graph over HTTP: issue an order, read it back through every entry
point, and the ways issuing can fail (nothing written), idempotency, pagination,
filters and sorts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import FixedClock, GraphQL
from db import models
from db.engine import Database
from db.ids import new_id

CREATE_SUPPLIER = """
mutation CreateSupplier($input: CreateSupplierInput!) {
  createSupplier(input: $input) {
    supplier { id name contactEmail }
    userErrors { code message field }
  }
}
"""

CREATE_CLIENT = """
mutation CreateClient($input: CreateClientInput!) {
  createClient(input: $input) {
    client { id name }
    userErrors { code message field }
  }
}
"""

ISSUE_ORDER = """
mutation IssueOrder($input: IssueOrderInput!) {
  issueOrder(input: $input) {
    order { id number total }
    userErrors { code message field }
  }
}
"""

ISSUE_ORDER_LITERAL = """
mutation IssueOrderLiteral {
  issueOrder(input: {supplierId: "SUPPLIER_ID", needBy: "2026-04-01", currency: "EUR",
                     lines: [{partNumber: "BRKT-1001", quantity: 1, unitPrice: 12.5}]}) {
    order { id }
  }
}
"""

ORDER_GRAPH = """
fragment OrderGraph on Order {
  id number stage clientReference currency total terms leadTimeDays
  needBy promisedDate outlook
  issuedAt acknowledgedAt productionStartedAt dispatchedAt deliveredAt stageEnteredAt
  internalNote version
  supplier { id name contactEmail }
  client { id name }
  lines { lineNo partNumber description quantity unitPrice lineTotal
          dispatchedQuantity receivedQuantity }
  events { at stage kind actorRole actorSubject note promisedDate }
  shipments { id }
  receipts { id }
  invoices { id }
}
"""

ORDER = "query Order($id: ID!) { order(id: $id) { ...OrderGraph } }" + ORDER_GRAPH

ORDER_BY_NUMBER = (
    "query OrderByNumber($number: String!) { orderByNumber(number: $number) { ...OrderGraph } }"
    + ORDER_GRAPH
)

NODE = "query Node($id: ID!) { node(id: $id) { __typename ...OrderGraph } }" + ORDER_GRAPH

ORDERS_GRAPH = (
    "query Orders { orders { totalCount edges { cursor node { ...OrderGraph } } } }" + ORDER_GRAPH
)

PARTY_ORDERS = """
query PartyOrders {
  suppliers { edges { node { name orders { totalCount edges { node { number } } } } } }
  clients { edges { node { name orders { totalCount edges { node { number } } } } } }
}
"""

ORDER_PAGE = """
query OrderPage($first: Int, $after: String, $filter: OrderFilter, $orderBy: OrderSort!) {
  orders(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id number total needBy issuedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

ORDER_COUNT = "query OrderCount { orders { totalCount } }"

SUPPLIER_COUNT = "query SupplierCount { suppliers { totalCount } }"

CLIENT_COUNT = "query ClientCount { clients { totalCount } }"

NEED_BY = "2026-04-01"  # a month after the fixed clock's date
ISSUED_AT = "2026-03-02T09:00:00+00:00"  # the fixed clock, as the API prints it


# -- helpers ---------------------------------------------------------------------------


async def create_supplier(
    gql: GraphQL, name: str = "Northwind Machining", email: str = "orders@northwind.example"
) -> dict[str, Any]:
    body = await gql(CREATE_SUPPLIER, {"input": {"name": name, "contactEmail": email}})
    payload = body["data"]["createSupplier"]
    assert payload["userErrors"] == []
    return payload["supplier"]


async def create_client(gql: GraphQL, name: str = "Contoso Robotics") -> dict[str, Any]:
    body = await gql(CREATE_CLIENT, {"input": {"name": name}})
    payload = body["data"]["createClient"]
    assert payload["userErrors"] == []
    return payload["client"]


def order_input(supplier_id: str, client_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid IssueOrderInput: two lines, 3 x 12.50 and 4 x 7.125."""
    data: dict[str, Any] = {
        "supplierId": supplier_id,
        "clientId": client_id,
        "clientReference": "CR-4711",
        "needBy": NEED_BY,
        "currency": "EUR",
        "terms": "Net 30",
        "leadTimeDays": 14,
        "internalNote": "second source if late",
        "lines": [
            {"partNumber": "BRKT-1001", "description": "Bracket", "quantity": 3,
             "unitPrice": "12.50"},
            {"partNumber": "HSG-2002", "quantity": 4, "unitPrice": "7.125"},
        ],
    }  # fmt: skip
    data.update(changes)
    return data


async def issue_order(gql: GraphQL, data: dict[str, Any]) -> dict[str, Any]:
    body = await gql(ISSUE_ORDER, {"input": data})
    payload = body["data"]["issueOrder"]
    assert payload["userErrors"] == []
    return payload["order"]


async def order_count(gql: GraphQL) -> int:
    body = await gql(ORDER_COUNT)
    count: int = body["data"]["orders"]["totalCount"]
    return count


async def rows_in_database(db: Database) -> dict[str, int]:
    """How many rows each order-related table holds: the truth behind 'nothing written'."""
    tables = (models.Order, models.OrderLine, models.OrderEvent, models.IdempotencyRecord)
    async with db.read_session() as session:
        return {
            t.__tablename__: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in tables
        }


# -- one order, read back through every entry point ------------------------------------


async def test_an_issued_order_reads_back_exactly_through_every_entry_point(
    buyer: GraphQL,
) -> None:
    # given
    supplier = await create_supplier(buyer)
    client = await create_client(buyer)

    # when
    issued = await issue_order(buyer, order_input(supplier["id"], client["id"]))

    # then
    expected = {
        "id": issued["id"],
        "number": issued["number"],
        "stage": "ISSUED",
        "clientReference": "CR-4711",
        "currency": "EUR",
        "total": "66.00",
        "terms": "Net 30",
        "leadTimeDays": 14,
        "needBy": NEED_BY,
        "promisedDate": None,
        "outlook": "ON_TRACK",
        "issuedAt": ISSUED_AT,
        "acknowledgedAt": None,
        "productionStartedAt": None,
        "dispatchedAt": None,
        "deliveredAt": None,
        "stageEnteredAt": ISSUED_AT,
        "internalNote": "second source if late",
        "version": 1,
        "supplier": {
            "id": supplier["id"],
            "name": "Northwind Machining",
            "contactEmail": "orders@northwind.example",
        },
        "client": {"id": client["id"], "name": "Contoso Robotics"},
        "lines": [
            {"lineNo": 1, "partNumber": "BRKT-1001", "description": "Bracket", "quantity": 3,
             "unitPrice": "12.50", "lineTotal": "37.50", "dispatchedQuantity": 0,
             "receivedQuantity": 0},
            {"lineNo": 2, "partNumber": "HSG-2002", "description": None, "quantity": 4,
             "unitPrice": "7.125", "lineTotal": "28.50", "dispatchedQuantity": 0,
             "receivedQuantity": 0},
        ],
        "events": [
            {"at": ISSUED_AT, "stage": "ISSUED", "kind": "ISSUED", "actorRole": "buyer",
             "actorSubject": "buyer-user@org-a", "note": None, "promisedDate": None},
        ],
        "shipments": [],
        "receipts": [],
        "invoices": [],
    }  # fmt: skip
    assert re.fullmatch(r"PO-260302-[2-9A-Z]{6}", issued["number"])
    assert issued["total"] == "66.00"
    assert Decimal(expected["total"]) == sum(
        Decimal(line["lineTotal"]) for line in expected["lines"]
    )

    by_id = await buyer(ORDER, {"id": issued["id"]})
    assert by_id == {"data": {"order": expected}}

    by_number = await buyer(ORDER_BY_NUMBER, {"number": issued["number"]})
    assert by_number == {"data": {"orderByNumber": expected}}

    by_node = await buyer(NODE, {"id": issued["id"]})
    assert by_node == {"data": {"node": {"__typename": "Order", **expected}}}

    listed = await buyer(ORDERS_GRAPH)
    assert listed["data"]["orders"]["totalCount"] == 1
    [edge] = listed["data"]["orders"]["edges"]
    assert edge["node"] == expected


async def test_an_order_without_a_client_has_a_null_client(buyer: GraphQL) -> None:
    # given
    supplier = await create_supplier(buyer)

    # when
    issued = await issue_order(buyer, order_input(supplier["id"]))

    # then
    body = await buyer(ORDER, {"id": issued["id"]})
    assert body["data"]["order"]["client"] is None
    assert body["data"]["order"]["supplier"]["id"] == supplier["id"]


async def test_the_order_is_listed_under_its_supplier_and_its_client(buyer: GraphQL) -> None:
    # given
    supplier = await create_supplier(buyer)
    await create_supplier(buyer, name="Apex Sheet Metal", email="sales@apex.example")
    client = await create_client(buyer)
    number = (await issue_order(buyer, order_input(supplier["id"], client["id"])))["number"]

    # when
    body = await buyer(PARTY_ORDERS)

    # then
    suppliers = {e["node"]["name"]: e["node"]["orders"] for e in body["data"]["suppliers"]["edges"]}
    assert suppliers == {
        "Apex Sheet Metal": {"totalCount": 0, "edges": []},
        "Northwind Machining": {"totalCount": 1, "edges": [{"node": {"number": number}}]},
    }
    [client_edge] = body["data"]["clients"]["edges"]
    assert client_edge["node"]["orders"] == {
        "totalCount": 1,
        "edges": [{"node": {"number": number}}],
    }


async def test_unknown_ids_read_as_null_through_every_entry_point(buyer: GraphQL) -> None:
    # given
    supplier = await create_supplier(buyer)
    await issue_order(buyer, order_input(supplier["id"]))
    unknown = new_id("ord")

    # when / then
    assert await buyer(ORDER, {"id": unknown}) == {"data": {"order": None}}
    assert await buyer(NODE, {"id": unknown}) == {"data": {"node": None}}
    assert await buyer(ORDER, {"id": "garbage"}) == {"data": {"order": None}}
    assert await buyer(ORDER, {"id": supplier["id"]}) == {"data": {"order": None}}
    assert await buyer(ORDER_BY_NUMBER, {"number": "PO-000002"}) == {
        "data": {"orderByNumber": None}
    }


# -- issueOrder: every user error, nothing written -------------------------------------


def _line(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["lines"][index].update(changes)

    return change


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.update(changes)


BAD_ORDER_INPUTS = {
    "zero quantity": (
        _line(0, quantity=0),
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "negative quantity": (
        _line(1, quantity=-5),
        [("VALIDATION", ["input", "lines", "1", "quantity"])],
    ),
    "negative unit price": (
        _line(1, unitPrice="-0.01"),
        [("VALIDATION", ["input", "lines", "1", "unitPrice"])],
    ),
    "unknown supplier": (
        _set(supplierId=new_id("sup")),
        [("NOT_FOUND", ["input", "supplierId"])],
    ),
    "unknown client": (
        _set(clientId=new_id("cli")),
        [("NOT_FOUND", ["input", "clientId"])],
    ),
    "no lines": (
        _set(lines=[]),
        [("VALIDATION", ["input", "lines"])],
    ),
    "need-by date in the past": (
        _set(needBy="2026-03-01"),
        [("VALIDATION", ["input", "needBy"])],
    ),
    "lower-case currency": (
        _set(currency="eur"),
        [("VALIDATION", ["input", "currency"])],
    ),
    "four-letter currency": (
        _set(currency="EURO"),
        [("VALIDATION", ["input", "currency"])],
    ),
    "empty part number": (
        _line(0, partNumber="  "),
        [("VALIDATION", ["input", "lines", "0", "partNumber"])],
    ),
}


async def test_issue_order_reports_each_bad_input_and_writes_nothing(
    buyer: GraphQL, db: Database, subtests: pytest.Subtests
) -> None:
    # given
    supplier = await create_supplier(buyer)
    client = await create_client(buyer)
    before = await rows_in_database(db)

    for case, (change, expected) in BAD_ORDER_INPUTS.items():
        with subtests.test(case):
            data = order_input(supplier["id"], client["id"], idempotencyKey=f"bad-{case}")
            change(data)

            # when
            body = await buyer(ISSUE_ORDER, {"input": data})

            # then
            payload = body["data"]["issueOrder"]
            assert payload["order"] is None
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
            assert all(e["message"] for e in payload["userErrors"])
            assert await order_count(buyer) == 0
            assert await rows_in_database(db) == before


async def test_a_supplier_of_another_org_is_not_found_exactly_like_an_unknown_one(
    buyer: GraphQL, as_role: Callable[..., GraphQL], db: Database
) -> None:
    # given
    other_buyer = as_role("buyer", org="org-b")
    foreign = await create_supplier(other_buyer, name="Foreign Works", email="x@foreign.example")
    before = await rows_in_database(db)

    # when
    foreign_body = await buyer(ISSUE_ORDER, {"input": order_input(foreign["id"])})
    unknown_body = await buyer(ISSUE_ORDER, {"input": order_input(new_id("sup"))})

    # then
    assert foreign_body == unknown_body
    assert foreign_body["data"]["issueOrder"]["userErrors"] == [
        {"code": "NOT_FOUND", "message": "no such supplier", "field": ["input", "supplierId"]}
    ]
    assert await order_count(buyer) == 0
    assert await order_count(other_buyer) == 0
    assert await rows_in_database(db) == before


async def test_a_client_of_another_org_is_not_found_exactly_like_an_unknown_one(
    buyer: GraphQL, as_role: Callable[..., GraphQL]
) -> None:
    # given
    supplier = await create_supplier(buyer)
    foreign = await create_client(as_role("buyer", org="org-b"), name="Foreign Client")

    # when
    foreign_body = await buyer(ISSUE_ORDER, {"input": order_input(supplier["id"], foreign["id"])})
    unknown_body = await buyer(ISSUE_ORDER, {"input": order_input(supplier["id"], new_id("cli"))})

    # then
    assert foreign_body == unknown_body
    assert foreign_body["data"]["issueOrder"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert await order_count(buyer) == 0


async def test_issue_order_reports_every_problem_at_once(buyer: GraphQL, db: Database) -> None:
    # given
    data = order_input(
        new_id("sup"),
        new_id("cli"),
        needBy="2025-12-31",
        currency="euro",
        lines=[
            {"partNumber": "BRKT-1001", "quantity": 0, "unitPrice": "12.50"},
            {"partNumber": "HSG-2002", "quantity": 1, "unitPrice": "-3"},
        ],
    )

    # when
    body = await buyer(ISSUE_ORDER, {"input": data})

    # then
    payload = body["data"]["issueOrder"]
    assert payload["order"] is None
    assert sorted((e["code"], e["field"]) for e in payload["userErrors"]) == [
        ("NOT_FOUND", ["input", "clientId"]),
        ("NOT_FOUND", ["input", "supplierId"]),
        ("VALIDATION", ["input", "currency"]),
        ("VALIDATION", ["input", "lines", "0", "quantity"]),
        ("VALIDATION", ["input", "lines", "1", "unitPrice"]),
        ("VALIDATION", ["input", "needBy"]),
    ]
    assert await order_count(buyer) == 0
    assert (await rows_in_database(db))["orders"] == 0


async def test_a_need_by_date_of_today_is_accepted(buyer: GraphQL, clock: FixedClock) -> None:
    # given
    supplier = await create_supplier(buyer)

    # when
    order = await issue_order(
        buyer, order_input(supplier["id"], needBy=clock.now.date().isoformat())
    )

    # then
    assert order["number"].startswith("PO-260302-")


async def test_a_float_unit_price_literal_is_refused_with_a_helpful_message(
    buyer: GraphQL, db: Database
) -> None:
    # given
    supplier = await create_supplier(buyer)
    document = ISSUE_ORDER_LITERAL.replace("SUPPLIER_ID", supplier["id"])

    # when
    body = await buyer(document)

    # then
    assert body.get("data") is None
    assert "Decimal must be a string" in body["errors"][0]["message"]
    assert (await rows_in_database(db))["orders"] == 0


MIN_TOTAL = "query MinTotal($v: Decimal!) { orders(filter: {minTotal: $v}) { totalCount } }"
NEED_BY_BEFORE = "query NeedBy($v: Date!) { orders(filter: {needByBefore: $v}) { totalCount } }"
PAGE_SIZE = "query PageSize($v: Int!) { orders(first: $v) { totalCount } }"

BAD_VARIABLES = {
    "a float for a Decimal": (MIN_TOTAL, 12.5),
    "an impossible Date": (NEED_BY_BEFORE, "2026-02-30"),
    "a string for an Int": (PAGE_SIZE, "ten"),
}


async def test_a_badly_typed_variable_is_refused_with_a_helpful_message(buyer: GraphQL) -> None:
    messages = {}
    for case, (document, value) in BAD_VARIABLES.items():
        # when
        body = await buyer(document, {"v": value})

        # then
        assert body.get("data") is None
        [error] = body["errors"]
        messages[case] = error["message"]
    assert [case for case, message in messages.items() if "$v" not in message] == []


# -- createSupplier / createClient ---------------------------------------------------


BAD_SUPPLIERS = [
    ("", "orders@northwind.example", ["input", "name"]),
    ("   ", None, ["input", "name"]),
    ("Northwind Machining", "not-an-email", ["input", "contactEmail"]),
    ("Northwind Machining", "two@@signs.example", ["input", "contactEmail"]),
]


async def test_create_supplier_reports_each_bad_input_and_writes_nothing(
    buyer: GraphQL, subtests: pytest.Subtests
) -> None:
    for name, email, field_path in BAD_SUPPLIERS:
        with subtests.test(name=name, email=email):
            # when
            body = await buyer(CREATE_SUPPLIER, {"input": {"name": name, "contactEmail": email}})

            # then
            payload = body["data"]["createSupplier"]
            assert payload["supplier"] is None
            assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
                ("VALIDATION", field_path)
            ]
            assert (await buyer(SUPPLIER_COUNT))["data"]["suppliers"]["totalCount"] == 0


async def test_create_client_with_an_empty_name_reports_validation(buyer: GraphQL) -> None:
    # when
    body = await buyer(CREATE_CLIENT, {"input": {"name": " "}})

    # then
    assert body["data"]["createClient"] == {
        "client": None,
        "userErrors": [
            {"code": "VALIDATION", "message": "must not be empty", "field": ["input", "name"]}
        ],
    }
    assert (await buyer(CLIENT_COUNT))["data"]["clients"]["totalCount"] == 0


# -- idempotency -------------------------------------------------------------------------


async def test_issuing_twice_with_one_idempotency_key_makes_one_order(
    buyer: GraphQL, db: Database
) -> None:
    # given
    supplier = await create_supplier(buyer)
    data = order_input(supplier["id"], idempotencyKey="po-retry-1")

    # when
    first = await issue_order(buyer, data)
    second = await issue_order(buyer, data)

    # then
    assert second == first
    assert first["number"].startswith("PO-260302-")
    assert await order_count(buyer) == 1
    rows = await rows_in_database(db)
    assert (rows["orders"], rows["order_lines"], rows["order_events"]) == (1, 2, 1)


async def test_a_new_idempotency_key_makes_a_new_order(buyer: GraphQL) -> None:
    # given
    supplier = await create_supplier(buyer)

    # when
    first = await issue_order(buyer, order_input(supplier["id"], idempotencyKey="a"))
    second = await issue_order(buyer, order_input(supplier["id"], idempotencyKey="b"))

    # then
    assert first["id"] != second["id"]
    assert first["number"] != second["number"]
    assert await order_count(buyer) == 2


# -- pagination ------------------------------------------------------------------------


async def _seven_orders(buyer: GraphQL, clock: FixedClock) -> list[dict[str, Any]]:
    """Seven orders with distinct totals and need-by dates, two issued at the same instant."""
    supplier = await create_supplier(buyer)
    orders = []
    for i in range(7):
        if i != 4:  # orders 3 and 4 share an issuedAt: the id breaks the tie
            clock.advance(minutes=10)
        data = order_input(
            supplier["id"],
            needBy=(clock.now.date() + timedelta(days=30 - i * 3)).isoformat(),
            lines=[{"partNumber": f"PN-{i}", "quantity": i + 1, "unitPrice": "10.00"}],
        )
        orders.append(await issue_order(buyer, data))
    return orders


async def _page_through(
    gql: GraphQL, first: int, order_by: str, flt: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    pages = []
    after = None
    while True:
        body = await gql(
            ORDER_PAGE, {"first": first, "after": after, "filter": flt, "orderBy": order_by}
        )
        assert "errors" not in body
        pages.append(body["data"]["orders"])
        if not body["data"]["orders"]["pageInfo"]["hasNextPage"]:
            return pages
        after = body["data"]["orders"]["pageInfo"]["endCursor"]
        assert len(pages) < 50, "pagination does not terminate"


async def test_paging_by_three_visits_every_order_once_in_order(
    buyer: GraphQL, clock: FixedClock, subtests: pytest.Subtests
) -> None:
    # given
    issued = await _seven_orders(buyer, clock)

    for order_by in ("ISSUED_AT_DESC", "ISSUED_AT_ASC", "TOTAL_DESC", "NEED_BY_ASC"):
        with subtests.test(order_by=order_by):
            whole = await buyer(ORDER_PAGE, {"first": 100, "orderBy": order_by})

            # when
            pages = await _page_through(buyer, 3, order_by)

            # then
            assert [len(p["edges"]) for p in pages] == [3, 3, 1]
            assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
            assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
            assert all(p["totalCount"] == 7 for p in pages)
            for page in pages:
                assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
                assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
            paged = [e["node"] for p in pages for e in p["edges"]]
            assert paged == [e["node"] for e in whole["data"]["orders"]["edges"]]
            assert sorted(n["id"] for n in paged) == sorted(o["id"] for o in issued)


async def test_orders_are_sorted_by_each_sort_key(buyer: GraphQL, clock: FixedClock) -> None:
    # given
    await _seven_orders(buyer, clock)

    # when
    nodes = {
        order_by: [
            e["node"]
            for e in (await buyer(ORDER_PAGE, {"first": 100, "orderBy": order_by}))["data"][
                "orders"
            ]["edges"]
        ]
        for order_by in ("ISSUED_AT_DESC", "ISSUED_AT_ASC", "TOTAL_DESC", "NEED_BY_ASC")
    }

    # then
    totals = [Decimal(n["total"]) for n in nodes["TOTAL_DESC"]]
    assert totals == sorted(totals, reverse=True)
    assert [n["total"] for n in nodes["TOTAL_DESC"]][:2] == ["70.00", "60.00"]
    need_by = [n["needBy"] for n in nodes["NEED_BY_ASC"]]
    assert need_by == sorted(need_by)
    issued_desc = [n["issuedAt"] for n in nodes["ISSUED_AT_DESC"]]
    assert issued_desc == sorted(issued_desc, reverse=True)
    issued_asc = [n["issuedAt"] for n in nodes["ISSUED_AT_ASC"]]
    assert issued_asc == sorted(issued_asc)


async def test_a_page_size_outside_0_to_100_is_an_error(
    buyer: GraphQL, subtests: pytest.Subtests
) -> None:
    for first in (101, -1, 1000):
        with subtests.test(first=first):
            # when
            body = await buyer(ORDER_PAGE, {"first": first, "orderBy": "ISSUED_AT_DESC"})

            # then
            assert body["data"] is None
            assert [e["message"] for e in body["errors"]] == ["first must be between 0 and 100."]

    for first in (0, 100):
        with subtests.test(first=first):
            body = await buyer(ORDER_PAGE, {"first": first, "orderBy": "ISSUED_AT_DESC"})
            assert "errors" not in body
            assert body["data"]["orders"]["edges"] == []


GARBAGE_CURSORS = [
    "garbage",
    "!!!",
    "",
    "YzF8SVNTVUVEX0FUX0RFU0N8bm90LWFuLWlk",  # c1|ISSUED_AT_DESC|not-an-id
    "YzF8SVNTVUVEX0FUX0RFU0N8b3JkX2FhYWFhYWFhYWFhYWFhYWFhYWFhfGV4dHJh",  # an extra part
]


async def test_a_garbage_cursor_is_an_invalid_cursor_error(
    buyer: GraphQL, subtests: pytest.Subtests
) -> None:
    for cursor in GARBAGE_CURSORS:
        with subtests.test(cursor=cursor):
            # when
            body = await buyer(
                ORDER_PAGE, {"first": 3, "after": cursor, "orderBy": "ISSUED_AT_DESC"}
            )

            # then
            assert body["data"] is None
            assert [e["message"] for e in body["errors"]] == ["Invalid cursor."]


async def test_a_cursor_from_another_sort_is_an_invalid_cursor_error(
    buyer: GraphQL, clock: FixedClock
) -> None:
    # given
    await _seven_orders(buyer, clock)
    page = await buyer(ORDER_PAGE, {"first": 3, "orderBy": "TOTAL_DESC"})
    cursor = page["data"]["orders"]["pageInfo"]["endCursor"]

    # when
    body = await buyer(ORDER_PAGE, {"first": 3, "after": cursor, "orderBy": "ISSUED_AT_DESC"})

    # then
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["Invalid cursor."]


# -- filters -----------------------------------------------------------------------------


async def _filter_world(buyer: GraphQL) -> dict[str, Any]:
    north = await create_supplier(buyer)
    apex = await create_supplier(buyer, name="Apex Sheet Metal", email="sales@apex.example")
    contoso = await create_client(buyer)

    def one_line(part: str, quantity: int, price: str) -> list[dict[str, Any]]:
        return [{"partNumber": part, "quantity": quantity, "unitPrice": price}]

    orders = {
        "small": await issue_order(
            buyer,
            order_input(north["id"], contoso["id"], clientReference="CR-1",
                        lines=one_line("BRKT-1001", 1, "9.99")),
        ),
        "medium": await issue_order(
            buyer,
            order_input(apex["id"], None, clientReference=None,
                        lines=one_line("HSG-2002", 10, "10.00")),
        ),
        "large": await issue_order(
            buyer,
            order_input(north["id"], contoso["id"], clientReference="CR-100%",
                        lines=one_line("gear_3003", 100, "25.00")),
        ),
    }  # fmt: skip
    return {"north": north, "apex": apex, "contoso": contoso, "orders": orders}


async def _numbers(gql: GraphQL, flt: dict[str, Any], order_by: str | None = None) -> Any:
    """PO numbers matching ``flt``: in the API's order for ``order_by``, else sorted."""
    body = await gql(
        ORDER_PAGE, {"first": 100, "filter": flt, "orderBy": order_by or "ISSUED_AT_DESC"}
    )
    assert "errors" not in body, body
    connection = body["data"]["orders"]
    numbers = [e["node"]["number"] for e in connection["edges"]]
    assert connection["totalCount"] == len(numbers)
    return numbers if order_by else sorted(numbers)


async def test_orders_filter_by_stage_supplier_client_search_and_minimum_total(
    buyer: GraphQL,
) -> None:
    # given
    world = await _filter_world(buyer)
    north, apex, contoso = world["north"]["id"], world["apex"]["id"], world["contoso"]["id"]

    n1, n2, n3 = (world["orders"][k]["number"] for k in ("small", "medium", "large"))

    # when / then
    assert world["orders"]["large"]["total"] == "2500.00"
    everything = sorted([n1, n2, n3])
    assert await _numbers(buyer, {}) == everything
    assert await _numbers(buyer, {"stages": ["ISSUED"]}) == everything
    assert await _numbers(buyer, {"stages": ["DISPATCHED", "DELIVERED"]}) == []
    assert await _numbers(buyer, {"supplierId": north}) == sorted([n1, n3])
    assert await _numbers(buyer, {"supplierId": apex}) == [n2]
    assert await _numbers(buyer, {"supplierId": new_id("sup")}) == []
    assert await _numbers(buyer, {"clientId": contoso}) == sorted([n1, n3])
    assert await _numbers(buyer, {"search": n2}) == [n2]
    assert await _numbers(buyer, {"search": "po-260302-"}) == everything
    assert await _numbers(buyer, {"search": "hsg"}) == [n2]
    assert await _numbers(buyer, {"search": "  GEAR_30  "}) == [n3]
    assert await _numbers(buyer, {"search": "CR-1"}) == sorted([n1, n3])
    assert await _numbers(buyer, {"search": "%"}) == [n3]  # literal, not a wildcard
    assert await _numbers(buyer, {"search": "po_2"}) == []  # "_" is literal too
    assert await _numbers(buyer, {"search": "nothing-like-this"}) == []
    assert await _numbers(buyer, {"minTotal": "100.00"}) == sorted([n2, n3])
    assert await _numbers(buyer, {"minTotal": "100"}) == sorted([n2, n3])
    assert await _numbers(buyer, {"minTotal": "100.01"}) == [n3]
    assert await _numbers(buyer, {"minTotal": "9.99"}) == everything
    assert await _numbers(buyer, {"minTotal": "2500.0001"}) == []
    assert await _numbers(buyer, {"supplierId": north, "minTotal": "10"}) == [n3]
    assert await _numbers(buyer, {"minTotal": "0"}, order_by="TOTAL_DESC") == [
        n3,
        n2,
        n1,
    ]


async def test_orders_filter_by_need_by_dates_is_exclusive(buyer: GraphQL) -> None:
    # given
    supplier = await create_supplier(buyer)
    n1, n2, n3 = [
        (await issue_order(buyer, order_input(supplier["id"], needBy=need_by)))["number"]
        for need_by in ("2026-03-10", "2026-03-20", "2026-03-30")
    ]

    # when / then
    assert await _numbers(buyer, {"needByBefore": "2026-03-20"}) == [n1]
    assert await _numbers(buyer, {"needByAfter": "2026-03-20"}) == [n3]
    assert await _numbers(
        buyer, {"needByAfter": "2026-03-09", "needByBefore": "2026-03-31"}
    ) == sorted([n1, n2, n3])


async def test_paging_through_a_filter_keeps_the_filter(buyer: GraphQL, clock: FixedClock) -> None:
    # given
    await _seven_orders(buyer, clock)  # totals 10.00 .. 70.00

    # when
    pages = await _page_through(buyer, 2, "TOTAL_DESC", {"minTotal": "30.00"})

    # then
    totals = [e["node"]["total"] for p in pages for e in p["edges"]]
    assert totals == ["70.00", "60.00", "50.00", "40.00", "30.00"]
    assert {p["totalCount"] for p in pages} == {5}


async def test_a_search_longer_than_100_characters_is_an_error(buyer: GraphQL) -> None:
    # when
    body = await buyer(
        ORDER_PAGE, {"first": 3, "filter": {"search": "x" * 101}, "orderBy": "ISSUED_AT_DESC"}
    )

    # then
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["search must be at most 100 characters."]
