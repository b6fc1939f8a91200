"""Insecure direct object references: an object outside the caller's scope, asked for by
its real id or number through any entry point or any mutation, gets byte for byte the
response an id that never existed gets, and nothing changes. Supplier A against
supplier B's jobs, client A against client B's orders, org B against all of org A.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import GraphQL, make_token
from db.ids import new_id, type_of
from graphql_support import ISSUE_ORDER, line_input, mutate, order_input
from permissions.principal import Role
from redaction_support import (
    MaximalSelection,
    assert_not_masked,
    entry_points,
    leaked,
    sweep_entry_points,
)
from schema.cursors import encode
from worlds.canary import BUYER_A, BUYER_B, CLIENT_A, SUPPLIER_A, SUPPLIER_B, OrderRef, World

SUPPLIER = entry_points(Role.SUPPLIER)
CLIENT = entry_points(Role.CLIENT)
BUYER = entry_points(Role.BUYER)
PREFIX = {"Order": "ord", "Supplier": "sup", "Client": "cli", "Shipment": "shp"}
PREFIX |= {"Invoice": "inv", "Receipt": "rcp"}

BUYER_VIEW = MaximalSelection(Role.BUYER, depth=3)
BUYER_SNAPSHOT = BUYER_VIEW.document(
    f"query Snapshot($id: ID!) {{ order(id: $id) {BUYER_VIEW.of('Order')} }}"
)
SUPPLIER_PAYLOAD = MaximalSelection(Role.SUPPLIER, depth=4)
BUYER_PAYLOAD = MaximalSelection(Role.BUYER, depth=4)

WEBHOOK_MUTATIONS = {
    "createWebhookEndpoint",
    "deleteWebhookEndpoint",
    "rotateWebhookSecret",
    "redeliverWebhook",
}


def _mutation(view: MaximalSelection, name: str, input_type: str, payload: str) -> str:
    return view.document(
        f"mutation {name[0].upper()}{name[1:]}($input: {input_type}!) "
        f"{{ {name}(input: $input) {view.of(payload)} }}"
    )


# mutation -> (document, the B order whose stage it applies to, a valid input)
SUPPLIER_MUTATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "acknowledgeOrder": (
        _mutation(SUPPLIER_PAYLOAD, "acknowledgeOrder", "AcknowledgeOrderInput", "OrderPayload"),
        "twin_b",
        {"promisedDate": "2026-03-20", "note": "can do"},
    ),
    "declineOrder": (
        _mutation(SUPPLIER_PAYLOAD, "declineOrder", "DeclineOrderInput", "OrderPayload"),
        "b_issued",
        {"reason": "no capacity"},
    ),
    "startProduction": (
        _mutation(SUPPLIER_PAYLOAD, "startProduction", "OrderActionInput", "OrderPayload"),
        "b_acked",
        {"note": "started"},
    ),
    "updatePromisedDate": (
        _mutation(
            SUPPLIER_PAYLOAD, "updatePromisedDate", "UpdatePromisedDateInput", "OrderPayload"
        ),
        "b_acked",
        {"promisedDate": "2026-03-29", "reason": "saw broke"},
    ),
    "addMilestone": (
        _mutation(SUPPLIER_PAYLOAD, "addMilestone", "AddMilestoneInput", "OrderPayload"),
        "b_acked",
        {"note": "material ordered"},
    ),
    "dispatchOrder": (
        _mutation(SUPPLIER_PAYLOAD, "dispatchOrder", "DispatchOrderInput", "OrderPayload"),
        "b_dispatched",
        {"method": "COURIER", "carrier": "Courier Co", "lines": [{"lineNo": 1, "quantity": 1}]},
    ),
    "submitInvoice": (
        _mutation(SUPPLIER_PAYLOAD, "submitInvoice", "SubmitInvoiceInput", "InvoicePayload"),
        "b_dispatched",
        {"number": "INV-B-1", "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": "1.00"}]},
    ),
    "proposeChanges": (  # on a job of B's the test issues (the world's ISSUED ones are taken)
        _mutation(SUPPLIER_PAYLOAD, "proposeChanges", "ProposeChangesInput", "OrderPayload"),
        "b_to_propose",
        {"promisedDate": "2026-03-30", "lines": [{"lineNo": 1, "quantity": 3}], "note": "3?"},
    ),
    "updateShipment": (
        _mutation(SUPPLIER_PAYLOAD, "updateShipment", "UpdateShipmentInput", "OrderPayload"),
        "shipment:b_courier",
        {"status": "IN_TRANSIT", "estimatedArrival": "2026-03-10"},
    ),
}
# A target "shipment:<name>" is that shipment (input shipmentId) on this order.
SHIPMENT_ORDERS = {"b_courier": "b_dispatched"}

BUYER_MUTATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cancelOrder": (
        _mutation(BUYER_PAYLOAD, "cancelOrder", "CancelOrderInput", "OrderPayload"),
        "twin_a",
        {"reason": "not needed"},
    ),
    "receiveDelivery": (
        _mutation(BUYER_PAYLOAD, "receiveDelivery", "ReceiveDeliveryInput", "OrderPayload"),
        "b_dispatched",
        {"lines": [{"lineNo": 1, "quantity": 1}]},
    ),
    "amendOrder": (
        _mutation(BUYER_PAYLOAD, "amendOrder", "AmendOrderInput", "OrderPayload"),
        "b_acked",
        {"lines": [{"lineNo": 1, "quantity": 4}], "reason": "more", "visibleTo": ["SUPPLIER"]},
    ),
    "closeOrder": (  # after the receipt above: one of two units came
        _mutation(BUYER_PAYLOAD, "closeOrder", "CloseOrderInput", "OrderPayload"),
        "b_dispatched",
        {"reason": "the other will not come"},
    ),
}

ORDER_PAGE = """
query OrderPage($after: String) {
  orders(first: 10, after: $after) { totalCount edges { cursor node { id } } pageInfo {
    hasNextPage hasPreviousPage startCursor endCursor } }
}
"""


def _target(world: World, key: str) -> tuple[str, str, str]:
    """(input field, target id, id of the order it changes) for a mutation's target."""
    kind, _, name = key.partition(":")
    if kind == "shipment":
        return "shipmentId", world.shipments[name], world.orders[SHIPMENT_ORDERS[name]].id
    return "orderId", world.orders[key].id, world.orders[key].id


