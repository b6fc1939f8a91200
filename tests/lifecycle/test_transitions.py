"""The whole state × action table over HTTP, and who may take which action at all.

A state is a stage and whose move it is (``Awaiting``): besides the seven stages and
CLOSED, a proposal pending (ISSUED, and after an amendment) and a revision awaiting
acknowledgement. Every state is reached through the public mutations, then every
lifecycle mutation is tried on it. Legality comes from ``db.lifecycle.TRANSITIONS``,
the one table the commands consult: a legal step moves the order to the table's target
stage and awaited move, appends exactly one event of the table's kind and bumps the
version by one; an illegal one is INVALID_TRANSITION naming the current stage (and what
the order waits for, when the stage alone would allow it), and the order graph the buyer
sees is byte for byte what it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from exceptions_support import ALL_STEPS, STATES, state_id, walk_to_state
from lifecycle_support import (
    DISPATCH_ORDER,
    ORDER,
    RECEIVE_DELIVERY,
    Step,
    World,
    caller,
    database_state,
    make_world,
    ok,
    snapshot,
    walk_to,
)

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.lifecycle import TRANSITIONS, event_kinds
from db.models import Awaiting, OrderStage

# An ID in the public format (prefix, 20 lowercase base32 characters) that no row has.
NONEXISTENT_ORDER_ID = "ord_" + "q7n3x2k4m5p6r7s2t3u4"

SUPPLIER_MUTATIONS = (
    "acknowledgeOrder",
    "proposeChanges",
    "declineOrder",
    "startProduction",
    "updatePromisedDate",
    "addMilestone",
    "dispatchOrder",
    "submitInvoice",
)
BUYER_MUTATIONS = (
    "createSupplier",
    "createClient",
    "issueOrder",
    "cancelOrder",
    "receiveDelivery",
    "setMatchingTolerances",
    "respondToProposal",
    "amendOrder",
    "closeOrder",
)

# Selecting a mutation needs no valid input: validation rejects the field first.
BARE_MUTATION = "mutation Bare { FIELD(input: {}) { __typename } }"

CLIENT_MUTATION_TYPE = "query MutationType { __schema { mutationType { name fields { name } } } }"

CLIENT_CANCEL = """
mutation Cancel { cancelOrder(input: {orderId: "ID", reason: "r"}) { __typename } }
"""

STEP_BY_FIELD = {step.field: step for step in ALL_STEPS if step.field != "respondToProposal"}
STEP_BY_FIELD["respondToProposal"] = next(s for s in ALL_STEPS if s.field == "respondToProposal")

# A stage where each action is legal for its rightful caller (the state's awaited move
# is the walk's: a proposal pending where one must be answered).
LEGAL_STAGE = {
    "acknowledgeOrder": OrderStage.ISSUED,
    "proposeChanges": OrderStage.ISSUED,
    "respondToProposal": OrderStage.ISSUED,
    "amendOrder": OrderStage.ACKNOWLEDGED,
    "closeOrder": OrderStage.DISPATCHED,
    "declineOrder": OrderStage.ISSUED,
    "startProduction": OrderStage.ACKNOWLEDGED,
    "updatePromisedDate": OrderStage.ACKNOWLEDGED,
    "addMilestone": OrderStage.IN_PRODUCTION,
    "dispatchOrder": OrderStage.IN_PRODUCTION,
    "submitInvoice": OrderStage.DISPATCHED,
    "cancelOrder": OrderStage.ISSUED,
    "receiveDelivery": OrderStage.DISPATCHED,
}
LEGAL_STATE = {
    field: (
        stage,
        Awaiting.ANSWER
        if field == "respondToProposal"
        else Awaiting.ACKNOWLEDGEMENT
        if stage is OrderStage.ISSUED
        else Awaiting.NOTHING,
    )
    for field, stage in LEGAL_STAGE.items()
}


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


def _new_events(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    assert after["events"][: len(before["events"])] == before["events"], "events are append-only"
    new: list[dict[str, Any]] = after["events"][len(before["events"]) :]
    return new


# -- the table ----------------------------------------------------------------------------

State = tuple[OrderStage, Awaiting]


def _legal(state: State, step: Step) -> bool:
    transition = TRANSITIONS[step.action]
    stage, awaiting = state
    return stage in transition.sources and awaiting in transition.awaiting


LEGAL = [(state, step) for state in STATES for step in ALL_STEPS if _legal(state, step)]
ILLEGAL = {state: [step for step in ALL_STEPS if not _legal(state, step)] for state in STATES}


def test_the_table_covers_every_state_and_action_pair() -> None:
    assert len(LEGAL) + sum(len(steps) for steps in ILLEGAL.values()) == 15 * 14
    assert {s.action for s in ALL_STEPS} == set(TRANSITIONS)
    # every stage, and every state some transition leads to, is walked
    assert {stage for stage, _ in STATES} == set(OrderStage)
    reachable = {
        (t.target(stage), t.then or awaiting)
        for t in TRANSITIONS.values()
        for stage, awaiting in STATES
        if stage in t.sources and awaiting in t.awaiting
    }
    assert reachable - {(OrderStage.DELIVERED, Awaiting.NOTHING)} <= set(STATES)


@pytest.mark.parametrize(
    ("state", "step"),
    LEGAL,
    ids=[f"{state_id(state)}-{step.action.name.lower()}" for state, step in LEGAL],
)
async def test_a_legal_action_moves_the_order_as_the_transition_table_says(
    world: World, clock: FixedClock, state: State, step: Step
) -> None:
    # given an order in the state, an hour later
    stage, awaiting = state
    transition = TRANSITIONS[step.action]
    order_id = await walk_to_state(world, stage, awaiting)
    before = await snapshot(world, order_id)
    assert (before["stage"], before["awaiting"]) == (stage.value, awaiting.value)
    clock.advance(hours=1)

    # when the action's rightful role takes it
    body = await caller(world, step.role)(step.document, {"input": step.make_input(before)})

    # then: the table's target state, its events (one of the table's kind, but for the
    # negotiation's own kinds: db.lifecycle.event_kinds), one more version
    assert "errors" not in body, body
    payload = body["data"][step.field]
    assert payload["userErrors"] == []
    after = await snapshot(world, order_id)
    assert after["stage"] == transition.target(stage).value
    assert after["awaiting"] == (transition.then or awaiting).value
    assert after["version"] == before["version"] + 1
    new_events = _new_events(before, after)
    assert [e["kind"] for e in new_events] == list(event_kinds(step.action, stage))
    assert new_events[0]["actorRole"] == step.role
    assert new_events[0]["stage"] == after["stage"]
    assert new_events[0]["at"] == "2026-03-02T10:00:00+00:00"
    if step.field == "submitInvoice":
        assert [i["id"] for i in after["invoices"]] == [payload["invoice"]["id"]]
    else:  # the payload is the order as its caller sees it now
        seen = await caller(world, step.role)(ORDER, {"id": order_id})
        assert payload["order"] == seen["data"]["order"]


@pytest.mark.parametrize("state", STATES, ids=state_id)
async def test_every_illegal_action_is_refused_naming_the_state_and_changes_nothing(
    world: World, db: Database, clock: FixedClock, state: State
) -> None:
    # given an order in the state
    stage, awaiting = state
    order_id = await walk_to_state(world, stage, awaiting)
    before = await snapshot(world, order_id)
    rows_before = await database_state(db)

    # (each attempt is checked against every row in the database; the buyer's view of
    # the order graph once more at the end)
    for step in ILLEGAL[state]:
        # when, an hour later each time, the action's rightful role tries it
        field = step.field
        clock.advance(hours=1)
        body = await caller(world, step.role)(step.document, {"input": step.make_input(before)})

        # then
        assert "errors" not in body, (field, body)
        payload = body["data"][field]
        (error,) = payload["userErrors"]
        assert error["code"] == "INVALID_TRANSITION", (field, error)
        assert error["field"] == ["input", "orderId"]
        assert re.search(rf"\b{stage.value}\b", error["message"]), (field, error)
        if stage in TRANSITIONS[step.action].sources:  # the stage is right, the moment not
            assert " while " in error["message"], (field, error)
        assert payload["invoice" if field == "submitInvoice" else "order"] is None
        assert await database_state(db) == rows_before, field
    assert await snapshot(world, order_id) == before


async def test_receiving_the_last_outstanding_units_adds_received_and_delivered_events(
    world: World, clock: FixedClock
) -> None:
    # given an order dispatched in two shipments, the first one already received
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 3}]}},
    )
    await ok(
        world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id, "method": "OWN_DRIVER"}}
    )
    before = await snapshot(world, order_id)
    assert before["stage"] == "DISPATCHED"
    clock.advance(hours=5)

    # when the buyer checks in the rest
    payload = await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 2, "quantity": 4}]}},
    )

    # then one change, two events: the receipt, then the delivery it completes
    after = await snapshot(world, order_id)
    assert payload["order"] == after
    assert after["stage"] == "DELIVERED"
    assert after["version"] == before["version"] + 1
    assert after["deliveredAt"] == after["stageEnteredAt"] == "2026-03-02T14:00:00+00:00"
    new_events = _new_events(before, after)
    assert [(e["kind"], e["stage"]) for e in new_events] == [
        ("RECEIVED", "DISPATCHED"),
        ("DELIVERED", "DELIVERED"),
    ]
    assert [ln["receivedQuantity"] for ln in after["lines"]] == [3, 4]


# -- who may act at all -----------------------------------------------------------------


def _cannot_query(body: dict[str, Any], field: str, hint: str = "") -> None:
    """Refused like a field that never existed: its input type is unknown too, and
    nothing suggests what does exist (the buyer, who owns the data, gets ``hint``)."""
    assert body.get("data") is None, body
    messages = [e["message"] for e in body["errors"]]
    assert messages[-1] == f"Cannot query field '{field}' on type 'Mutation'.{hint}", messages
    assert all(re.fullmatch(r"Unknown type '\w+Input'\.", m) for m in messages[:-1]), messages
    assert "Did you mean" not in str(body)


async def _try_to_select(
    world: World,
    db: Database,
    gql: GraphQL,
    fields: tuple[str, ...],
    stage: OrderStage,
    hint: str = "",
) -> None:
    """Each mutation in ``fields``, sent by ``gql`` with a valid input for a real order
    in ``stage`` (or bare, when it is not a lifecycle step), is refused by validation."""
    order_id = await walk_to(world, stage)
    order = await snapshot(world, order_id)
    rows_before = await database_state(db)
    for field in fields:
        step = STEP_BY_FIELD.get(field)
        if step is None:
            body = await gql(BARE_MUTATION.replace("FIELD", field))
        else:
            body = await gql(step.document, {"input": step.make_input(order)})
        _cannot_query(body, field, hint.replace("FIELD", field))
        assert await database_state(db) == rows_before, field
    assert await snapshot(world, order_id) == order


async def test_a_buyer_cannot_even_select_a_supplier_mutation(world: World, db: Database) -> None:
    hint = " FIELD is a supplier operation: it needs a supplier's token."
    await _try_to_select(world, db, world.buyer, SUPPLIER_MUTATIONS, OrderStage.ISSUED, hint)


async def test_a_supplier_cannot_even_select_a_buyer_mutation(world: World, db: Database) -> None:
    await _try_to_select(world, db, world.supplier, BUYER_MUTATIONS, OrderStage.DISPATCHED)


async def test_a_client_schema_has_no_order_mutation_at_all(
    world: World, as_role: Callable[..., GraphQL], db: Database
) -> None:
    # given an order and a client of the same org
    order_id = await walk_to(world, OrderStage.ISSUED)
    client = as_role("client", client_id="cli_" + "a" * 20)
    before = await snapshot(world, order_id)

    # when
    introspected = await client(CLIENT_MUTATION_TYPE)
    body = await client(CLIENT_CANCEL.replace("ID", order_id))

    # then
    # (a client's only mutations are its own webhook endpoints': tests/webhooks)
    mutation_type = introspected["data"]["__schema"]["mutationType"]
    assert {f["name"] for f in mutation_type["fields"]} == {
        "createWebhookEndpoint",
        "deleteWebhookEndpoint",
        "rotateWebhookSecret",
        "redeliverWebhook",
    }
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        "Cannot query field 'cancelOrder' on type 'Mutation'."
    ]
    assert await snapshot(world, order_id) == before


def test_the_nonexistent_order_id_has_the_public_id_format() -> None:
    assert re.fullmatch(r"ord_[a-z2-7]{20}", NONEXISTENT_ORDER_ID)


@pytest.mark.parametrize("field", SUPPLIER_MUTATIONS)
async def test_a_supplier_acting_on_another_suppliers_order_gets_the_same_not_found_as_for_no_order(
    world: World, db: Database, field: str
) -> None:
    # given an order of the first supplier in a stage where the action is legal for it
    step = STEP_BY_FIELD[field]
    order_id = await walk_to_state(world, *LEGAL_STATE[field])
    before = await snapshot(world, order_id)
    rows_before = await database_state(db)
    real = step.make_input(before)
    missing = step.make_input(before | {"id": NONEXISTENT_ORDER_ID})

    # when the second supplier tries it, and when anyone tries a nonexistent order
    on_other = await world.other_supplier(step.document, {"input": real})
    on_missing = await world.other_supplier(step.document, {"input": missing})
    own_on_missing = await world.supplier(step.document, {"input": missing})

    # then all three answers are the same bytes, and nothing changed
    payload = on_other["data"][field]
    assert payload["userErrors"] == [
        {"code": "NOT_FOUND", "message": "no such order", "field": ["input", "orderId"]}
    ]
    assert on_other == on_missing == own_on_missing
    assert await snapshot(world, order_id) == before
    assert await database_state(db) == rows_before


@pytest.mark.parametrize(
    "field", ["cancelOrder", "receiveDelivery", "amendOrder", "closeOrder", "respondToProposal"]
)
async def test_a_buyer_of_another_org_gets_the_same_not_found_as_for_no_order(
    world: World, as_role: Callable[..., GraphQL], db: Database, field: str
) -> None:
    # given
    step = STEP_BY_FIELD[field]
    order_id = await walk_to_state(world, *LEGAL_STATE[field])
    before = await snapshot(world, order_id)
    rows_before = await database_state(db)
    intruder = as_role("buyer", org="org-b")

    # when
    on_other = await intruder(step.document, {"input": step.make_input(before)})
    on_missing = await intruder(
        step.document, {"input": step.make_input(before | {"id": NONEXISTENT_ORDER_ID})}
    )

    # then
    assert on_other["data"][field]["userErrors"][0]["code"] == "NOT_FOUND"
    assert on_other == on_missing
    assert await snapshot(world, order_id) == before
    assert await database_state(db) == rows_before
