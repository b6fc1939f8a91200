"""No N+1: the SQL statement count of a query does not depend on the page size.

The count comes from the endpoint's own structured log line ("graphql request",
``sql_statements``), which counts every statement issued while serving the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.seed import SeedResult
from worlds.busy import busy_org

BUYER_GRAPH = """
query BuyerGraph($first: Int!) {
  orders(first: $first, orderBy: ISSUED_AT_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id number stage total outlook
        supplier { id name contactEmail }
        client { id name }
        lines { lineNo partNumber quantity unitPrice lineTotal receivedQuantity }
        events { at stage kind actorRole actorSubject note }
        shipments { id method carrier trackingReference lines { lineNo quantity } }
        receipts { id receivedAt lines { lineNo quantity } }
        invoices { id number total match discrepancies lines { lineNo quantity unitPrice } }
        match
        alerts { kind stage since ageHours thresholdHours message order { id } }
      }
    }
  }
}
"""

CLIENT_GRAPH = """
query ClientGraph($first: Int!) {
  orders(first: $first, orderBy: ISSUED_AT_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id number stage outlook clientReference
        client { id name }
        lines { lineNo partNumber quantity receivedQuantity }
        events { at stage kind actorRole actorSubject note }
        shipments { id method carrier trackingReference lines { lineNo quantity } }
      }
    }
  }
}
"""

SUPPLIER_GRAPH = """
query SupplierGraph($first: Int!) {
  orders(first: $first, orderBy: ISSUED_AT_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id number stage total outlook
        supplier { id name contactEmail }
        lines { lineNo partNumber quantity unitPrice lineTotal receivedQuantity }
        events { at stage kind actorRole actorSubject note }
        shipments { id method carrier trackingReference lines { lineNo quantity } }
        receipts { id receivedAt lines { lineNo quantity } }
        invoices { id number total match discrepancies lines { lineNo quantity unitPrice } }
        match
        alerts { kind stage since ageHours thresholdHours message order { id } }
      }
    }
  }
}
"""

# Two levels of connections: parties, then each party's orders with their relations.
BUYER_PARTIES_GRAPH = """
query BuyerParties($first: Int!) {
  suppliers(first: $first) {
    totalCount
    edges { node { id name orders(first: $first) {
      totalCount edges { node { id lines { lineNo } events { kind } } } } } }
  }
}
"""

# Every order has lines and events, so both pages exercise the same relations.
ALERTS_GRAPH = """
query AlertsGraph($first: Int!) {
  alerts(first: $first) {
    totalCount
    edges { node { kind ageHours order { id number outlook supplier { id }
                                         lines { lineNo } events { kind } } } }
  }
}
"""

SCORECARDS = """
query Scorecards($first: Int!) {
  suppliers(first: $first) {
    edges { node { id scorecard { orders onTimeDispatchRate promiseSlips } } }
  }
}
"""

# The 'small' page must hold more than one order, the 'large' page many more.
SMALL, LARGE = 5, 50


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> SeedResult:
    return await busy_org(db, clock.now)


async def statements_for(
    gql: GraphQL, caplog: pytest.LogCaptureFixture, document: str, first: int
) -> tuple[int, dict[str, Any]]:
    """Run ``document`` and return (SQL statements the request issued, response body)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="handoff.http"):
        body = await gql(document, {"first": first})
    assert "errors" not in body, body
    [record] = [
        r
        for r in caplog.records
        if r.name == "handoff.http" and r.getMessage() == "graphql request"
    ]
    count: int = record.sql_statements  # type: ignore[attr-defined]
    return count, body


def _relations_seen(body: dict[str, Any]) -> set[str]:
    """Which list relations are non-empty somewhere on the page: proof the page exercised them."""
    seen = set()
    for edge in body["data"]["orders"]["edges"]:
        node = edge["node"]
        for relation in ("lines", "events", "shipments", "receipts", "invoices"):
            if node.get(relation):
                seen.add(relation)
        for relation in ("shipments", "receipts", "invoices"):
            if any(child["lines"] for child in node.get(relation) or []):
                seen.add(f"{relation}.lines")
        for party in ("supplier", "client"):
            if node.get(party):
                seen.add(party)
    return seen


async def _assert_flat(
    name: str,
    gql: GraphQL,
    caplog: pytest.LogCaptureFixture,
    document: str,
    expected_relations: set[str],
) -> int:
    small, small_body = await statements_for(gql, caplog, document, SMALL)
    large, large_body = await statements_for(gql, caplog, document, LARGE)
    small_edges = len(small_body["data"]["orders"]["edges"])
    large_edges = len(large_body["data"]["orders"]["edges"])
    print(f"\n{name}: {small} statements for {small_edges} orders, {large} for {large_edges}")

    assert small_edges == SMALL
    assert large_edges > 2 * SMALL
    # both pages exercise every relation, so an empty one cannot save a statement
    assert _relations_seen(small_body) == expected_relations
    assert _relations_seen(large_body) == expected_relations
    assert small == large
    # a page query, a count, the org's alert thresholds, then one per relation
    assert large <= len(expected_relations) + 3
    return large