def _lookup(role_docs: Any, id_: str) -> str:
    return role_docs.lookups.get(type_of(id_) or "", role_docs.lookups["Order"])


def _unknown_like(id_: str) -> str:
    """A never-issued id of the same type as ``id_``."""
    return new_id(PREFIX[type_of(id_) or "Order"])


async def _same_as_unknown(gql: GraphQL, docs: Any, ids: dict[str, str]) -> dict[str, Any]:
    """Lookups of ``ids`` whose response differs from that of an unknown id of their type."""
    differences: dict[str, Any] = {}
    for name, id_ in ids.items():
        document = _lookup(docs, id_)
        real = await gql.raw(document, {"id": id_})
        unknown = await gql.raw(document, {"id": _unknown_like(id_)})
        assert_not_masked(real, name)
        if real.content != unknown.content:
            differences[name] = (real.content[:300], unknown.content[:300])
    return differences


async def _numbers_same_as_unknown(gql: GraphQL, docs: Any, numbers: list[str]) -> dict:
    unknown = await gql.raw(docs.order_by_number, {"number": "PO-999999"})
    differences = {}
    for number in numbers:
        real = await gql.raw(docs.order_by_number, {"number": number})
        if real.content != unknown.content:
            differences[number] = real.content[:300]
    return differences


# -- supplier A against supplier B ------------------------------------------------------


