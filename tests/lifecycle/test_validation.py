"""Bad input and stale versions over HTTP: a typed user error, and nothing written.

Each case runs on an order in a stage where the action is legal, so the only thing
wrong is the input. "Nothing written" means every row of every table is what it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from lifecycle_support import (
    ACKNOWLEDGE_ORDER,
    ADD_MILESTONE,
    CANCEL_ORDER,
    DECLINE_ORDER,
    DISPATCH_ORDER,
    LATER,
    PROMISED,
    RECEIVE_DELIVERY,
    STEP_BY_FIELD,
    STEPS,
    SUBMIT_INVOICE,
    UPDATE_PROMISED_DATE,
    YESTERDAY,
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
from db.models import OrderStage


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


@dataclass(frozen=True)
class Case:
    stage: OrderStage
    role: str
    document: str
    input: dict[str, Any]  # merged over {"orderId": ...}
    errors: list[tuple[str, list[str]]]  # (code, field) of every expected user error


def _lines(*pairs: tuple[int, int]) -> list[dict[str, int]]:
    return [{"lineNo": n, "quantity": q} for n, q in pairs]


def _invoice(*lines: tuple[int, int, str], number: str = "INV-1") -> dict[str, Any]:
    return {
        "number": number,
        "lines": [{"lineNo": n, "quantity": q, "unitPrice": p} for n, q, p in lines],
    }


D, R, B = OrderStage.DISPATCHED, "receiveDelivery", "buyer"
COURIER = {"method": "COURIER", "carrier": "DHL"}

CASES: dict[str, Case] = {
    # dates
    "acknowledge with a promised date in the past": Case(
        OrderStage.ISSUED,
        "supplier",
        ACKNOWLEDGE_ORDER,
        {"promisedDate": YESTERDAY},
        [("VALIDATION", ["input", "promisedDate"])],
    ),
    "update to a promised date in the past": Case(
        OrderStage.ACKNOWLEDGED,
        "supplier",
        UPDATE_PROMISED_DATE,
        {"promisedDate": YESTERDAY, "reason": "oops"},
        [("VALIDATION", ["input", "promisedDate"])],
    ),
    "update to the same promised date": Case(
        OrderStage.ACKNOWLEDGED,
        "supplier",
        UPDATE_PROMISED_DATE,
        {"promisedDate": PROMISED, "reason": "no change"},
        [("VALIDATION", ["input", "promisedDate"])],
    ),
    # receipts
    "receive more than was dispatched": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((1, 4))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "receive a line that was never dispatched": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((2, 1))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "receive an unknown line": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((9, 1))},
        [("VALIDATION", ["input", "lines", "0", "lineNo"])],
    ),
    "receive a line twice": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((1, 1), (1, 1))},
        [("VALIDATION", ["input", "lines", "1", "lineNo"])],
    ),
    "receive zero": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((1, 0))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "receive a negative quantity": Case(
        D,
        B,
        RECEIVE_DELIVERY,
        {"lines": _lines((1, -1))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "receive nothing": Case(
        D, B, RECEIVE_DELIVERY, {"lines": []}, [("VALIDATION", ["input", "lines"])]
    ),
    # dispatch
    "dispatch an unknown line": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"lines": _lines((9, 1))},
        [("VALIDATION", ["input", "lines", "0", "lineNo"])],
    ),
    "dispatch a line twice": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"lines": _lines((2, 1), (2, 1))},
        [("VALIDATION", ["input", "lines", "1", "lineNo"])],
    ),
    "dispatch zero": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"lines": _lines((2, 0))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "dispatch more than remains": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"lines": _lines((1, 1))},
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "dispatch an empty list of lines": Case(
        D, "supplier", DISPATCH_ORDER, COURIER | {"lines": []}, [("VALIDATION", ["input", "lines"])]
    ),
    "dispatch by courier without a carrier": Case(
        D, "supplier", DISPATCH_ORDER, {"method": "COURIER"}, [("VALIDATION", ["input", "carrier"])]
    ),
    "dispatch by freight with a blank carrier": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        {"method": "FREIGHT", "carrier": "   "},
        [("VALIDATION", ["input", "carrier"])],
    ),
    "dispatch with a javascript tracking URL": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingUrl": "javascript:alert(1)"},
        [("VALIDATION", ["input", "trackingUrl"])],
    ),
    "dispatch with an ftp tracking URL": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingUrl": "ftp://x"},
        [("VALIDATION", ["input", "trackingUrl"])],
    ),
    "dispatch with a hostless tracking URL": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingUrl": "https:///path"},
        [("VALIDATION", ["input", "trackingUrl"])],
    ),
    "dispatch with a data tracking URL": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingUrl": "data:text/html,<b>x</b>"},
        [("VALIDATION", ["input", "trackingUrl"])],
    ),
    "dispatch with every problem at once": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        {"method": "COURIER", "trackingUrl": "ftp://x", "lines": _lines((9, 1), (2, 0))},
        [
            ("VALIDATION", ["input", "trackingUrl"]),
            ("VALIDATION", ["input", "carrier"]),
            ("VALIDATION", ["input", "lines", "0", "lineNo"]),
            ("VALIDATION", ["input", "lines", "1", "quantity"]),
        ],
    ),
    # invoices
    "invoice an unknown line": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((9, 1, "1.00")),
        [("VALIDATION", ["input", "lines", "0", "lineNo"])],
    ),
    "invoice a line twice": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 1, "10.00"), (1, 1, "10.00")),
        [("VALIDATION", ["input", "lines", "1", "lineNo"])],
    ),
    "invoice zero": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 0, "10.00")),
        [("VALIDATION", ["input", "lines", "0", "quantity"])],
    ),
    "invoice a negative price": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 1, "-10.00")),
        [("VALIDATION", ["input", "lines", "0", "unitPrice"])],
    ),
    "invoice without a number": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 1, "10.00"), number="  "),
        [("VALIDATION", ["input", "number"])],
    ),
    "invoice without lines": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        {"number": "INV-1", "lines": []},
        [("VALIDATION", ["input", "lines"])],
    ),
    # lengths
    "dispatch with a 201-character carrier": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        {"method": "COURIER", "carrier": "c" * 201},
        [("VALIDATION", ["input", "carrier"])],
    ),
    "dispatch with a 201-character tracking reference": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingReference": "r" * 201},
        [("VALIDATION", ["input", "trackingReference"])],
    ),
    "dispatch with a tracking URL over 2000 characters": Case(
        D,
        "supplier",
        DISPATCH_ORDER,
        COURIER | {"trackingUrl": "https://track.example/" + "a" * 2000},
        [("VALIDATION", ["input", "trackingUrl"])],
    ),
    "invoice with a 65-character number": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 1, "10.00"), number="N" * 65),
        [("VALIDATION", ["input", "number"])],
    ),
    "invoice a price with five decimal places": Case(
        D,
        "supplier",
        SUBMIT_INVOICE,
        _invoice((1, 1, "10.00001")),
        [("VALIDATION", ["input", "lines", "0", "unitPrice"])],
    ),
    "acknowledge with a 2001-character note": Case(
        OrderStage.ISSUED,
        "supplier",
        ACKNOWLEDGE_ORDER,
        {"promisedDate": PROMISED, "note": "n" * 2001},
        [("VALIDATION", ["input", "note"])],
    ),
    "add a blank milestone": Case(
        OrderStage.IN_PRODUCTION,
        "supplier",
        ADD_MILESTONE,
        {"note": "  "},
        [("VALIDATION", ["input", "note"])],
    ),
    # reasons
    "decline without a reason": Case(
        OrderStage.ISSUED,
        "supplier",
        DECLINE_ORDER,
        {"reason": ""},
        [("VALIDATION", ["input", "reason"])],
    ),
    "decline with a blank reason": Case(
        OrderStage.ISSUED,
        "supplier",
        DECLINE_ORDER,
        {"reason": " \t "},
        [("VALIDATION", ["input", "reason"])],
    ),
    "cancel without a reason": Case(
        OrderStage.ISSUED, B, CANCEL_ORDER, {"reason": ""}, [("VALIDATION", ["input", "reason"])]
    ),
    "cancel with a blank reason": Case(
        OrderStage.IN_PRODUCTION,
        B,
        CANCEL_ORDER,
        {"reason": "   "},
        [("VALIDATION", ["input", "reason"])],
    ),
    "update the promised date without a reason": Case(
        OrderStage.ACKNOWLEDGED,
        "supplier",
        UPDATE_PROMISED_DATE,
        {"promisedDate": LATER, "reason": ""},
        [("VALIDATION", ["input", "reason"])],
    ),
    "update the promised date with a blank reason": Case(
        OrderStage.IN_PRODUCTION,
        "supplier",
        UPDATE_PROMISED_DATE,
        {"promisedDate": LATER, "reason": "  "},
        [("VALIDATION", ["input", "reason"])],
    ),
}


async def _assert_refused(
    world: World,
    db: Database,
    gql: GraphQL,
    document: str,
    order_id: str,
    data: dict[str, Any],
    errors: list[tuple[str, list[str]]],
    case: str = "",
) -> list[dict[str, Any]]:
    before = await database_state(db)

    body = await gql(document, {"input": {"orderId": order_id} | data})

    assert "errors" not in body, (case, body)
    (payload,) = body["data"].values()
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == errors, case
    assert payload.get("order", payload.get("invoice")) is None, case
    assert await database_state(db) == before, case
    user_errors: list[dict[str, Any]] = payload["userErrors"]
    return user_errors


CASE_STAGES = sorted({case.stage for case in CASES.values()}, key=list(OrderStage).index)


@pytest.mark.parametrize("stage", CASE_STAGES, ids=lambda s: s.value)
async def test_bad_input_is_a_validation_error_and_writes_nothing(
    world: World, db: Database, stage: OrderStage
) -> None:
    # given one order where each action itself would be legal (a refused attempt
    # changes nothing, which is checked after each one, so all can share it)
    order_id = await walk_to(world, stage)

    for name, case in CASES.items():
        if case.stage is not stage:
            continue
        # when / then
        await _assert_refused(
            world,
            db,
            caller(world, case.role),
            case.document,
            order_id,
            case.input,
            case.errors,
            case=name,
        )


async def test_dispatching_an_already_fully_dispatched_order_is_a_validation_error(
    world: World, db: Database
) -> None:
    # given everything on its way
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    await ok(world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id} | COURIER})

    # when / then (a legal transition from DISPATCHED, but nothing is left to ship)
    (error,) = await _assert_refused(
        world,
        db,
        world.supplier,
        DISPATCH_ORDER,
        order_id,
        COURIER,
        [("VALIDATION", ["input", "lines"])],
    )
    assert error["message"] == "everything on this order has already been dispatched"


async def test_an_invoice_number_cannot_be_used_twice_by_the_same_supplier(
    world: World, db: Database
) -> None:
    # given one invoice already submitted
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    await ok(
        world.supplier, SUBMIT_INVOICE, {"input": {"orderId": order_id} | _invoice((1, 1, "10.00"))}
    )

    # when / then: the same number, even padded with spaces
    for number in ("INV-1", "  INV-1 "):
        await _assert_refused(
            world,
            db,
            world.supplier,
            SUBMIT_INVOICE,
            order_id,
            _invoice((1, 2, "10.00"), number=number),
            [("VALIDATION", ["input", "number"])],
        )


async def test_another_supplier_may_use_the_same_invoice_number(
    world: World, as_role: Callable[..., GraphQL]
) -> None:
    # given the first supplier's invoice INV-1, and a dispatched order of the second
    first = await walk_to(world, OrderStage.DISPATCHED)
    await ok(
        world.supplier, SUBMIT_INVOICE, {"input": {"orderId": first} | _invoice((1, 1, "10.00"))}
    )
    swapped = World(
        buyer=world.buyer,
        supplier=world.other_supplier,
        other_supplier=world.supplier,
        supplier_id=world.other_supplier_id,
        other_supplier_id=world.supplier_id,
    )
    second = await walk_to(swapped, OrderStage.DISPATCHED)

    # when
    payload = await ok(
        world.other_supplier,
        SUBMIT_INVOICE,
        {"input": {"orderId": second} | _invoice((1, 1, "10.00"))},
    )

    # then
    assert payload["invoice"]["number"] == "INV-1"


# -- stale versions ---------------------------------------------------------------------

CONFLICT_STAGE = {
    "acknowledgeOrder": OrderStage.ISSUED,
    "declineOrder": OrderStage.ISSUED,
    "startProduction": OrderStage.ACKNOWLEDGED,
    "updatePromisedDate": OrderStage.ACKNOWLEDGED,
    "addMilestone": OrderStage.IN_PRODUCTION,
    "dispatchOrder": OrderStage.IN_PRODUCTION,
    "receiveDelivery": OrderStage.DISPATCHED,
    "cancelOrder": OrderStage.ACKNOWLEDGED,
    "submitInvoice": OrderStage.DISPATCHED,
}


@pytest.mark.parametrize("field", [s.field for s in STEPS])
async def test_a_stale_expected_version_is_a_conflict_and_the_current_one_goes_through(
    world: World, db: Database, clock: FixedClock, field: str
) -> None:
    # given an order that has moved on since the caller loaded it
    step = STEP_BY_FIELD[field]
    order_id = await walk_to(world, CONFLICT_STAGE[field])
    current = await snapshot(world, order_id)
    clock.advance(hours=1)
    data = step.make_input(current)
    del data["orderId"]

    # when / then: one version behind is a conflict, and nothing is written
    (error,) = await _assert_refused(
        world,
        db,
        caller(world, step.role),
        step.document,
        order_id,
        data | {"expectedVersion": current["version"] - 1},
        [("CONFLICT", ["input", "expectedVersion"])],
    )
    assert f"version {current['version']}" in error["message"]

    # when / then: the current version lets the very same action through
    await ok(
        caller(world, step.role),
        step.document,
        {"input": {"orderId": order_id, "expectedVersion": current["version"]} | data},
    )
    assert (await snapshot(world, order_id))["version"] == current["version"] + 1
