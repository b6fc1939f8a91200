"""When the order does not go to plan, over HTTP: a supplier's proposal accepted or
rejected, an amendment the supplier must acknowledge before it goes on, goods rejected
at receipt and sent again, an order short-closed. What each leaves behind (terms,
revisions, events, quantities) and what it refuses, with nothing written.

The whole state x action table is ``test_transitions.py``; the random walks are
``test_state_machine_property.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from exceptions_support import (
    AMEND_ORDER,
    CLOSE_ORDER,
    PROPOSE_CHANGES,
    RESPOND_TO_PROPOSAL,
    walk_to_state,
)
from lifecycle_support import (
    ACKNOWLEDGE_ORDER,
    CANCEL_ORDER,
    DECLINE_ORDER,
    DISPATCH_ORDER,
    ORDER,
    PROMISED,
    RECEIVE_DELIVERY,
    START_PRODUCTION,
    World,
    database_state,
    issue_order,
    make_world,
    ok,
    snapshot,
    walk_to,
)
from sqlalchemy import select

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.models import Awaiting, OrderStage, Proposal, ProposalStatus

RECEIPT = "query Receipts($id: ID!) { order(id: $id) { receipts { lines { lineNo quantity " \
    "rejectedQuantity rejectReason } } } }"  # fmt: skip


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


def _change(field: str, line_no: int | None, before: str | None, after: str | None) -> dict:
    return {"field": field, "lineNo": line_no, "before": before, "after": after}


def _terms(order: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(ln["lineNo"], ln["quantity"], ln["unitPrice"]) for ln in order["lines"]]


async def _refused(
    world: World, db: Database, gql: GraphQL, document: str, data: dict[str, Any]
) -> list[dict[str, Any]]:
    """``document`` is refused with userErrors, and not one row changed."""
    before = await database_state(db)
    body = await gql(document, {"input": data})
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["order"] is None
    assert payload["userErrors"]
    assert await database_state(db) == before
    errors: list[dict[str, Any]] = payload["userErrors"]
    return errors


# -- acknowledge with changes --------------------------------------------------------------


async def test_an_accepted_proposal_is_the_next_revision_and_acknowledges_the_order(
    world: World, clock: FixedClock
) -> None:
    # given the supplier's answer to a new PO: a later date, a dearer line 1, more of line 2
    order_id = await issue_order(world)
    proposed = await ok(
        world.supplier,
        PROPOSE_CHANGES,
        {
            "input": {
                "orderId": order_id,
                "promisedDate": "2026-04-03",
                "lines": [{"lineNo": 2, "quantity": 6}, {"lineNo": 1, "unitPrice": "11.00"}],
                "note": "steel went up 10%",
            }
        },
    )
    waiting = proposed["order"]
    assert (waiting["stage"], waiting["awaiting"], waiting["revision"]) == (
        "ISSUED",
        "ANSWER",
        1,
    )
    assert waiting["pendingProposal"] | {"id": None} == {
        "id": None,
        "revision": 1,
        "proposedAt": "2026-03-02T09:00:00+00:00",
        "promisedDate": "2026-04-03",
        "note": "steel went up 10%",
        "lines": [
            {"lineNo": 1, "quantity": None, "unitPrice": "11.00"},
            {"lineNo": 2, "quantity": 6, "unitPrice": None},
        ],
    }
    assert _terms(waiting) == [(1, 3, "10.00"), (2, 4, "2.50")]  # nothing applied yet

    # when the buyer accepts, two hours later
    clock.advance(hours=2)
    answer = {"orderId": order_id, "accept": True, "note": "fine", "expectedVersion": 2}
    await ok(world.buyer, RESPOND_TO_PROPOSAL, {"input": answer})

    # then the order is acknowledged on the proposed terms, as revision 2
    order = await snapshot(world, order_id)
    assert (order["stage"], order["awaiting"], order["revision"]) == (
        "ACKNOWLEDGED",
        "NOTHING",
        2,
    )
    assert order["pendingProposal"] is None
    assert _terms(order) == [(1, 3, "11.00"), (2, 6, "2.50")]
    assert order["total"] == "48.00"
    assert order["promisedDate"] == "2026-04-03"
    assert order["acknowledgedAt"] == order["stageEnteredAt"] == "2026-03-02T11:00:00+00:00"
    first, second = order["revisions"]
    assert first == {
        "number": 1,
        "at": order["issuedAt"],
        "by": "buyer",
        "reason": None,
        "changes": [],
    }
    assert second == {
        "number": 2,
        "at": "2026-03-02T11:00:00+00:00",
        "by": "supplier",
        "reason": "steel went up 10%",
        "changes": [
            _change("PROMISED_DATE", None, None, "2026-04-03"),
            _change("UNIT_PRICE", 1, "10.00", "11.00"),
            _change("QUANTITY", 2, "4", "6"),
        ],
    }
    proposal_event, accepted_event, acknowledged_event = order["events"][-3:]
    assert (proposal_event["kind"], proposal_event["stage"]) == ("CHANGES_PROPOSED", "ISSUED")
    assert proposal_event["promisedDate"] is None  # a proposed date is not a promise
    assert accepted_event == {
        "at": "2026-03-02T11:00:00+00:00",
        "stage": "ACKNOWLEDGED",
        "kind": "PROPOSAL_ACCEPTED",
        "actorRole": "buyer",
        "actorSubject": "buyer-user@org-a",
        "note": "fine",
        "promisedDate": "2026-04-03",
    }
    # the supplier's proposal, accepted, is its acknowledgement of the PO: the same event
    # a plain acknowledgement writes (the one a client, who never sees proposals, sees)
    assert acknowledged_event == {
        **accepted_event,
        "kind": "ACKNOWLEDGED",
        "actorRole": "supplier",
        "actorSubject": proposal_event["actorSubject"],
        "note": None,
    }
    # ... and the supplier goes on as after any acknowledgement
    await ok(world.supplier, START_PRODUCTION, {"input": {"orderId": order_id}})


@pytest.mark.parametrize(
    ("follow_up", "document", "data", "stage", "awaiting"),
    [
        (
            "acknowledge as issued",
            ACKNOWLEDGE_ORDER,
            {"promisedDate": PROMISED},
            "ACKNOWLEDGED",
            "NOTHING",
        ),
        (
            "propose again",
            PROPOSE_CHANGES,
            {"promisedDate": "2026-03-28", "note": "the date alone, then"},
            "ISSUED",
            "ANSWER",
        ),
        ("decline", DECLINE_ORDER, {"reason": "cannot at that price"}, "DECLINED", "NOTHING"),
    ],
)
async def test_after_a_rejected_proposal_the_supplier_acknowledges_proposes_again_or_declines(
    world: World,
    follow_up: str,
    document: str,
    data: dict[str, Any],
    stage: str,
    awaiting: str,
) -> None:
    # given a proposal the buyer rejected
    order_id = await walk_to_state(world, OrderStage.ISSUED, Awaiting.ANSWER)
    before = await snapshot(world, order_id)
    reject = {"orderId": order_id, "accept": False, "note": "no: the PO stands"}
    rejected = (await ok(world.buyer, RESPOND_TO_PROPOSAL, {"input": reject}))["order"]
    assert (rejected["stage"], rejected["awaiting"], rejected["revision"]) == (
        "ISSUED",
        "ACKNOWLEDGEMENT",
        1,
    )
    assert rejected["pendingProposal"] is None
    assert _terms(rejected) == _terms(before)
    assert rejected["events"][-1]["kind"] == "PROPOSAL_REJECTED"

    # when the supplier follows up
    order = (await ok(world.supplier, document, {"input": {"orderId": order_id} | data}))["order"]

    # then
    assert (order["stage"], order["awaiting"], order["revision"]) == (stage, awaiting, 1)
    assert _terms(order) == _terms(before)


async def test_while_a_proposal_waits_only_the_buyer_moves_it_and_a_cancel_lapses_it(
    world: World, db: Database
) -> None:
    # given a proposal waiting for the buyer's answer
    order_id = await walk_to_state(world, OrderStage.ISSUED, Awaiting.ANSWER)

    # when the supplier acknowledges or proposes again, or the buyer amends
    attempts = [
        (world.supplier, ACKNOWLEDGE_ORDER, {"promisedDate": PROMISED}),
        (world.supplier, PROPOSE_CHANGES, {"promisedDate": PROMISED, "note": "or this"}),
        (world.buyer, AMEND_ORDER, {"reason": "r", "lines": [{"lineNo": 1, "quantity": 9}]}),
    ]
    errors = [
        await _refused(world, db, gql, document, {"orderId": order_id} | data)
        for gql, document, data in attempts
    ]

    # then each is refused, saying what the order waits for
    for (error,) in errors:
        assert error["code"] == "INVALID_TRANSITION"
        assert error["message"].endswith("while a proposal is waiting for the buyer's answer")

    # and when the buyer cancels instead, the proposal lapses with the order
    await ok(world.buyer, CANCEL_ORDER, {"input": {"orderId": order_id, "reason": "gone"}})
    order = await snapshot(world, order_id)
    assert (order["stage"], order["awaiting"], order["pendingProposal"]) == (
        "CANCELLED",
        "NOTHING",
        None,
    )
    async with db.read_session() as session:
        statuses = list(
            await session.scalars(select(Proposal.status).where(Proposal.order_id == order_id))
        )
    assert statuses == [ProposalStatus.LAPSED]


async def test_a_proposal_on_a_new_po_needs_a_date_and_any_proposal_a_note(
    world: World, db: Database
) -> None:
    order_id = await issue_order(world)

    errors = await _refused(
        world,
        db,
        world.supplier,
        PROPOSE_CHANGES,
        {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 2}], "note": " "},
    )

    assert sorted((e["code"], e["field"]) for e in errors) == [
        ("VALIDATION", ["input", "note"]),
        ("VALIDATION", ["input", "promisedDate"]),
    ]


# -- amendments -----------------------------------------------------------------------------


async def test_an_amendment_in_production_must_be_acknowledged_before_the_supplier_goes_on(
    world: World, db: Database, clock: FixedClock
) -> None:
    # given an order in production
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    clock.advance(hours=3)

    # when the buyer amends it: a later need-by, more of line 2, a new line
    amendment = {
        "orderId": order_id,
        "needBy": "2026-04-08",
        "lines": [{"lineNo": 2, "quantity": 6}],
        "addLines": [{"partNumber": "GSKT-3003", "quantity": 10, "unitPrice": "0.75"}],
        "reason": "client added gaskets",
        "visibleTo": ["SUPPLIER"],
    }
    amended = (await ok(world.buyer, AMEND_ORDER, {"input": amendment}))["order"]

    # then: revision 2 awaits the supplier's acknowledgement; every term is as amended
    assert (amended["stage"], amended["awaiting"], amended["revision"]) == (
        "IN_PRODUCTION",
        "ACKNOWLEDGEMENT",
        2,
    )
    assert amended["needBy"] == "2026-04-08"
    assert _terms(amended) == [(1, 3, "10.00"), (2, 6, "2.50"), (3, 10, "0.75")]
    assert amended["total"] == "52.50"
    assert amended["revisions"][-1] == {
        "number": 2,
        "at": "2026-03-02T12:00:00+00:00",
        "by": "buyer",
        "reason": "client added gaskets",
        "changes": [
            _change("NEED_BY", None, "2026-04-01", "2026-04-08"),
            _change("QUANTITY", 2, "4", "6"),
            _change("LINE_ADDED", 3, None, "GSKT-3003"),
            _change("QUANTITY", 3, None, "10"),
            _change("UNIT_PRICE", 3, None, "0.75"),
        ],
    }
    # ... the supplier cannot dispatch or move its date on the old terms
    for document, data in (
        (DISPATCH_ORDER, {"method": "OWN_DRIVER"}),
        (START_PRODUCTION, {}),
    ):
        (error,) = await _refused(world, db, world.supplier, document, {"orderId": order_id} | data)
        assert error["code"] == "INVALID_TRANSITION"
    # ... until it acknowledges the revision, with its date
    acked = await ok(
        world.supplier,
        ACKNOWLEDGE_ORDER,
        {"input": {"orderId": order_id, "promisedDate": "2026-03-25"}},
    )
    assert (acked["order"]["stage"], acked["order"]["awaiting"]) == ("IN_PRODUCTION", "NOTHING")
    assert acked["order"]["promisedDate"] == "2026-03-25"
    shipped = await ok(
        world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id, "method": "OWN_DRIVER"}}
    )
    assert [ln["dispatchedQuantity"] for ln in shipped["order"]["lines"]] == [3, 6, 10]


async def test_an_amendment_never_goes_below_what_was_dispatched(
    world: World, db: Database
) -> None:
    # given all 3 of line 1 dispatched
    order_id = await walk_to(world, OrderStage.DISPATCHED)

    # when the buyer cuts line 1 to 2
    errors = await _refused(
        world,
        db,
        world.buyer,
        AMEND_ORDER,
        {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 2}], "reason": "fewer"},
    )

    # then
    assert errors == [
        {
            "code": "VALIDATION",
            "message": "line 1: 3 already dispatched, 2 is less",
            "field": ["input", "lines", "0", "quantity"],
        }
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([{"lineNo": 1, "quantity": 3}, {"lineNo": 2, "unitPrice": "2.50"}], "changes nothing"),
        ([{"lineNo": 1}], "give a new quantity or unit price"),
        ([{"lineNo": 9, "quantity": 1}], "no line 9 on this order"),
        ([{"lineNo": 1, "quantity": 0}, {"lineNo": 2, "quantity": 0}], "nothing would be left"),
        ([{"lineNo": 1, "unitPrice": "-1"}], "must not be negative"),
    ],
)
async def test_an_amendment_that_would_not_make_sense_is_refused(
    world: World, db: Database, lines: list[dict[str, Any]], message: str
) -> None:
    order_id = await walk_to(world, OrderStage.ACKNOWLEDGED)

    errors = await _refused(
        world, db, world.buyer, AMEND_ORDER, {"orderId": order_id, "lines": lines, "reason": "r"}
    )

    assert [e["code"] for e in errors] == ["VALIDATION"]
    assert message in errors[0]["message"]


# -- rejects at receipt ---------------------------------------------------------------------


async def test_rejected_goods_are_not_received_go_back_to_be_dispatched_and_tell_the_supplier_why(
    world: World,
) -> None:
    # given all 3 of line 1 on their way
    order_id = await walk_to(world, OrderStage.DISPATCHED)

    # when the buyer accepts 2 and rejects 1
    receipt = {
        "orderId": order_id,
        "lines": [{"lineNo": 1, "quantity": 2, "rejectedQuantity": 1, "rejectReason": "cracked"}],
    }
    order = (await ok(world.buyer, RECEIVE_DELIVERY, {"input": receipt}))["order"]

    # then
    assert order["stage"] == "DISPATCHED"
    line = order["lines"][0]
    assert (line["dispatchedQuantity"], line["receivedQuantity"], line["rejectedQuantity"]) == (
        2,
        2,
        1,
    )
    seen = await world.supplier(RECEIPT, {"id": order_id})
    assert seen["data"]["order"]["receipts"] == [
        {"lines": [{"lineNo": 1, "quantity": 2, "rejectedQuantity": 1, "rejectReason": "cracked"}]}
    ]
    # ... the supplier sends the one again with the rest, and the order completes
    await ok(
        world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id, "method": "OWN_DRIVER"}}
    )
    rest = {
        "orderId": order_id,
        "lines": [{"lineNo": 1, "quantity": 1}, {"lineNo": 2, "quantity": 4}],
    }
    done = (await ok(world.buyer, RECEIVE_DELIVERY, {"input": rest}))["order"]
    assert done["stage"] == "DELIVERED"
    assert [ln["receivedQuantity"] for ln in done["lines"]] == [3, 4]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"quantity": 2, "rejectedQuantity": 1}, "rejectReason", "must not be empty"),
        ({"quantity": 2, "rejectReason": "bent"}, "rejectReason", "only with a rejected quantity"),
        ({"quantity": 2, "rejectedQuantity": 2, "rejectReason": "bent"}, "quantity", "more than"),
        ({"quantity": 0, "rejectedQuantity": 0}, "quantity", "greater than zero"),
        (
            {"quantity": 1, "rejectedQuantity": -1, "rejectReason": "x"},
            "rejectedQuantity",
            "negative",
        ),
    ],
)
async def test_a_receipt_line_with_rejects_that_do_not_add_up_is_refused(
    world: World, db: Database, line: dict[str, Any], field: str, message: str
) -> None:
    order_id = await walk_to(world, OrderStage.DISPATCHED)

    errors = await _refused(
        world,
        db,
        world.buyer,
        RECEIVE_DELIVERY,
        {"orderId": order_id, "lines": [{"lineNo": 1} | line]},
    )

    [error] = errors
    assert error["field"] == ["input", "lines", "0", field]
    assert message in error["message"]


# -- short-close ----------------------------------------------------------------------------


async def test_a_short_closed_order_cancels_what_is_outstanding_and_keeps_what_came(
    world: World, db: Database, clock: FixedClock, as_role: Callable[..., GraphQL]
) -> None:
    # given an order shipped short: line 1 came, line 2 never will
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    await ok(
        world.buyer,
        RECEIVE_DELIVERY,
        {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 3}]}},
    )
    clock.advance(days=30)  # long overdue

    # when the buyer closes it
    closed = await ok(
        world.buyer,
        CLOSE_ORDER,
        {"input": {"orderId": order_id, "reason": "rest not needed", "expectedVersion": 5}},
    )

    # then
    order = await snapshot(world, order_id)
    assert closed["order"] == order
    assert (order["stage"], order["awaiting"]) == ("CLOSED", "NOTHING")
    assert [(ln["receivedQuantity"], ln["cancelledQuantity"]) for ln in order["lines"]] == [
        (3, 0),
        (0, 4),
    ]
    assert order["events"][-1] | {"at": None} == {
        "at": None,
        "stage": "CLOSED",
        "kind": "CLOSED",
        "actorRole": "buyer",
        "actorSubject": "buyer-user@org-a",
        "note": "rest not needed",
        "promisedDate": None,
    }
    outlook = await world.buyer(
        "query O($id: ID!) { order(id: $id) { outlook alerts { kind } } }", {"id": order_id}
    )
    assert outlook["data"]["order"] == {"outlook": "DELIVERED", "alerts": []}
    # ... nothing more is dispatched or received
    for gql, document, data in (
        (world.supplier, DISPATCH_ORDER, {"method": "OWN_DRIVER"}),
        (world.buyer, RECEIVE_DELIVERY, {"lines": [{"lineNo": 2, "quantity": 1}]}),
    ):
        (error,) = await _refused(world, db, gql, document, {"orderId": order_id} | data)
        assert error["code"] == "INVALID_TRANSITION"
        assert "CLOSED" in error["message"]


async def test_an_order_with_nothing_dispatched_is_cancelled_not_closed(
    world: World, db: Database
) -> None:
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)

    (error,) = await _refused(
        world, db, world.buyer, CLOSE_ORDER, {"orderId": order_id, "reason": "r"}
    )

    assert error["code"] == "INVALID_TRANSITION"
    assert error["message"] == "cannot close an order in stage IN_PRODUCTION"


# -- the same guarantees as every other command ----------------------------------------------

# (mutation, who, the state it applies in, its input)
COMMANDS = {
    "proposeChanges": (
        PROPOSE_CHANGES,
        "supplier",
        (OrderStage.ISSUED, Awaiting.ACKNOWLEDGEMENT),
        {"promisedDate": "2026-03-25", "note": "a week later"},
    ),
    "respondToProposal": (
        RESPOND_TO_PROPOSAL,
        "buyer",
        (OrderStage.ISSUED, Awaiting.ANSWER),
        {"accept": True},
    ),
    "amendOrder": (
        AMEND_ORDER,
        "buyer",
        (OrderStage.ACKNOWLEDGED, Awaiting.NOTHING),
        {"lines": [{"lineNo": 1, "quantity": 5}], "reason": "more"},
    ),
    "closeOrder": (
        CLOSE_ORDER,
        "buyer",
        (OrderStage.DISPATCHED, Awaiting.NOTHING),
        {"reason": "enough"},
    ),
}


@pytest.mark.parametrize("mutation", list(COMMANDS))
async def test_a_new_command_with_a_stale_version_is_a_conflict_and_with_a_key_runs_once(
    world: World, db: Database, clock: FixedClock, mutation: str
) -> None:
    # given an order in the state the command applies in
    document, role, state, data = COMMANDS[mutation]
    gql = world.buyer if role == "buyer" else world.supplier
    order_id = await walk_to_state(world, *state)
    version = (await snapshot(world, order_id))["version"]

    # when / then: one version behind is a CONFLICT, nothing written
    (error,) = await _refused(
        world, db, gql, document, {"orderId": order_id, "expectedVersion": version - 1} | data
    )
    assert (error["code"], error["field"]) == ("CONFLICT", ["input", "expectedVersion"])

    # when / then: sent twice with one key, it changes the order once and answers alike
    keyed = {"orderId": order_id, "idempotencyKey": f"{mutation}-1"} | data
    first = await gql(document, {"input": keyed})
    clock.advance(hours=1)
    rows = await database_state(db)
    again = await gql(document, {"input": keyed})
    assert first["data"][mutation]["userErrors"] == []
    assert again == first
    assert await database_state(db) == rows
    after = await world.buyer(ORDER, {"id": order_id})
    assert after["data"]["order"]["version"] == version + 1