async def test_supplier_a_reads_supplier_bs_objects_exactly_like_nonexistent_ones(
    world: World,
) -> None:
    # given
    gql = world.caller(SUPPLIER_A)
    theirs = {k: world.orders[k] for k in ("twin_b", "b_acked", "b_dispatched")}
    ids = {f"order {k}": o.id for k, o in theirs.items()}
    ids |= {"supplier B": world.supplier_b, "their shipment": world.shipments["b_courier"]}
    ids |= {"client A": world.client_a, "client B": world.client_b}

    # when
    differences = await _same_as_unknown(gql, SUPPLIER, ids)
    number_differences = await _numbers_same_as_unknown(
        gql, SUPPLIER, [o.number for o in theirs.values()]
    )

    # then
    assert differences == {}
    assert number_differences == {}


async def _attempt(
    world: World, intruder: str, owner: str, mutations: dict[str, tuple[str, str, dict[str, Any]]]
) -> dict[str, Any]:
    """Each mutation by ``intruder`` on the owner's order, then on an unknown id; then
    the same input by ``owner``. What differs from the expectation, by mutation."""
    buyer = world.caller(BUYER_A)
    problems: dict[str, Any] = {}
    # Every intrusion first, while each target is in the stage its mutation applies to.
    for mutation, (document, order_key, data) in mutations.items():
        field, target, order = _target(world, order_key)
        before = await buyer.raw(BUYER_SNAPSHOT, {"id": order})
        theirs = await world.caller(intruder).raw(document, {"input": {**data, field: target}})
        unknown = await world.caller(intruder).raw(
            document, {"input": {**data, field: _unknown_like(target)}}
        )
        after = await buyer.raw(BUYER_SNAPSHOT, {"id": order})
        [payload] = theirs.json()["data"].values()
        if theirs.content != unknown.content:
            problems[mutation] = ("differs from unknown id", theirs.content, unknown.content)
        elif [e["code"] for e in payload["userErrors"]] != ["NOT_FOUND"]:
            problems[mutation] = ("not NOT_FOUND", theirs.content)
        elif after.content != before.content:
            problems[mutation] = ("the order changed", before.content, after.content)
    # ... and the very same inputs work for the owner (so they were valid).
    for mutation, (document, order_key, data) in mutations.items():
        field, target, _ = _target(world, order_key)
        own = await world.caller(owner).raw(document, {"input": {**data, field: target}})
        [payload] = own.json()["data"].values()
        if payload["userErrors"]:
            problems[f"{mutation} by {owner}"] = payload["userErrors"]
    return problems


async def test_supplier_a_acting_on_supplier_bs_orders_gets_the_nonexistent_order_response(
    world: World,
) -> None:
    # given: supplier B's jobs, each in the stage where the mutation applies
    # (webhook mutations act on the caller's own endpoints, not on orders:
    # tests/webhooks/test_endpoint_permissions.py)
    on_orders = set(SUPPLIER_PAYLOAD.schema.mutation_type.fields) - WEBHOOK_MUTATIONS  # type: ignore[union-attr]
    assert set(SUPPLIER_MUTATIONS) == on_orders
    issued = await mutate(
        world.caller(BUYER_A),
        ISSUE_ORDER,
        order_input(world.supplier_b, world.client_b, [line_input("B-PROPOSAL", 2, "5.00")]),
    )
    world.orders["b_to_propose"] = OrderRef(issued["id"], issued["number"])

    # when
    problems = await _attempt(world, SUPPLIER_A, SUPPLIER_B, SUPPLIER_MUTATIONS)

    # then
    assert problems == {}


# -- client A against client B --------------------------------------------------------


async def test_client_a_reads_client_bs_objects_exactly_like_nonexistent_ones(
    world: World,
) -> None:
    # given
    gql = world.caller(CLIENT_A)
    theirs = {k: world.orders[k] for k in ("cross", "b_acked", "b_dispatched")}
    ids = {f"order {k}": o.id for k, o in theirs.items()}
    ids |= {"client B": world.client_b, "their shipment": world.shipments["b_courier"]}
    ids |= {"supplier A": world.supplier_a, "supplier B": world.supplier_b}
    ids |= {"invoice": world.invoices["main"], "receipt": world.receipts["main"]}

    # when
    differences = await _same_as_unknown(gql, CLIENT, ids)
    number_differences = await _numbers_same_as_unknown(
        gql, CLIENT, [o.number for o in theirs.values()]
    )

    # then
    assert differences == {}
    assert number_differences == {}


