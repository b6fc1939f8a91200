"""Idempotency keys over HTTP: a retried mutation replays its first result and writes
nothing; keys belong to one caller and one operation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from lifecycle_support import (
    ADD_MILESTONE,
    DISPATCH_ORDER,
    SUBMIT_INVOICE,
    World,
    database_state,
    make_world,
    ok,
    snapshot,
    walk_to,
)
from sqlalchemy import func, select

from conftest import FixedClock, GraphQL
from db import models
from db.engine import Database
from db.models import OrderStage

KEY = "dispatch-2026-03-02-0001"
RETRIES = 5


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


def dispatch_input(order_id: str, key: str | None = KEY, **changes: Any) -> dict[str, Any]:
    """Ship two units of line 1 by courier."""
    data = {
        "orderId": order_id,
        "method": "COURIER",
        "carrier": "DHL",
        "trackingReference": "JD0146",
        "lines": [{"lineNo": 1, "quantity": 2}],
        "idempotencyKey": key,
    }
    return {"input": data | changes}


async def shipment_count(db: Database, order_id: str) -> int:
    async with db.read_session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(models.Shipment)
            .where(models.Shipment.order_id == order_id)
        )
    return int(count or 0)


async def test_the_same_dispatch_sent_five_times_in_a_row_ships_once_and_answers_the_same(
    world: World, db: Database, clock: FixedClock
) -> None:
    # given an order in production
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)

    # when the supplier's client retries, an hour apart
    bodies = []
    for _ in range(RETRIES):
        bodies.append(await world.supplier(DISPATCH_ORDER, dispatch_input(order_id)))
        clock.advance(hours=1)

    # then
    assert bodies[0]["data"]["dispatchOrder"]["userErrors"] == []
    assert all(body == bodies[0] for body in bodies), bodies
    assert await shipment_count(db, order_id) == 1
    order = await snapshot(world, order_id)
    assert order["version"] == 4
    assert [e["kind"] for e in order["events"]].count("DISPATCHED") == 1
    assert order["lines"][0]["dispatchedQuantity"] == 2


async def test_the_same_dispatch_sent_five_times_at_once_ships_once_and_answers_the_same(
    world: World, db: Database
) -> None:
    # On PostgreSQL this needs the key itself serialised (the retries must not look it up
    # before the first commits): without that they queue on the order's row lock, run
    # the command again and fail with VALIDATION instead of replaying.
    # given
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)

    # when
    bodies = await asyncio.gather(
        *(world.supplier(DISPATCH_ORDER, dispatch_input(order_id)) for _ in range(RETRIES))
    )

    # then
    assert bodies[0]["data"]["dispatchOrder"]["userErrors"] == [], bodies[0]
    assert all(body == bodies[0] for body in bodies), bodies
    assert await shipment_count(db, order_id) == 1
    assert (await snapshot(world, order_id))["version"] == 4


async def test_a_key_reused_for_a_different_operation_is_a_validation_error(
    world: World, db: Database
) -> None:
    # given a dispatch made with KEY (the order now takes invoices)
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    await ok(world.supplier, DISPATCH_ORDER, dispatch_input(order_id))
    before = await database_state(db)

    # when
    body = await world.supplier(
        SUBMIT_INVOICE,
        {
            "input": {
                "orderId": order_id,
                "number": "INV-1",
                "lines": [{"lineNo": 1, "quantity": 2, "unitPrice": "10.00"}],
                "idempotencyKey": KEY,
            }
        },
    )

    # then
    payload = body["data"]["submitInvoice"]
    assert payload["invoice"] is None
    assert payload["userErrors"] == [
        {
            "code": "VALIDATION",
            "message": "idempotencyKey was already used for a different request",
            "field": ["input", "idempotencyKey"],
        }
    ]
    assert await database_state(db) == before


async def test_a_key_reused_for_the_same_operation_on_another_order_is_refused(
    world: World, db: Database
) -> None:
    # given a dispatch of one order made with KEY
    first_order = await walk_to(world, OrderStage.IN_PRODUCTION)
    second_order = await walk_to(world, OrderStage.IN_PRODUCTION)
    await ok(world.supplier, DISPATCH_ORDER, dispatch_input(first_order))
    before = await database_state(db)

    # when the same key comes with another order
    body = await world.supplier(DISPATCH_ORDER, dispatch_input(second_order))

    # then it is not a replay of the first order: it is refused, and nothing changes
    payload = body["data"]["dispatchOrder"]
    assert payload["order"] is None
    assert payload["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    assert await database_state(db) == before


async def test_another_caller_using_the_same_key_is_not_a_retry(
    world: World, db: Database, as_role: Callable[..., GraphQL]
) -> None:
    # given the supplier's dispatcher used KEY
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    one_unit = dispatch_input(order_id, lines=[{"lineNo": 1, "quantity": 1}])
    first = await ok(world.supplier, DISPATCH_ORDER, one_unit)
    colleague = as_role("supplier", supplier_id=world.supplier_id, subject="night-shift@org-a")

    # when a colleague (another subject of the same supplier) sends the same request
    second = await ok(colleague, DISPATCH_ORDER, one_unit)

    # then it is a shipment of its own
    assert await shipment_count(db, order_id) == 2
    assert second["order"]["version"] == first["order"]["version"] + 1
    assert [ln["dispatchedQuantity"] for ln in second["order"]["lines"]] == [2, 0]
    assert second["order"]["events"][-1]["actorSubject"] == "night-shift@org-a"


async def test_a_replay_never_hands_one_supplier_another_suppliers_order(
    world: World, db: Database, as_role: Callable[..., GraphQL]
) -> None:
    # Keys must belong to the whole principal (not org + subject) and a replay must
    # reload its result through the caller's scope.
    # given two suppliers whose tokens carry the same subject (the sub claim is the
    # identity provider's, not unique across parties), each with an order in production
    first = as_role("supplier", supplier_id=world.supplier_id, subject="dispatch@shared-idp")
    second = as_role("supplier", supplier_id=world.other_supplier_id, subject="dispatch@shared-idp")
    order_a = await walk_to(world, OrderStage.IN_PRODUCTION)
    swapped = World(
        buyer=world.buyer,
        supplier=world.other_supplier,
        other_supplier=world.supplier,
        supplier_id=world.other_supplier_id,
        other_supplier_id=world.supplier_id,
    )
    order_b = await walk_to(swapped, OrderStage.IN_PRODUCTION)
    await ok(first, DISPATCH_ORDER, dispatch_input(order_a))

    # when the second supplier dispatches its own order with the same key
    body = await second(DISPATCH_ORDER, dispatch_input(order_b))

    # then it gets its own order (a new command), never the first supplier's
    assert order_a not in str(body)
    assert body["data"]["dispatchOrder"]["order"]["id"] == order_b


async def test_a_key_whose_first_attempt_failed_can_be_used_again(
    world: World, db: Database
) -> None:
    # given a dispatch refused for bad input, sent with KEY
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    refused = await world.supplier(DISPATCH_ORDER, dispatch_input(order_id, carrier=None))
    assert refused["data"]["dispatchOrder"]["userErrors"][0]["code"] == "VALIDATION"

    # when the corrected request is sent with the same key
    payload = await ok(world.supplier, DISPATCH_ORDER, dispatch_input(order_id))

    # then it runs (nothing was remembered for the failed attempt)
    assert payload["order"]["stage"] == "DISPATCHED"
    assert await shipment_count(db, order_id) == 1


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_an_empty_or_overlong_key_is_a_validation_error(
    world: World, db: Database, key: str
) -> None:
    # given
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    before = await database_state(db)

    # when
    milestone = {"orderId": order_id, "note": "cut", "idempotencyKey": key}
    body = await world.supplier(ADD_MILESTONE, {"input": milestone})

    # then
    payload = body["data"]["addMilestone"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("VALIDATION", ["input", "idempotencyKey"])
    ]
    assert await database_state(db) == before
