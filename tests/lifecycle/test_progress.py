"""Progress within a stage over HTTP: shipments in parts, receipts in parts, and a
promised date that moves (the heartbeat)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lifecycle_support import (
    ADD_MILESTONE,
    DISPATCH_ORDER,
    PROMISED,
    RECEIVE_DELIVERY,
    UPDATE_PROMISED_DATE,
    World,
    make_world,
    ok,
    snapshot,
    walk_to,
)
from sqlalchemy import select

from conftest import FixedClock, GraphQL
from db import models
from db.engine import Database
from db.models import OrderStage


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


async def promise_slips(db: Database, order_id: str) -> int:
    async with db.read_session() as session:
        slips = await session.scalar(
            select(models.Order.promise_slips).where(models.Order.id == order_id)
        )
    assert slips is not None
    return slips


async def test_dispatching_in_two_shipments_stays_dispatched_and_records_both(
    world: World, clock: FixedClock
) -> None:
    # given an order in production
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)

    # when part of line 1 goes by courier, and later the rest (lines omitted) by own driver
    first = await ok(
        world.supplier,
        DISPATCH_ORDER,
        {
            "input": {
                "orderId": order_id,
                "method": "COURIER",
                "carrier": " DHL ",
                "trackingReference": "JD0146",
                "trackingUrl": "https://track.example/JD0146?lang=en",
                "lines": [{"lineNo": 1, "quantity": 2}],
            }
        },
    )
    clock.advance(hours=3)
    second = await ok(
        world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id, "method": "OWN_DRIVER"}}
    )

    # then
    assert first["order"]["stage"] == "DISPATCHED"
    assert [ln["dispatchedQuantity"] for ln in first["order"]["lines"]] == [2, 0]
    order = await snapshot(world, order_id)
    assert second["order"] == order
    assert order["stage"] == "DISPATCHED"
    assert order["dispatchedAt"] == "2026-03-02T09:00:00+00:00"  # the first shipment's time
    assert order["stageEnteredAt"] == "2026-03-02T09:00:00+00:00"
    assert [ln["dispatchedQuantity"] for ln in order["lines"]] == [3, 4]
    assert [ln["receivedQuantity"] for ln in order["lines"]] == [0, 0]
    assert [{k: v for k, v in s.items() if k != "id"} for s in order["shipments"]] == [
        {
            "method": "COURIER",
            "carrier": "DHL",
            "trackingReference": "JD0146",
            "trackingUrl": "https://track.example/JD0146?lang=en",
            "dispatchedAt": "2026-03-02T09:00:00+00:00",
            "lines": [{"lineNo": 1, "quantity": 2}],
        },
        {
            "method": "OWN_DRIVER",
            "carrier": None,
            "trackingReference": None,
            "trackingUrl": None,
            "dispatchedAt": "2026-03-02T12:00:00+00:00",
            "lines": [{"lineNo": 1, "quantity": 1}, {"lineNo": 2, "quantity": 4}],
        },
    ]
    assert [e["kind"] for e in order["events"]][-2:] == ["DISPATCHED", "DISPATCHED"]
    assert order["version"] == 5  # issue, acknowledge, start, two dispatches


async def test_partial_receipts_stay_dispatched_until_everything_is_received(
    world: World, clock: FixedClock
) -> None:
    # given everything dispatched
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    await ok(
        world.supplier, DISPATCH_ORDER, {"input": {"orderId": order_id, "method": "OWN_DRIVER"}}
    )

    # when the buyer checks it in over three deliveries
    receipts = [
        [{"lineNo": 1, "quantity": 1}],
        [{"lineNo": 2, "quantity": 4}, {"lineNo": 1, "quantity": 1}],
        [{"lineNo": 1, "quantity": 1}],
    ]
    seen = []
    for lines in receipts:
        clock.advance(hours=1)
        payload = await ok(
            world.buyer,
            RECEIVE_DELIVERY,
            {"input": {"orderId": order_id, "lines": lines, "note": "pallet ok"}},
        )
        order = payload["order"]
        seen.append((order["stage"], [ln["receivedQuantity"] for ln in order["lines"]]))

    # then
    assert seen == [
        ("DISPATCHED", [1, 0]),
        ("DISPATCHED", [2, 4]),
        ("DELIVERED", [3, 4]),
    ]
    order = await snapshot(world, order_id)
    assert order["deliveredAt"] == "2026-03-02T12:00:00+00:00"
    assert [
        ([(ln["lineNo"], ln["quantity"]) for ln in r["lines"]], r["receivedAt"], r["note"])
        for r in order["receipts"]
    ] == [
        ([(1, 1)], "2026-03-02T10:00:00+00:00", "pallet ok"),
        ([(1, 1), (2, 4)], "2026-03-02T11:00:00+00:00", "pallet ok"),
        ([(1, 1)], "2026-03-02T12:00:00+00:00", "pallet ok"),
    ]
    assert [e["kind"] for e in order["events"]] == [
        "ISSUED",
        "ACKNOWLEDGED",
        "PRODUCTION_STARTED",
        "DISPATCHED",
        "RECEIVED",
        "RECEIVED",
        "RECEIVED",
        "DELIVERED",
    ]
    assert order["version"] == 7  # the last receipt and the delivery are one change


async def test_a_later_promised_date_counts_as_a_slip_and_is_written_as_an_event(
    world: World, db: Database, clock: FixedClock
) -> None:
    # given an acknowledged order promised for PROMISED
    order_id = await walk_to(world, OrderStage.ACKNOWLEDGED)
    assert await promise_slips(db, order_id) == 0

    # when the supplier moves the date later, then earlier again, then later again
    moves = [("2026-03-27", "steel is late"), ("2026-03-25", "found stock"), ("2026-04-03", "x")]
    results = []
    for new_date, reason in moves:
        clock.advance(hours=2)
        payload = await ok(
            world.supplier,
            UPDATE_PROMISED_DATE,
            {"input": {"orderId": order_id, "promisedDate": new_date, "reason": reason}},
        )
        results.append((payload["order"]["promisedDate"], await promise_slips(db, order_id)))

    # then only the moves later count, and each move is an event with its date
    assert results == [("2026-03-27", 1), ("2026-03-25", 1), ("2026-04-03", 2)]
    order = await snapshot(world, order_id)
    assert order["stage"] == "ACKNOWLEDGED"
    updates = [e for e in order["events"] if e["kind"] == "PROMISE_UPDATED"]
    assert [(e["promisedDate"], e["note"], e["actorRole"], e["stage"]) for e in updates] == [
        ("2026-03-27", "steel is late", "supplier", "ACKNOWLEDGED"),
        ("2026-03-25", "found stock", "supplier", "ACKNOWLEDGED"),
        ("2026-04-03", "x", "supplier", "ACKNOWLEDGED"),
    ]
    ack = next(e for e in order["events"] if e["kind"] == "ACKNOWLEDGED")
    assert ack["promisedDate"] == PROMISED  # the first promise stays in the record


async def test_a_milestone_is_a_note_in_the_trail_and_nothing_else(
    world: World, clock: FixedClock
) -> None:
    # given
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    before = await snapshot(world, order_id)
    clock.advance(hours=1)

    # when
    await ok(world.supplier, ADD_MILESTONE, {"input": {"orderId": order_id, "note": " parts cut "}})

    # then
    after = await snapshot(world, order_id)
    assert after["events"][-1] == {
        "at": "2026-03-02T10:00:00+00:00",
        "stage": "IN_PRODUCTION",
        "kind": "MILESTONE",
        "actorRole": "supplier",
        "actorSubject": "supplier-user@org-a",
        "note": "parts cut",
        "promisedDate": None,
    }
    unchanged = {k for k in before if k not in ("events", "version")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert after["version"] == before["version"] + 1
