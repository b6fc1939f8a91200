"""Tenancy and party scope on every Query root field.

Org A is seeded in bulk; org B gets a few rows of its own (``worlds.busy.tenancy_world``).
Three callers look at it: a buyer of org B (sees nothing of org A), a client of org A
(only orders whose client is itself) and a supplier of org A (only its own jobs). What
they see is compared with the database's truth, and every out-of-scope object must read
exactly like an ID that never existed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import product
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from conftest import FixedClock, GraphQL
from db import models
from db.engine import Database
from db.ids import new_id
from permissions.principal import Role
from schema.build import schema_for
from schema.cursors import encode
from worlds.busy import OrderRow, TenancyWorld, tenancy_world

# Viewer.clientId / supplierId exist only for the roles that can have them.
VIEWER = {
    "buyer": "query Viewer { viewer { role org subject clientId supplierId } }",
    "client": "query Viewer { viewer { role org subject clientId } }",
    "supplier": "query Viewer { viewer { role org subject supplierId } }",
}

LOOKUP_BY_ID = """
query LookupById($id: ID!) {
  node(id: $id) { __typename id }
  order(id: $id) { id number }
}
"""

LOOKUP_BY_NUMBER = """
query LookupByNumber($number: String!) { orderByNumber(number: $number) { id number } }
"""

ORDER_PAGE = """
query OrderPage($first: Int, $after: String, $filter: OrderFilter, $orderBy: OrderSort!) {
  orders(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id number } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

# The parties each role can see on its orders (Order.client is hidden from suppliers,
# Order.supplier from clients).
ORDER_PARTIES = {
    "buyer": "query Parties { orders(first: 100) { totalCount edges { node { id "
    "supplier { id } client { id } shipments { id } } } } }",
    "client": "query Parties { orders(first: 100) { totalCount edges { node { id "
    "client { id } shipments { id } } } } }",
    "supplier": "query Parties { orders(first: 100) { totalCount edges { node { id "
    "supplier { id } shipments { id } } } } }",
}

ALERTS = """
query Alerts($first: Int) {
  alerts(first: $first) {
    totalCount
    edges { node { kind stage order { id } } }
    pageInfo { hasNextPage }
  }
}
"""

DASHBOARD = """
query Dashboard {
  dashboard { stageCounts { stage count } openAlerts { kind count } unacknowledged late }
}
"""

THRESHOLDS = """
query Thresholds {
  alertThresholds { acknowledgeWithinHours startProductionWithinHours deliverWithinHours }
}
"""

SET_THRESHOLDS = """
mutation SetThresholds($input: AlertThresholdsInput!) {
  setAlertThresholds(input: $input) {
    thresholds { acknowledgeWithinHours startProductionWithinHours deliverWithinHours }
    userErrors { code field }
  }
}
"""

HIDDEN_FILTER = 'query Hidden { orders(filter: {FIELD: "VALUE"}) { totalCount } }'

SUPPLIERS = """
query Suppliers($first: Int, $after: String) {
  suppliers(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name orders(first: 60) { totalCount edges { node { id } } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

CLIENTS = """
query Clients($first: Int, $after: String) {
  clients(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name orders(first: 60) { totalCount edges { node { id } } } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

_ALL_SORTS = ["ISSUED_AT_DESC", "ISSUED_AT_ASC", "NEED_BY_ASC", "STAGE_ENTERED_AT_ASC"]
SORTS = {  # TOTAL_DESC is hidden from clients
    "buyer": [*_ALL_SORTS, "TOTAL_DESC"],
    "client": _ALL_SORTS,
    "supplier": [*_ALL_SORTS, "TOTAL_DESC"],
}

# The OrderFilter fields in each role's schema, and the text columns its search may match.
FILTER_FIELDS = {
    "buyer": {"stages", "supplierId", "clientId", "needByBefore", "needByAfter", "search",
              "minTotal", "hasAlert"},
    "client": {"stages", "clientId", "needByBefore", "needByAfter", "search"},
    "supplier": {"stages", "supplierId", "needByBefore", "needByAfter", "search", "minTotal",
                 "hasAlert"},
}  # fmt: skip
SEARCHES_CLIENT_REFERENCE = {"buyer": True, "client": True, "supplier": False}


# -- the world and the truth -------------------------------------------------------------


@dataclass
class Caller:
    role: str
    org: str
    gql: GraphQL
    client_id: str | None = None
    supplier_id: str | None = None
    orders: list[OrderRow] = field(default_factory=list)  # what it may see, from the DB

    @property
    def order_ids(self) -> set[str]:
        return {o.id for o in self.orders}


async def _truth_ids(db: Database, caller: Caller) -> set[str]:
    """The ids of the orders ``caller`` may see, straight from the database."""
    stmt = select(models.Order.id).where(models.Order.org == caller.org)
    if caller.client_id is not None:
        stmt = stmt.where(models.Order.client_id == caller.client_id)
    if caller.supplier_id is not None:
        stmt = stmt.where(models.Order.supplier_id == caller.supplier_id)
    async with db.read_session() as session:
        return set(await session.scalars(stmt))


@pytest.fixture
async def world(db: Database, clock: FixedClock, as_role: Callable[..., GraphQL]) -> TenancyWorld:
    return await tenancy_world(db, clock.now, as_role("buyer", org="org-b"))


@pytest.fixture
async def callers(
    world: TenancyWorld, db: Database, as_role: Callable[..., GraphQL]
) -> dict[str, Caller]:
    """The three callers, each with the orders the database says it may see."""
    # the client is org A's second client: its name sorts after the other one's, which
    # the party cursor test relies on
    client_id, supplier_id = world.a.clients[1], world.a.suppliers[0]
    made = {
        "buyer of org B": Caller("buyer", "org-b", as_role("buyer", org="org-b")),
        "client of org A": Caller(
            "client", "org-a", as_role("client", client_id=client_id), client_id=client_id
        ),
        "supplier of org A": Caller(
            "supplier",
            "org-a",
            as_role("supplier", supplier_id=supplier_id),
            supplier_id=supplier_id,
        ),
    }
    for caller in made.values():
        truth = await _truth_ids(db, caller)
        caller.orders = [o for o in world.orders if o.id in truth]
        assert caller.orders, "the caller must see something for the tests to mean anything"
        assert len(caller.orders) < len(world.orders)
    return made


def _ids_of(world: TenancyWorld, org: str) -> set[str]:
    return {o.id for o in world.orders if o.org == org}


def _visible_suppliers(world: TenancyWorld, caller: Caller) -> set[str]:
    if caller.role == "client":
        return set()
    if caller.supplier_id is not None:
        return {caller.supplier_id}
    return {s for s, org in world.suppliers.items() if org == caller.org}


def _visible_clients(world: TenancyWorld, caller: Caller) -> set[str]:
    if caller.role == "supplier":
        return set()
    if caller.client_id is not None:
        return {caller.client_id}
    return {c for c, org in world.clients.items() if org == caller.org}


# -- coverage -------------------------------------------------------------------------

# Every Query root field this file checks; a new one must be added here with its checks.
COVERED_ROOT_FIELDS = {
    "viewer", "node", "order", "orderByNumber", "orders", "suppliers", "clients",
    "alerts", "dashboard", "alertThresholds",
    # each party's own endpoints, other orgs and parties included:
    # tests/webhooks/test_endpoint_permissions.py
    "webhookEndpoints",
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_every_query_root_field_of_the_role_is_covered_by_these_tenancy_checks(
    role: Role,
) -> None:
    # given
    query_type = schema_for(role)._schema.query_type
    assert query_type is not None

    # when
    root_fields = set(query_type.fields)

    # then
    assert root_fields <= COVERED_ROOT_FIELDS


# -- viewer -------------------------------------------------------------------------------


async def test_viewer_describes_the_caller_from_its_token(
    callers: dict[str, Caller], subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            # when
            body = await caller.gql(VIEWER[caller.role])

            # then
            expected = {
                "role": caller.role,
                "org": caller.org,
                "subject": f"{caller.role}-user@{caller.org}",
            }
            if caller.role != "supplier":
                expected["clientId"] = caller.client_id
            if caller.role != "client":
                expected["supplierId"] = caller.supplier_id
            assert body == {"data": {"viewer": expected}}


# -- orders: the list, its relations, every filter and sort ----------------------------


async def test_orders_lists_exactly_the_callers_own_orders(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            # when
            body = await caller.gql(ORDER_PARTIES[caller.role])

            # then
            connection = body["data"]["orders"]
            nodes = [e["node"] for e in connection["edges"]]
            assert {n["id"] for n in nodes} == caller.order_ids
            assert connection["totalCount"] == len(caller.orders)
            by_id = {o.id: o for o in caller.orders}
            suppliers, clients = _visible_suppliers(world, caller), _visible_clients(world, caller)
            for node in nodes:
                truth = by_id[node["id"]]
                if "supplier" in node:
                    assert node["supplier"] == {"id": truth.supplier_id}
                    assert truth.supplier_id in suppliers
                if "client" in node:
                    assert node["client"] == ({"id": truth.client_id} if truth.client_id else None)
                    assert truth.client_id is None or truth.client_id in clients
                assert {s["id"] for s in node["shipments"]} == {
                    s for s, o in world.shipments.items() if o == truth.id
                }


def _filters(world: TenancyWorld, caller: Caller) -> list[dict[str, Any]]:
    """Every filter field the caller's schema has, pointed inside and outside its scope."""
    others = [o for o in world.orders if o.id not in caller.order_ids]
    mine = caller.orders
    need_by = sorted(o.need_by for o in world.orders)[len(world.orders) // 2].isoformat()
    total = sorted(o.total for o in world.orders)[len(world.orders) // 2]
    other_reference = next(o.client_reference for o in others if o.client_reference)
    candidates: list[dict[str, Any]] = [
        {},
        {"stages": ["ISSUED", "DISPATCHED"]},
        {"stages": ["DELIVERED"]},
        {"needByBefore": need_by},
        {"needByAfter": need_by},
        {"needByAfter": need_by, "stages": ["DELIVERED", "IN_PRODUCTION"]},
        {"search": others[0].number},  # an order number outside the scope
        {"search": mine[0].number},
        {"search": "PO-2"},
        {"search": "brkt"},
        {"search": others[0].parts[0]},
        {"search": other_reference},
        {"search": "CR-"},
        {"search": "CR-B-ONLY"},
        {"minTotal": str(total)},
        {"minTotal": str(total), "search": "po"},
        {"hasAlert": True},
        {"hasAlert": False},
        {"hasAlert": True, "stages": ["ISSUED", "ACKNOWLEDGED"]},
        *({"supplierId": s} for s in world.suppliers),
        *({"clientId": c} for c in world.clients),
        {"supplierId": new_id("sup")},
        {"clientId": new_id("cli")},
    ]
    if caller.role != "supplier":
        own_reference = next((o.client_reference for o in mine if o.client_reference), None)
        if own_reference:
            candidates.append({"search": own_reference})
    else:
        # the client reference of the supplier's own job: not searchable by the supplier
        own_reference = next(o.client_reference for o in mine if o.client_reference)
        candidates.append({"search": own_reference})
    allowed = FILTER_FIELDS[caller.role]
    return [f for f in candidates if set(f) <= allowed]


def _matches(order: OrderRow, flt: dict[str, Any], role: str, alerting: set[str]) -> bool:
    if "hasAlert" in flt and (order.id in alerting) is not flt["hasAlert"]:
        return False
    if "stages" in flt and order.stage not in flt["stages"]:
        return False
    if "supplierId" in flt and order.supplier_id != flt["supplierId"]:
        return False
    if "clientId" in flt and order.client_id != flt["clientId"]:
        return False
    if "needByBefore" in flt and not order.need_by < date.fromisoformat(flt["needByBefore"]):
        return False
    if "needByAfter" in flt and not order.need_by > date.fromisoformat(flt["needByAfter"]):
        return False
    if "minTotal" in flt and not order.total >= Decimal(flt["minTotal"]):
        return False
    if "search" in flt:
        text = flt["search"].strip().lower()
        columns = [order.number, *order.parts]
        if SEARCHES_CLIENT_REFERENCE[role] and order.client_reference:
            columns.append(order.client_reference)
        if not any(text in column.lower() for column in columns):
            return False
    return True


async def test_every_order_filter_and_sort_stays_within_the_callers_orders(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            filters = _filters(world, caller)
            assert len(filters) >= 15
            sorts = SORTS[caller.role]
            # every sort on the unfiltered list; the filters take turns with the sorts
            cases = [({}, s) for s in sorts] + [
                (f, sorts[i % len(sorts)]) for i, f in enumerate(filters)
            ]
            # hasAlert's truth: the orders the caller's own alert list names (checked against
            # the caller's scope in test_alerts_and_dashboard_cover_only_the_callers_orders)
            alerting = await _alerting_order_ids(caller)

            for flt, order_by in cases:
                # when
                body = await caller.gql(
                    ORDER_PAGE, {"first": 100, "filter": flt, "orderBy": order_by}
                )

                # then
                assert "errors" not in body, (flt, body)
                connection = body["data"]["orders"]
                expected = {o.id for o in caller.orders if _matches(o, flt, caller.role, alerting)}
                got = [e["node"]["id"] for e in connection["edges"]]
                assert len(got) == len(set(got))
                assert set(got) == expected, (flt, order_by)
                assert connection["totalCount"] == len(expected), (flt, order_by)


@pytest.mark.parametrize(
    ("who", "field_name"),
    [("client of org A", "supplierId"), ("client of org A", "minTotal"),
     ("supplier of org A", "clientId")],
)  # fmt: skip
async def test_a_filter_on_a_hidden_field_does_not_exist_for_the_role(
    who: str, field_name: str, as_role: Callable[..., GraphQL]
) -> None:
    # given: the schema rejects the field before any data is read, so no data is needed
    gql = (
        as_role("client", client_id=new_id("cli"))
        if who == "client of org A"
        else as_role("supplier", supplier_id=new_id("sup"))
    )
    value = {"supplierId": new_id("sup"), "minTotal": "1", "clientId": new_id("cli")}
    document = HIDDEN_FILTER.replace("FIELD", field_name).replace("VALUE", value[field_name])

    # when
    body = await gql(document)

    # then
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["message"].startswith(
        f"Expected value of type 'OrderFilter' not to include unknown field '{field_name}'"
    )
    assert "Did you mean" not in error["message"]


# -- alerts, dashboard, alertThresholds ------------------------------------------------


async def _alerting_order_ids(caller: Caller) -> set[str]:
    if caller.role == "client":
        return set()
    body = await caller.gql(ALERTS, {"first": 100})
    return {e["node"]["order"]["id"] for e in body["data"]["alerts"]["edges"]}


async def test_alerts_and_dashboard_cover_only_the_callers_orders(
    callers: dict[str, Caller], subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            # when
            alerts = await caller.gql(ALERTS, {"first": 100})
            dashboard = await caller.gql(DASHBOARD)

            # then
            if caller.role == "client":  # neither exists for clients
                assert alerts.get("data") is None
                assert dashboard.get("data") is None
                assert [e["message"] for e in alerts["errors"]] == [
                    "Cannot query field 'alerts' on type 'Query'."
                ]
                assert [e["message"] for e in dashboard["errors"]] == [
                    "Cannot query field 'dashboard' on type 'Query'."
                ]
                continue
            connection = alerts["data"]["alerts"]
            assert connection["edges"], "the seeded data should raise some alerts"
            assert not connection["pageInfo"]["hasNextPage"]
            assert connection["totalCount"] == len(connection["edges"])
            assert {e["node"]["order"]["id"] for e in connection["edges"]} <= caller.order_ids

            board = dashboard["data"]["dashboard"]
            stages = {c["stage"]: c["count"] for c in board["stageCounts"] if c["count"]}
            truth: dict[str, int] = {}
            for order in caller.orders:
                truth[order.stage] = truth.get(order.stage, 0) + 1
            assert stages == truth
            kinds: dict[str, int] = {}
            for edge in connection["edges"]:
                kinds[edge["node"]["kind"]] = kinds.get(edge["node"]["kind"], 0) + 1
            assert {c["kind"]: c["count"] for c in board["openAlerts"] if c["count"]} == kinds
            assert board["unacknowledged"] == kinds.get("UNACKNOWLEDGED", 0)
            assert board["late"] == kinds.get("LATE", 0)


async def test_one_orgs_alert_thresholds_do_not_touch_another_orgs(
    world: TenancyWorld, as_role: Callable[..., GraphQL]
) -> None:
    # given
    buyer_a, buyer_b = as_role("buyer", org="org-a"), as_role("buyer", org="org-b")
    thresholds_before = await buyer_b(THRESHOLDS)
    alerts_before = await buyer_b(ALERTS, {"first": 100})

    # when
    changed = await buyer_a(
        SET_THRESHOLDS,
        {"input": {"acknowledgeWithinHours": 0.5, "startProductionWithinHours": 1.5,
                   "deliverWithinHours": 2.5}},
    )  # fmt: skip

    # then
    assert changed["data"]["setAlertThresholds"] == {
        "thresholds": {
            "acknowledgeWithinHours": 0.5,
            "startProductionWithinHours": 1.5,
            "deliverWithinHours": 2.5,
        },
        "userErrors": [],
    }
    assert (await buyer_a(THRESHOLDS))["data"]["alertThresholds"]["deliverWithinHours"] == 2.5
    assert await buyer_b(THRESHOLDS) == thresholds_before
    assert thresholds_before["data"]["alertThresholds"] == {
        "acknowledgeWithinHours": 48.0,
        "startProductionWithinHours": 168.0,
        "deliverWithinHours": 240.0,
    }
    assert await buyer_b(ALERTS, {"first": 100}) == alerts_before


# -- node, order, orderByNumber: out of scope reads like absent ----------------------------


async def _raw(gql: GraphQL, query: str, variables: dict[str, Any]) -> tuple[int, Any]:
    response: httpx.Response = await gql.raw(query, variables)
    return response.status_code, response.json()


async def test_every_out_of_scope_object_reads_exactly_like_a_made_up_id(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            hidden_orders = [o.id for o in world.orders if o.id not in caller.order_ids]
            hidden_shipments = [s for s, o in world.shipments.items() if o not in caller.order_ids]
            hidden_suppliers = set(world.suppliers) - _visible_suppliers(world, caller)
            hidden_clients = set(world.clients) - _visible_clients(world, caller)
            assert hidden_orders
            assert hidden_shipments
            assert hidden_suppliers
            assert hidden_clients
            made_up = {
                prefix: await _raw(caller.gql, LOOKUP_BY_ID, {"id": new_id(prefix)})
                for prefix in ("ord", "shp", "sup", "cli")
            }
            assert made_up["ord"] == (200, {"data": {"node": None, "order": None}})
            assert all(response == made_up["ord"] for response in made_up.values())

            for prefix, ids in (
                ("ord", hidden_orders),
                ("shp", hidden_shipments),
                ("sup", sorted(hidden_suppliers)),
                ("cli", sorted(hidden_clients)),
            ):
                for hidden in ids:
                    # when
                    response = await _raw(caller.gql, LOOKUP_BY_ID, {"id": hidden})

                    # then
                    assert response == made_up[prefix], (prefix, hidden)


async def test_in_scope_objects_are_found_by_node_and_order(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            own_shipments = [s for s, o in world.shipments.items() if o in caller.order_ids]
            assert own_shipments

            for order in caller.orders[:5]:
                # when
                body = await caller.gql(LOOKUP_BY_ID, {"id": order.id})

                # then
                assert body == {
                    "data": {
                        "node": {"__typename": "Order", "id": order.id},
                        "order": {"id": order.id, "number": order.number},
                    }
                }
            for shipment in own_shipments[:3]:
                body = await caller.gql(LOOKUP_BY_ID, {"id": shipment})
                assert body == {
                    "data": {"node": {"__typename": "Shipment", "id": shipment}, "order": None}
                }


async def test_order_by_number_finds_only_the_callers_own_orders(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given: a PO number that exists in both organisations (see ``world``)
    for who, caller in callers.items():
        with subtests.test(who):
            mine = {o.number: o for o in caller.orders}
            numbers = [*sorted({o.number for o in world.orders}), "PO-999999", "", "%"]

            for number in numbers:
                # when
                body = await caller.gql(LOOKUP_BY_NUMBER, {"number": number})

                # then
                own = mine.get(number)
                expected = {"id": own.id, "number": number} if own is not None else None
                assert body == {"data": {"orderByNumber": expected}}, number


# -- suppliers and clients ---------------------------------------------------------------


async def test_suppliers_and_clients_list_only_the_callers_parties_and_their_orders(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            for document, root, visible in (
                (SUPPLIERS, "suppliers", _visible_suppliers(world, caller)),
                (CLIENTS, "clients", _visible_clients(world, caller)),
            ):
                # when
                body = await caller.gql(document, {"first": 50})

                # then
                if not visible:  # the root field is not in this role's schema at all
                    assert body.get("data") is None
                    assert [e["message"] for e in body["errors"]] == [
                        f"Cannot query field '{root}' on type 'Query'."
                    ]
                    continue
                connection = body["data"][root]
                assert {e["node"]["id"] for e in connection["edges"]} == visible
                assert connection["totalCount"] == len(visible)
                party = "supplier_id" if root == "suppliers" else "client_id"
                for edge in connection["edges"]:
                    orders = edge["node"]["orders"]
                    expected = {
                        o.id for o in caller.orders if getattr(o, party) == edge["node"]["id"]
                    }
                    assert {e["node"]["id"] for e in orders["edges"]} == expected
                    assert orders["totalCount"] == len(expected)


# -- cursors ------------------------------------------------------------------------------


async def test_paging_through_everything_visits_exactly_the_callers_orders(
    callers: dict[str, Caller], db: Database, subtests: pytest.Subtests
) -> None:
    # given
    for (who, caller), order_by in product(callers.items(), ["ISSUED_AT_DESC", "NEED_BY_ASC"]):
        with subtests.test(who, order_by=order_by):
            truth = await _truth_ids(db, caller)
            seen: list[str] = []
            after = None

            # when
            for _ in range(100):
                body = await caller.gql(
                    ORDER_PAGE, {"first": 7, "after": after, "orderBy": order_by}
                )
                connection = body["data"]["orders"]
                # then (every page)
                assert connection["totalCount"] == len(truth)
                assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
                seen += [e["node"]["id"] for e in connection["edges"]]
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                assert len(connection["edges"]) == 7
                after = connection["pageInfo"]["endCursor"]

            # then
            assert len(seen) == len(set(seen))
            assert set(seen) == truth
            async with db.read_session() as session:
                stmt = (
                    select(func.count())
                    .select_from(models.Order)
                    .where(models.Order.org == caller.org)
                )
                assert len(seen) < (await session.scalar(stmt) or 0) or caller.role == "buyer"


async def test_an_order_cursor_of_an_out_of_scope_order_reads_like_a_made_up_one(
    callers: dict[str, Caller], world: TenancyWorld, subtests: pytest.Subtests
) -> None:
    # given
    for who, caller in callers.items():
        with subtests.test(who):
            hidden = [o.id for o in world.orders if o.id not in caller.order_ids]
            # a sample from each organisation is enough: the anchor lookup is one code path
            hidden = [o for o in hidden if o in _ids_of(world, "org-a")][:8] + [
                o for o in hidden if o in _ids_of(world, "org-b")
            ][:8]
            sort = "ISSUED_AT_DESC"
            made_up = await _raw(
                caller.gql,
                ORDER_PAGE,
                {"first": 5, "after": encode(sort, new_id("ord")), "orderBy": sort},
            )

            for order_id in hidden:
                # when
                response = await _raw(
                    caller.gql,
                    ORDER_PAGE,
                    {"first": 5, "after": encode(sort, order_id), "orderBy": sort},
                )

                # then
                assert response == made_up, order_id


async def test_a_party_cursor_of_an_out_of_scope_party_reads_like_a_made_up_one(
    callers: dict[str, Caller], world: TenancyWorld
) -> None:
    # given: every caller, with cursors naming each supplier or client it cannot see
    cases = []
    for caller in callers.values():
        if caller.role != "client":
            hidden = set(world.suppliers) - _visible_suppliers(world, caller)
            cases += [(caller, SUPPLIERS, "sup", s) for s in sorted(hidden)]
        if caller.role != "supplier":
            hidden = set(world.clients) - _visible_clients(world, caller)
            cases += [(caller, CLIENTS, "cli", c) for c in sorted(hidden)]

    differing = []
    for caller, document, prefix, hidden_id in cases:
        # when
        made_up = await _raw(
            caller.gql, document, {"first": 5, "after": encode("NAME", new_id(prefix))}
        )
        response = await _raw(
            caller.gql, document, {"first": 5, "after": encode("NAME", hidden_id)}
        )

        # then
        if response != made_up:
            differing.append((caller.role, hidden_id, response))
    assert differing == []