async def test_the_buyer_order_graph_costs_the_same_statements_for_5_or_50_orders(
    seeded: SeedResult, buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    relations = {
        "lines", "events", "shipments", "shipments.lines", "receipts", "receipts.lines",
        "invoices", "invoices.lines", "supplier", "client",
    }  # fmt: skip

    # when
    count = await _assert_flat("buyer", buyer, caplog, BUYER_GRAPH, relations)

    # then
    assert count > 0


async def test_the_client_order_graph_costs_the_same_statements_for_5_or_all_orders(
    seeded: SeedResult, as_role: Callable[..., GraphQL], caplog: pytest.LogCaptureFixture
) -> None:
    # given
    client = as_role("client", client_id=seeded.clients[0])
    relations = {"lines", "events", "shipments", "shipments.lines", "client"}

    # when
    count = await _assert_flat("client", client, caplog, CLIENT_GRAPH, relations)

    # then
    assert count > 0


async def test_the_supplier_order_graph_costs_the_same_statements_for_5_or_all_orders(
    seeded: SeedResult, as_role: Callable[..., GraphQL], caplog: pytest.LogCaptureFixture
) -> None:
    # given
    supplier = as_role("supplier", supplier_id=seeded.suppliers[0])
    relations = {
        "lines", "events", "shipments", "shipments.lines", "receipts", "receipts.lines",
        "invoices", "invoices.lines", "supplier",
    }  # fmt: skip

    # when
    count = await _assert_flat("supplier", supplier, caplog, SUPPLIER_GRAPH, relations)

    # then
    assert count > 0


@pytest.mark.parametrize("role", ["buyer", "supplier"])
async def test_alerts_with_their_orders_cost_the_same_statements_for_2_or_20_alerts(
    role: str,
    seeded: SeedResult,
    as_role: Callable[..., GraphQL],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    claims = {"supplier_id": seeded.suppliers[0]} if role == "supplier" else {}
    gql = as_role(role, **claims)

    # when
    small, small_body = await statements_for(gql, caplog, ALERTS_GRAPH, 2)
    large, large_body = await statements_for(gql, caplog, ALERTS_GRAPH, 20)
    small_n = len(small_body["data"]["alerts"]["edges"])
    large_n = len(large_body["data"]["alerts"]["edges"])
    print(f"\n{role} alerts: {small} statements for {small_n} alerts, {large} for {large_n}")

    # then
    assert small_n == 2
    assert large_n > 2 * small_n
    assert small == large


async def test_supplier_scorecards_cost_the_same_statements_for_1_or_3_suppliers(
    seeded: SeedResult, buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    # when
    one, _ = await statements_for(buyer, caplog, SCORECARDS, 1)
    three, body = await statements_for(buyer, caplog, SCORECARDS, 3)
    print(f"\nscorecards: {one} statements for 1 supplier, {three} for 3")

    # then
    assert len(body["data"]["suppliers"]["edges"]) == 3
    assert three == one


async def test_nested_order_connections_cost_the_same_statements_for_1_or_3_parents(
    seeded: SeedResult, buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    # when
    one, _ = await statements_for(buyer, caplog, BUYER_PARTIES_GRAPH, 1)
    three, body = await statements_for(buyer, caplog, BUYER_PARTIES_GRAPH, 3)
    print(f"\nbuyer suppliers -> orders: {one} statements for 1 supplier, {three} for 3")

    # then
    assert len(body["data"]["suppliers"]["edges"]) == 3
    assert three == one


async def test_the_benchmarked_buyer_dashboard_costs_at_most_8_statements_at_any_page_size(
    seeded: SeedResult, buyer: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    # given: the very document `make bench` measures (issue: <= 8, constant in page size)
    from bench.documents import DASHBOARD

    # when
    small, small_body = await statements_for(buyer, caplog, DASHBOARD, SMALL)
    large, large_body = await statements_for(buyer, caplog, DASHBOARD, LARGE)

    # then
    nodes = [edge["node"] for edge in large_body["data"]["orders"]["edges"]]
    for relation in ("lines", "events", "shipments", "supplier", "client", "alerts"):
        assert any(node[relation] for node in nodes), f"the page never exercises {relation}"
    assert len(small_body["data"]["orders"]["edges"]) == SMALL
    assert len(large_body["data"]["orders"]["edges"]) == LARGE
    assert small == large <= 8


async def test_the_benchmarked_client_portal_costs_the_same_statements_at_any_page_size(
    seeded: SeedResult, as_role: Callable[..., GraphQL], caplog: pytest.LogCaptureFixture
) -> None:
    # given
    from bench.documents import PORTAL

    client = as_role("client", client_id=seeded.clients[0])

    # when
    small, _ = await statements_for(client, caplog, PORTAL, 2)
    large, body = await statements_for(client, caplog, PORTAL, 20)

    # then: the page, the thresholds (outlook), lines, shipments
    assert len(body["data"]["orders"]["edges"]) == 20
    assert small == large <= 4