async def test_a_cursor_naming_someone_elses_order_pages_like_one_naming_no_order(
    world: World,
) -> None:
    # given: well-formed cursors anchored on an order the caller may not see, or none
    foreign = encode("ISSUED_AT_DESC", world.orders["b_acked"].id)
    nowhere = encode("ISSUED_AT_DESC", new_id("ord"))

    for viewer in (CLIENT_A, SUPPLIER_A):
        # when
        gql = world.caller(viewer)
        with_foreign = await gql.raw(ORDER_PAGE, {"after": foreign})
        with_nowhere = await gql.raw(ORDER_PAGE, {"after": nowhere})

        # then
        assert with_foreign.text.replace(foreign, "…") == with_nowhere.text.replace(nowhere, "…")
        assert with_foreign.json()["data"]["orders"]["edges"] == []


# -- org B against org A -----------------------------------------------------------------


async def test_the_buyer_of_org_b_finds_nothing_of_org_a_by_id_or_number(world: World) -> None:
    # given
    gql = world.caller(BUYER_B)
    org_a_numbers = [o.number for k, o in world.orders.items() if k != "org_b"]
    own_number = world.orders["org_b"].number

    # when
    differences = await _same_as_unknown(gql, BUYER, world.org_a_ids())
    number_differences = await _numbers_same_as_unknown(
        gql, BUYER, [n for n in org_a_numbers if n != own_number]
    )

    # then
    assert differences == {}
    assert number_differences == {}


async def test_every_entry_point_shows_the_buyer_of_org_b_only_org_b(world: World) -> None:
    # given
    gql = world.caller(BUYER_B)
    hidden = world.hidden_from(BUYER_B)

    # when
    responses = await sweep_entry_points(world, gql, BUYER)

    # then
    for label, response in responses:
        assert_not_masked(response, label)
        assert "errors" not in response.json(), (label, response.content[:300])
    leaks = {label: found for label, r in responses if (found := leaked(r.content, hidden))}
    assert leaks == {}
    counts = await gql("{ orders { totalCount } suppliers { totalCount } clients { totalCount } }")
    assert counts["data"] == {
        "orders": {"totalCount": 1},
        "suppliers": {"totalCount": 1},
        "clients": {"totalCount": 1},
    }


async def test_the_buyer_of_org_b_acting_on_org_a_gets_the_nonexistent_order_response(
    world: World,
) -> None:
    # when
    problems = await _attempt(world, BUYER_B, BUYER_A, BUYER_MUTATIONS)

    # then
    assert problems == {}


TOKENS_FROM_THE_WRONG_ORG: dict[str, Callable[[World], dict[str, Any]]] = {
    "client A's id under org B": lambda w: {"role": "client", "client_id": w.client_a},
    "supplier A's id under org B": lambda w: {"role": "supplier", "supplier_id": w.supplier_a},
}

PARTY_VIEW = "{ viewer { role org } orders { totalCount edges { node { id } } } }"


async def test_a_party_id_under_another_orgs_token_sees_nothing(world: World) -> None:
    # given: org-B tokens that name an org-A client or supplier
    problems: dict[str, Any] = {}
    for token, claims_of in TOKENS_FROM_THE_WRONG_ORG.items():
        claims = claims_of(world)
        role = claims.pop("role")
        gql = GraphQL(world.http, make_token(role, org="org-b", **claims))

        # when
        listed = await gql(PARTY_VIEW)
        differences = await _same_as_unknown(
            gql, CLIENT if role == "client" else SUPPLIER, world.org_a_ids()
        )

        # then
        if listed["data"]["orders"] != {"totalCount": 0, "edges": []} or differences:
            problems[token] = (listed, differences)
    assert problems == {}
