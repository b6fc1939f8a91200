"""Backward pagination (``last``/``before``) keeps the forward guarantees: paging back
from the end visits exactly the forward list, in the same order, with no gap and no
repeat, for every sort and every connection; ``pageInfo`` says which way more items
lie; a backward cursor outside the caller's scope reads as an empty page; first with
last is refused with a typed error; ``last`` counts toward the query cost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.seed import SeedResult, seed

ORDERS = """
query Orders($first: Int, $after: String, $last: Int, $before: String, $sort: OrderSort!) {
  orders(first: $first, after: $after, last: $last, before: $before, orderBy: $sort) {
    totalCount
    edges { cursor node { number } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SUPPLIERS = """
query Suppliers($first: Int, $after: String, $last: Int, $before: String) {
  suppliers(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
CLIENTS = SUPPLIERS.replace("Suppliers", "Clients").replace("suppliers(", "clients(")
SUPPLIER_ORDERS = """
query SupplierOrders($first: Int, $after: String, $last: Int, $before: String) {
  suppliers(first: 10) {
    edges { node { name orders(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { number } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } } }
  }
}
"""
ALERTS = """
query Alerts($first: Int, $after: String, $last: Int, $before: String, $kind: AlertKind) {
  alerts(first: $first, after: $after, last: $last, before: $before, kind: $kind) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
SORTS = ["ISSUED_AT_DESC", "ISSUED_AT_ASC", "NEED_BY_ASC", "STAGE_ENTERED_AT_ASC", "TOTAL_DESC"]


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> SeedResult:
    return await seed(db=db, org="org-a", orders=23, suppliers=3, clients=2, seed=11, now=clock.now)


async def page(gql: GraphQL, document: str, path: list[str], **variables: Any) -> dict[str, Any]:
    body = await gql(document, variables)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]
    for key in path:
        found = found[key]
    return found


def names(connection: dict[str, Any]) -> list[str]:
    nodes = [e["node"] for e in connection["edges"]]
    return [n.get("number") or n.get("name") or n["id"] for n in nodes]


async def walk_forward(gql: GraphQL, document: str, path: list[str], size: int, **extra: Any):
    items: list[str] = []
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        got = await page(gql, document, path, first=size, after=after, **extra)
        pages.append(got)
        items += names(got)
        if not got["pageInfo"]["hasNextPage"]:
            return items, pages
        after = got["pageInfo"]["endCursor"]


async def walk_backward(gql: GraphQL, document: str, path: list[str], size: int, **extra: Any):
    items: list[str] = []
    pages: list[dict[str, Any]] = []
    before = None
    while True:
        got = await page(gql, document, path, last=size, before=before, **extra)
        pages.append(got)
        items = names(got) + items
        if not got["pageInfo"]["hasPreviousPage"]:
            return items, pages
        before = got["pageInfo"]["startCursor"]


@pytest.mark.parametrize("sort", SORTS)
async def test_paging_back_from_the_end_visits_the_forward_list_in_order(
    seeded: SeedResult, buyer: GraphQL, sort: str
) -> None:
    # given: the whole list, read forward 5 at a time
    forward, forward_pages = await walk_forward(buyer, ORDERS, ["orders"], 5, sort=sort)
    assert len(forward) == len(set(forward)) == 23

    # when: read backward from the end, 5 at a time
    backward, backward_pages = await walk_backward(buyer, ORDERS, ["orders"], 5, sort=sort)

    # then: the same items in the same order, no gap, no repeat
    assert backward == forward
    assert [len(p["edges"]) for p in backward_pages] == [5, 5, 5, 5, 3]
    # the first backward page is the list's end: nothing after it, more before it
    assert backward_pages[0]["pageInfo"]["hasNextPage"] is False
    assert backward_pages[0]["pageInfo"]["hasPreviousPage"] is True
    # pages fetched from a cursor know that items lie on the cursor's side
    assert all(p["pageInfo"]["hasNextPage"] for p in backward_pages[1:])
    assert backward_pages[-1]["pageInfo"]["hasPreviousPage"] is False
    assert forward_pages[0]["pageInfo"]["hasPreviousPage"] is False
    assert all(p["totalCount"] == 23 for p in backward_pages)


async def test_last_before_a_cursor_is_what_precedes_it_and_first_after_what_follows(
    seeded: SeedResult, buyer: GraphQL
) -> None:
    everything = await page(buyer, ORDERS, ["orders"], first=100, sort="NEED_BY_ASC")
    cursors = [e["cursor"] for e in everything["edges"]]
    numbers = names(everything)
    for i in (1, 4, 11, 22):
        before = await page(
            buyer, ORDERS, ["orders"], last=3, before=cursors[i], sort="NEED_BY_ASC"
        )
        after = await page(buyer, ORDERS, ["orders"], first=3, after=cursors[i], sort="NEED_BY_ASC")
        assert names(before) == numbers[max(0, i - 3) : i]
        assert names(after) == numbers[i + 1 : i + 4]
        assert [e["cursor"] for e in before["edges"]] == cursors[max(0, i - 3) : i]
        assert before["pageInfo"]["hasPreviousPage"] is (i > 3)


async def test_last_alone_is_the_lists_end_and_last_zero_is_empty(
    seeded: SeedResult, buyer: GraphQL
) -> None:
    forward, _ = await walk_forward(buyer, ORDERS, ["orders"], 100, sort="ISSUED_AT_DESC")
    tail = await page(buyer, ORDERS, ["orders"], last=4, sort="ISSUED_AT_DESC")
    assert names(tail) == forward[-4:]
    empty = await page(buyer, ORDERS, ["orders"], last=0, sort="ISSUED_AT_DESC")
    assert empty["edges"] == []
    assert empty["pageInfo"]["startCursor"] is None


KINDS = ["UNACKNOWLEDGED", "PRODUCTION_NOT_STARTED", "LATE", "DELIVERY_OVERDUE", "PROMISE_SLIPPED"]


@pytest.mark.parametrize("kind", [None, *KINDS])
async def test_alerts_page_backward_like_forward(
    seeded: SeedResult, buyer: GraphQL, kind: str | None
) -> None:
    forward, _ = await walk_forward(buyer, ALERTS, ["alerts"], 2, kind=kind)
    backward, _ = await walk_backward(buyer, ALERTS, ["alerts"], 2, kind=kind)
    # all kinds together span several pages (19 alerts in this seed); a single kind
    # may have few or none, and must still agree both ways
    assert len(forward) == len(set(forward))
    if kind is None:
        assert len(forward) >= 6
    assert backward == forward


@pytest.mark.parametrize(("document", "field"), [(SUPPLIERS, "suppliers"), (CLIENTS, "clients")])
async def test_parties_page_backward_by_name_like_forward(
    seeded: SeedResult, buyer: GraphQL, document: str, field: str
) -> None:
    forward, _ = await walk_forward(buyer, document, [field], 1)
    backward, pages = await walk_backward(buyer, document, [field], 1)
    assert backward == forward
    assert len(pages) == len(forward) >= 2


async def test_a_partys_orders_page_backward_in_one_batch_and_by_cursor(
    seeded: SeedResult, buyer: GraphQL
) -> None:
    full = await page(buyer, SUPPLIER_ORDERS, ["suppliers", "edges"], first=100)
    tails = await page(buyer, SUPPLIER_ORDERS, ["suppliers", "edges"], last=2)
    assert len(full) == len(tails) == 3
    for whole, tail in zip(full, tails, strict=True):
        numbers = names(whole["node"]["orders"])
        assert len(numbers) >= 3
        assert names(tail["node"]["orders"]) == numbers[-2:]
        assert tail["node"]["orders"]["pageInfo"]["hasPreviousPage"] is True
        assert tail["node"]["orders"]["pageInfo"]["hasNextPage"] is False
    # and from a cursor: the party's own keyset query, same answer
    first_supplier = full[0]["node"]["orders"]
    cursor = first_supplier["edges"][-1]["cursor"]
    earlier = await page(buyer, SUPPLIER_ORDERS, ["suppliers", "edges"], last=2, before=cursor)
    assert names(earlier[0]["node"]["orders"]) == names(first_supplier)[-3:-1]


async def test_a_client_pages_back_through_its_own_orders_only(
    seeded: SeedResult, as_role: Callable[..., GraphQL], buyer: GraphQL
) -> None:
    client = as_role("client", client_id=seeded.clients[0])
    mine, _ = await walk_forward(client, ORDERS, ["orders"], 3, sort="ISSUED_AT_DESC")
    backward, _ = await walk_backward(client, ORDERS, ["orders"], 3, sort="ISSUED_AT_DESC")
    assert backward == mine
    assert 0 < len(mine) < 23
    # a buyer's cursor on an order the client cannot see reads like no cursor at all
    everything = await page(buyer, ORDERS, ["orders"], first=100, sort="ISSUED_AT_DESC")
    foreign = next(e["cursor"] for e in everything["edges"] if e["node"]["number"] not in mine)
    hidden = await page(client, ORDERS, ["orders"], last=5, before=foreign, sort="ISSUED_AT_DESC")
    assert hidden["edges"] == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 2, last: 2", "Use first or last, not both."),
        ("last: 2, after: $cursor", "after pages forward: use it with first, not last."),
        ("first: 2, before: $cursor", "before pages backward: use it with last, not first."),
        ("before: $cursor", "before pages backward: use it with last, not first."),
        ("last: 101", "last must be between 0 and 100."),
        ("last: -1", "last must be between 0 and 100."),
    ],
)
async def test_pagination_arguments_that_make_no_single_window_are_refused_with_a_code(
    seeded: SeedResult, buyer: GraphQL, arguments: str, message: str
) -> None:
    cursor = (await page(buyer, ORDERS, ["orders"], first=1, sort="ISSUED_AT_DESC"))["edges"][0]
    declared = "($cursor: String)" if "$cursor" in arguments else ""
    document = f"query Bad{declared} {{ orders({arguments}) {{ totalCount }} }}"
    body = await buyer(document, {"cursor": cursor["cursor"]} if declared else None)
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"] == {"code": "INVALID_PAGINATION"}


async def test_first_and_last_are_refused_together_through_variables_too(
    seeded: SeedResult, buyer: GraphQL
) -> None:
    both = await buyer(ORDERS, {"first": 2, "last": 2, "sort": "ISSUED_AT_DESC"})
    assert both["errors"][0]["extensions"] == {"code": "INVALID_PAGINATION"}
    # first declared but not sent: its default does not count as given
    only_last = await buyer(ORDERS, {"last": 2, "sort": "ISSUED_AT_DESC"})
    assert "errors" not in only_last
    assert len(only_last["data"]["orders"]["edges"]) == 2


async def test_last_counts_toward_the_query_cost(buyer: GraphQL) -> None:
    body = await buyer(
        "query Costly { suppliers(last: 100) { edges { node { orders(last: 100) "
        "{ totalCount } } } } }"
    )
    assert body["errors"][0]["message"].startswith("Query may return too many rows: cost 10100")


NESTED_LAST = """
query NestedLast($parents: Int!) {
  suppliers(last: $parents) { edges { node { orders(last: 3) { edges { node { number } } } } } }
}
"""


async def test_nested_last_pages_cost_the_same_statements_for_1_or_3_parents(
    seeded: SeedResult, buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    async def statements(parents: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="handoff.http"):
            body = await buyer(NESTED_LAST, {"parents": parents})
        assert "errors" not in body, body
        assert len(body["data"]["suppliers"]["edges"]) == parents
        [record] = [r for r in caplog.records if r.getMessage() == "graphql request"]
        return int(record.sql_statements)  # type: ignore[attr-defined]

    assert await statements(1) == await statements(3)
