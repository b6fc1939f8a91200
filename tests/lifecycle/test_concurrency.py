"""Writers racing on one order, over HTTP through one ASGI client: never two winners,
never a lost update. Runs on SQLite (serialised writers) and PostgreSQL (row locks
and the version compare-and-set)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from lifecycle_support import PROMISED, World, make_world, walk_to
from sqlalchemy import select

from conftest import GraphQL
from db import models
from db.engine import Database
from db.models import OrderStage

ACKNOWLEDGE = """
mutation Acknowledge($input: AcknowledgeOrderInput!) {
  acknowledgeOrder(input: $input) { order { id stage version } userErrors { code field } }
}
"""

CANCEL = """
mutation Cancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) { order { id stage version } userErrors { code field } }
}
"""

DISPATCH = """
mutation Dispatch($input: DispatchOrderInput!) {
  dispatchOrder(input: $input) { order { id stage version } userErrors { code field } }
}
"""

RECEIVE = """
mutation Receive($input: ReceiveDeliveryInput!) {
  receiveDelivery(input: $input) { order { id stage version } userErrors { code field } }
}
"""

CALLS = 20


@pytest.fixture
async def world(as_role: Callable[..., GraphQL]) -> World:
    return await make_world(as_role)


async def events_of(db: Database, order_id: str) -> list[models.OrderEvent]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(models.OrderEvent)
            .where(models.OrderEvent.order_id == order_id)
            .order_by(models.OrderEvent.seq)
        )
        return list(rows)


async def order_row(db: Database, order_id: str) -> models.Order:
    async with db.read_session() as session:
        order = await session.get(models.Order, order_id)
    assert order is not None
    return order


async def line_rows(db: Database, order_id: str) -> list[models.OrderLine]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(models.OrderLine)
            .where(models.OrderLine.order_id == order_id)
            .order_by(models.OrderLine.line_no)
        )
        return list(rows)


def _outcome(body: dict[str, Any]) -> str:
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    if payload["userErrors"] == []:
        assert payload["order"] is not None
        return "WON"
    (error,) = payload["userErrors"]
    assert payload["order"] is None
    code: str = error["code"]
    return code


async def test_twenty_simultaneous_acknowledges_and_cancels_at_version_one_have_one_winner(
    world: World, db: Database
) -> None:
    # given an issued order (version 1)
    order_id = await walk_to(world, OrderStage.ISSUED)
    ack = {"input": {"orderId": order_id, "promisedDate": PROMISED, "expectedVersion": 1}}
    cancel = {"input": {"orderId": order_id, "reason": "changed plans", "expectedVersion": 1}}
    calls = [
        world.supplier(ACKNOWLEDGE, ack) if i % 2 == 0 else world.buyer(CANCEL, cancel)
        for i in range(CALLS)
    ]

    # when all twenty race
    bodies = await asyncio.gather(*calls)

    # then exactly one wins; everybody else is told the order moved on
    outcomes = [_outcome(b) for b in bodies]
    counts = Counter(outcomes)
    assert counts["WON"] == 1, counts
    assert set(counts) <= {"WON", "CONFLICT", "INVALID_TRANSITION"}, counts
    winner = outcomes.index("WON")
    expected_stage = "ACKNOWLEDGED" if winner % 2 == 0 else "CANCELLED"
    (payload,) = bodies[winner]["data"].values()
    assert payload["order"]["stage"] == expected_stage
    assert payload["order"]["version"] == 2

    # and the database holds one change: version 2, one event after the first
    order = await order_row(db, order_id)
    assert (order.stage.value, order.version) == (expected_stage, 2)
    events = await events_of(db, order_id)
    assert [e.kind for e in events] == ["ISSUED", expected_stage]
    assert [e.seq for e in events] == [1, 2]


async def test_twenty_simultaneous_acknowledges_without_a_version_still_have_one_winner(
    world: World, db: Database
) -> None:
    # given
    order_id = await walk_to(world, OrderStage.ISSUED)
    ack = {"input": {"orderId": order_id, "promisedDate": PROMISED}}

    # when
    bodies = await asyncio.gather(*(world.supplier(ACKNOWLEDGE, ack) for _ in range(CALLS)))

    # then the losers see the new stage (or, at worst, a lost compare-and-set)
    counts = Counter(_outcome(b) for b in bodies)
    assert counts["WON"] == 1, counts
    assert set(counts) <= {"WON", "CONFLICT", "INVALID_TRANSITION"}, counts
    assert [e.kind for e in await events_of(db, order_id)] == ["ISSUED", "ACKNOWLEDGED"]
    assert (await order_row(db, order_id)).version == 2


async def test_simultaneous_partial_dispatches_never_ship_more_than_was_ordered(
    world: World, db: Database
) -> None:
    # given an order in production: line 1 has 3 units, line 2 has 4
    order_id = await walk_to(world, OrderStage.IN_PRODUCTION)
    one_unit = {
        "input": {
            "orderId": order_id,
            "method": "OWN_DRIVER",
            "lines": [{"lineNo": 1, "quantity": 1}],
        }
    }

    # when ten shipments of one unit of line 1 race
    bodies = await asyncio.gather(*(world.supplier(DISPATCH, one_unit) for _ in range(10)))

    # then exactly three get through (no lost update), the rest are refused
    counts = Counter(_outcome(b) for b in bodies)
    assert counts["WON"] == 3, counts
    assert set(counts) <= {"WON", "CONFLICT", "VALIDATION"}, counts
    lines = await line_rows(db, order_id)
    assert [(ln.dispatched_quantity, ln.received_quantity) for ln in lines] == [(3, 0), (0, 0)]
    async with db.read_session() as session:
        shipped = list(
            await session.scalars(
                select(models.ShipmentLine.quantity).where(models.ShipmentLine.order_id == order_id)
            )
        )
    assert shipped == [1, 1, 1]
    order = await order_row(db, order_id)
    events = await events_of(db, order_id)
    assert order.version == 3 + 3
    assert [e.kind for e in events][3:] == ["DISPATCHED"] * 3


async def test_simultaneous_receipts_never_receive_more_than_was_dispatched(
    world: World, db: Database
) -> None:
    # given line 1 (3 units) dispatched, line 2 not
    order_id = await walk_to(world, OrderStage.DISPATCHED)
    one_unit = {"input": {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 1}]}}

    # when ten receipts of one unit race
    bodies = await asyncio.gather(*(world.buyer(RECEIVE, one_unit) for _ in range(10)))

    # then
    counts = Counter(_outcome(b) for b in bodies)
    assert counts["WON"] == 3, counts
    assert set(counts) <= {"WON", "CONFLICT", "VALIDATION"}, counts
    lines = await line_rows(db, order_id)
    assert [(ln.dispatched_quantity, ln.received_quantity) for ln in lines] == [(3, 3), (0, 0)]
    order = await order_row(db, order_id)
    assert order.stage is OrderStage.DISPATCHED
    assert [e.kind for e in await events_of(db, order_id)].count("RECEIVED") == 3
