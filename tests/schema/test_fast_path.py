"""The fast path (``schema.fast``, ``schema.prefetch``) answers exactly what graphql-core's
ordinary path answers.

Per role, one document selecting every field the role's schema offers below ``orders``
runs through the role schema's own executor and through Strawberry's plain execution
context on the same schema: same data, same errors, and the client's copy holds none of
the canaries. The plain-leaf map is what the policy table allows; ``PlainLeaf`` takes the
ordinary path for anything odd; fragments, aliases and lookups by id see the same data
(and fragments the same prefetch) as the plain inline page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from graphql import (
    ExecutionResult,
    GraphQLObjectType,
    execute,
    parse,
)
from sqlalchemy import event
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

from conftest import FixedClock, GraphQL
from db.engine import Database
from fast_path_support import Runner, every_field, leaked, order_page_document
from permissions.policy import Access, entry_for, row_rule_keys
from permissions.principal import Role
from schema.build import schema_for
from schema.fast import plain_leaves, serve_plain_leaves
from worlds.fast_path import (
    BUYER_CANCEL_REASON,
    CLIENT_NAME,
    CLIENT_REFERENCE,
    COURIER_CARRIER,
    HIDDEN_FROM_CLIENT,
    INTERNAL_EVENT_NOTE,
    INTERNAL_NOTE,
    INVOICE_NUMBER,
    LINE_TOTAL,
    MAIN_PART,
    ORDER_TOTAL,
    OTHER_PART,
    OTHER_SUPPLIER_NAME,
    OWN_DRIVER_CARRIER,
    OWN_DRIVER_REFERENCE,
    OWN_DRIVER_URL,
    SUPPLIER_NAME,
    SUPPLIER_NOTE,
    UNIT_PRICE,
    World,
    seed_world,
)

# Seen (at least once) and never seen by each role in its broad order page.
SEEN = {
    Role.BUYER: [
        SUPPLIER_NAME, CLIENT_NAME, UNIT_PRICE, LINE_TOTAL, ORDER_TOTAL, INTERNAL_NOTE,
        INTERNAL_EVENT_NOTE, SUPPLIER_NOTE, BUYER_CANCEL_REASON, INVOICE_NUMBER,
        COURIER_CARRIER, OWN_DRIVER_CARRIER, OWN_DRIVER_REFERENCE, OWN_DRIVER_URL,
        OTHER_SUPPLIER_NAME,
    ],
    Role.CLIENT: [CLIENT_NAME, CLIENT_REFERENCE, MAIN_PART, COURIER_CARRIER],
    Role.SUPPLIER: [
        SUPPLIER_NAME, UNIT_PRICE, LINE_TOTAL, ORDER_TOTAL, SUPPLIER_NOTE, INVOICE_NUMBER,
        OWN_DRIVER_CARRIER, OWN_DRIVER_REFERENCE, OWN_DRIVER_URL,
    ],
}  # fmt: skip
NEVER_SEEN = {
    Role.BUYER: {},
    Role.CLIENT: HIDDEN_FROM_CLIENT,
    Role.SUPPLIER: {
        "internal note": INTERNAL_NOTE,
        "buyer-internal event note": INTERNAL_EVENT_NOTE,
        "cancel reason": BUYER_CANCEL_REASON,
        "client name": CLIENT_NAME,
        "client reference": CLIENT_REFERENCE,
        "other supplier": OTHER_SUPPLIER_NAME,
        "other supplier's part": OTHER_PART,
    },
}

DASHBOARD = """
query Dashboard {
  orders(first: 20) {
    totalCount
    edges {
      cursor
      node {
        id number stage total outlook needBy promisedDate
        supplier { id name }
        client { id name }
        lines { lineNo partNumber quantity unitPrice receivedQuantity }
        events { at kind actorRole note }
        shipments { method carrier trackingReference lines { lineNo quantity } }
        alerts { kind ageHours }
      }
    }
  }
}
"""

DASHBOARD_NAMED_FRAGMENTS = """
query Dashboard {
  orders(first: 20) { totalCount edges { ...Edge } }
}
fragment Edge on OrderEdge { cursor node { ...Row } }
fragment Row on Order {
  id number stage total outlook needBy promisedDate
  ...Parties
  lines { lineNo partNumber quantity unitPrice receivedQuantity }
  events { at kind actorRole note }
  shipments { method carrier trackingReference lines { lineNo quantity } }
  alerts { kind ageHours }
}
fragment Parties on Order { supplier { id name } client { id name } }
"""

DASHBOARD_INLINE_FRAGMENT = """
query Dashboard {
  orders(first: 20) {
    totalCount
    edges {
      cursor
      node {
        id number stage total outlook needBy promisedDate
        ... on Order {
          supplier { id name }
          client { id name }
          lines { lineNo partNumber quantity unitPrice receivedQuantity }
          ... { events { at kind actorRole note } }
        }
        ... on Order {
          shipments { method carrier trackingReference lines { lineNo quantity } }
          alerts { kind ageHours }
        }
      }
    }
  }
}
"""

LINES_AND_EVENTS_PAGES = """
{
  a: orders(first: 3) { edges { node { id lines { partNumber } } } }
  b: orders(first: 3) { edges { node { id events { kind } } } }
}
"""

LINES_PAGE = "{ a: orders(first: 3) { edges { node { id lines { partNumber } } } } }"
EVENTS_PAGE = "{ b: orders(first: 3) { edges { node { id events { kind } } } } }"

ORDER_BY_ID = "query Order($id: ID!) {{ order(id: $id) {selection} }}"
ORDER_PAGE = "query Orders {{ orders(first: 50) {{ edges {{ node {selection} }} }} }}"


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database, clock: FixedClock) -> World:
    world = await seed_world(client, db, clock.now)
    clock.advance(days=3)  # the unacknowledged orders now have alerts
    return world


def runner(world: World, db: Database, clock: FixedClock, role: Role) -> Runner:
    return Runner(db, clock.now, world.principal(role))


def nodes(data: dict[str, Any], connection: str = "orders") -> list[dict[str, Any]]:
    return [edge["node"] for edge in data[connection]["edges"]]


@pytest.fixture
def checkouts(db: Database) -> Iterator[list[object]]:
    """Connections checked out of the read pool: one per session that queries, so a
    page whose relations are prefetched (one session) costs fewer than a lazy one."""
    seen: list[object] = []

    def count(*_: object) -> None:
        seen.append(None)

    event.listen(db.engine.sync_engine, "checkout", count)
    yield seen
    event.remove(db.engine.sync_engine, "checkout", count)


async def cost_of(
    gql: GraphQL, caplog: pytest.LogCaptureFixture, checkouts: list[object], document: str
) -> tuple[int, int, dict[str, Any]]:
    """(SQL statements, pool checkouts, response body) of one request."""
    caplog.clear()
    checkouts.clear()
    with caplog.at_level(logging.INFO, logger="handoff.http"):
        body = await gql(document)
    assert "errors" not in body, body
    [record] = [
        r
        for r in caplog.records
        if r.name == "handoff.http" and r.getMessage() == "graphql request"
    ]
    statements: int = record.sql_statements  # type: ignore[attr-defined]
    return statements, len(checkouts), body


# -- 1. the same answer both ways, per role ------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
async def test_every_order_field_is_answered_alike_by_the_fast_and_the_ordinary_path(
    role: Role, world: World, db: Database, clock: FixedClock
) -> None:
    # given
    run = runner(world, db, clock, role)
    document = order_page_document(role)

    # when
    fast = await run.fast(document)
    ordinary = await run.ordinary(document)

    # then
    assert fast.errors is None, fast.errors
    assert fast.formatted == ordinary.formatted
    assert json.dumps(fast.formatted) == json.dumps(ordinary.formatted)  # key order too
    assert leaked(ordinary.data, NEVER_SEEN[role]) == {}
    # not vacuous: every relation, row rule and canary the role may see is on the page
    seen = {canary: canary for canary in SEEN[role]}
    assert leaked(fast.data, seen) == seen
    _assert_exercised(role, world, nodes(fast.data))  # type: ignore[arg-type]


def _assert_exercised(role: Role, world: World, page: list[dict[str, Any]]) -> None:
    by_id = {n["id"]: n for n in page}
    assert set(by_id) == world.visible_orders(role)
    main = by_id[world.orders["main"]]
    assert main["lines"]
    assert main["events"]
    shipments = {s["method"]: s for s in main["shipments"]}
    assert set(shipments) == {"COURIER", "OWN_DRIVER"}
    assert shipments["COURIER"]["carrier"] == COURIER_CARRIER
    assert shipments["COURIER"]["lines"] == [
        {"__typename": "ShipmentLine", "lineNo": 1, "quantity": 3}
    ]
    own = shipments["OWN_DRIVER"]
    own_tracking = [own["carrier"], own["trackingReference"], own["trackingUrl"]]
    if role is Role.CLIENT:
        assert own_tracking == [None, None, None]
        return
    assert own_tracking == [OWN_DRIVER_CARRIER, OWN_DRIVER_REFERENCE, OWN_DRIVER_URL]
    assert main["receipts"]
    assert main["invoices"]
    assert main["match"] == "MATCHED"
    assert main["supplier"]["name"] == SUPPLIER_NAME
    no_client = by_id[world.orders["no_client"]]
    assert [a["kind"] for a in no_client["alerts"]] == ["UNACKNOWLEDGED"]
    assert no_client["alerts"][0]["order"]["id"] == world.orders["no_client"]
    assert {n["outlook"] for n in page} >= {"DELIVERED", "AT_RISK"}
    if role is Role.BUYER:
        assert no_client["client"] is None
        assert main["client"]["name"] == CLIENT_NAME


# -- 2. the plain-leaf map comes from the policy table -------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_a_row_rule_field_is_a_plain_leaf_exactly_where_the_policy_allows_it(role: Role) -> None:
    # given
    schema = schema_for(role)
    plain = schema.plain_leaves
    offered = []

    # when / then
    for key in sorted(row_rule_keys()):
        type_name, field = key.split(".")
        gql_type = schema._schema.get_type(type_name)
        in_schema = isinstance(gql_type, GraphQLObjectType) and field in gql_type.fields
        offered += [key] if in_schema else []
        expected = in_schema and entry_for(role, type_name, field) is Access.ALLOW
        assert ((type_name, field) in plain) is expected, f"{role.value}: {key}"
    assert offered, "the role's schema offers no row-rule field: nothing was checked"


def test_no_row_rule_field_is_a_plain_leaf_for_the_client() -> None:
    # given
    plain = schema_for(Role.CLIENT).plain_leaves

    # then
    assert {f"{t}.{f}" for t, f in plain} & row_rule_keys() == set()
    assert ("Shipment", "method") in plain  # the map itself is not empty


@pytest.mark.parametrize("role", list(Role))
def test_every_plain_leaf_is_a_field_without_a_resolver(role: Role) -> None:
    # given
    schema = schema_for(role)._schema
    plain = schema_for(role).plain_leaves

    # then
    for type_name, field in plain:
        gql_type = schema.get_type(type_name)
        assert isinstance(gql_type, GraphQLObjectType), type_name
        definition = gql_type.fields[field].extensions["strawberry-definition"]
        assert definition.base_resolver is None, f"{type_name}.{field} has a resolver"
        assert not gql_type.fields[field].args, f"{type_name}.{field} takes arguments"
    assert {("Order", "number"), ("Order", "stage"), ("OrderLine", "partNumber")} <= set(plain)


# -- 3. a plain leaf is attribute access; graphql-core completes what it returns -----------


@pytest.mark.parametrize("role", list(Role))
def test_every_plain_leaf_resolves_by_attribute_and_every_row_rule_by_strawberry(
    role: Role,
) -> None:
    # given
    schema = schema_for(role)
    gql = schema.graphql_schema

    # then
    for (type_name, field), attribute in schema.plain_leaves.items():
        gql_type = gql.get_type(type_name)
        assert isinstance(gql_type, GraphQLObjectType)
        resolve = gql_type.fields[field].resolve
        assert resolve is not None
        assert resolve(SimpleNamespace(**{attribute: "x"}), None) == "x"
    for key in row_rule_keys():
        type_name, field = key.split(".")
        if entry_for(role, type_name, field) is not Access.ALLOW:
            assert (type_name, field) not in schema.plain_leaves


# -- 4. fragments: the same prefetch as the inline page ------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(DASHBOARD_NAMED_FRAGMENTS, id="named fragments"),
        pytest.param(DASHBOARD_INLINE_FRAGMENT, id="inline fragments"),
    ],
)
async def test_a_dashboard_written_with_fragments_costs_what_the_inline_one_costs(
    document: str,
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    checkouts: list[object],
) -> None:
    # given
    buyer = world.caller(client, Role.BUYER)
    inline = await cost_of(buyer, caplog, checkouts, DASHBOARD)

    # when
    fragments = await cost_of(buyer, caplog, checkouts, document)

    # then: the same statements, on as few connections (prefetched, not lazy), same data
    assert fragments[:2] == inline[:2]
    assert fragments[2] == inline[2]
    if db.is_sqlite:
        # page, count, ONE session for the page's relations, shipment lines; a missed
        # prefetch would open one session per relation (9 in all)
        assert inline[1] <= 4
    else:
        # PostgreSQL loads the page's relations concurrently, one connection each, like
        # the lazy path: here only the statement count and the data can tell them apart
        assert inline[1] <= 9


# -- 5. prefetched (a page) and lazy (by id) agree -----------------------------------------


@pytest.mark.parametrize("role", [Role.BUYER, Role.CLIENT])
async def test_an_order_looked_up_by_id_equals_the_same_order_on_a_page(
    role: Role, world: World, db: Database, clock: FixedClock
) -> None:
    # given
    run = runner(world, db, clock, role)
    selection = every_field(schema_for(role)._schema, "Order", 3)
    page = await run.fast(ORDER_PAGE.format(selection=selection))
    assert page.errors is None, page.errors
    on_page = {n["id"]: n for n in nodes(page.data)}  # type: ignore[arg-type]

    # when
    looked_up = {}
    for order_id in on_page:
        one = await run.fast(ORDER_BY_ID.format(selection=selection), {"id": order_id})
        assert one.errors is None, one.errors
        looked_up[order_id] = one.data["order"]  # type: ignore[index]

    # then
    assert set(on_page) == world.visible_orders(role)
    assert looked_up == on_page
    assert any(n["lines"] and n["events"] and n["shipments"] for n in on_page.values())
    assert any(n["client"] for n in on_page.values())
    if role is Role.BUYER:
        assert any(n["alerts"] for n in on_page.values())
        assert any(n["supplier"] for n in on_page.values())


# -- 6. two pages in one document ----------------------------------------------------------


async def test_two_order_pages_with_different_selections_each_get_their_own(
    world: World, db: Database, clock: FixedClock
) -> None:
    # given
    run = runner(world, db, clock, Role.BUYER)
    lines_alone = await run.fast(LINES_PAGE)
    events_alone = await run.fast(EVENTS_PAGE)

    # when
    both = await run.fast(LINES_AND_EVENTS_PAGES)

    # then
    assert both.errors is None, both.errors
    assert both.data == {**lines_alone.data, **events_alone.data}  # type: ignore[dict-item]
    pages = {name: nodes(both.data, name) for name in ("a", "b")}  # type: ignore[arg-type]
    assert [len(p) for p in pages.values()] == [3, 3]
    assert all(set(n) == {"id", "lines"} and n["lines"] for n in pages["a"])
    assert all(set(n) == {"id", "events"} and n["events"] for n in pages["b"])
    for node in pages["a"] + pages["b"]:
        truth = await run.fast(
            "query($id: ID!) { order(id: $id) { lines { partNumber } events { kind } } }",
            {"id": node["id"]},
        )
        expected = {k: v for k, v in truth.data["order"].items() if k in node}  # type: ignore[index]
        assert {k: v for k, v in node.items() if k != "id"} == expected


# -- 7. null in a non-null leaf: graphql-core's own error ----------------------------------


@strawberry.type
class Thing:
    name: str
    count: int

    @strawberry.field
    async def later(self) -> str:
        return f"later {self.count}"


@strawberry.type
class TinyQuery:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [Thing(name="first", count=1), Thing(name=None, count=2)]  # type: ignore[arg-type]


def _tiny_schema(*, plain: bool) -> strawberry.Schema:
    schema = strawberry.Schema(query=TinyQuery)
    if plain:
        definitions = {
            name: d
            for name in schema._schema.type_map
            if isinstance(d := schema.get_type_by_name(name), StrawberryObjectDefinition)
        }
        leaves = plain_leaves(
            Role.BUYER, schema._schema, definitions, schema.config.name_converter.from_field
        )
        assert {("Thing", "name"), ("Thing", "count")} <= set(leaves)
        serve_plain_leaves(schema._schema, leaves)
    return schema


TINY_PLAIN = _tiny_schema(plain=True)
TINY = _tiny_schema(plain=False)


async def _tiny(document: str, schema: strawberry.Schema) -> ExecutionResult:
    result = execute(
        schema._schema,
        parse(document),
        executor_class=StrawberryGraphQLCoreExecutionContext,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


@pytest.mark.parametrize(
    ("document", "keys"),
    [
        pytest.param("{ things { name count } }", ["name", "count"], id="plain leaves only"),
        pytest.param(
            "{ things { name later count } }", ["name", "later", "count"], id="and an async field"
        ),
    ],
)
async def test_null_in_a_non_null_plain_leaf_is_graphql_cores_usual_error(
    document: str, keys: list[str]
) -> None:
    # given
    # when
    fast = await _tiny(document, TINY_PLAIN)
    ordinary = await _tiny(document, TINY)

    # then
    assert fast.formatted == ordinary.formatted
    [error] = fast.errors or []
    assert error.message == "Cannot return null for non-nullable field Thing.name."
    assert error.path == ["things", 1, "name"]
    assert fast.data is not None
    first, second = fast.data["things"]
    assert second is None
    assert list(first) == keys  # in selection order, plain leaves and the rest merged
