"""Seeded orders are consistent with their stage: events, shipments, receipts, dates."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from sqlalchemy import select

from conftest import FixedClock
from db.engine import Database
from db.models import Order, OrderEvent, OrderLine, OrderStage, Receipt, Shipment
from db.seed import seed

PAST_ISSUED = {
    OrderStage.ACKNOWLEDGED,
    OrderStage.IN_PRODUCTION,
    OrderStage.DISPATCHED,
    OrderStage.DELIVERED,
    OrderStage.CLOSED,
}
SHIPPED = {OrderStage.DISPATCHED, OrderStage.DELIVERED, OrderStage.CLOSED}
RECEIVED = {OrderStage.DELIVERED, OrderStage.CLOSED}


async def test_seed_produces_every_stage_with_consistent_history(
    db: Database, clock: FixedClock
) -> None:
    result = await seed(
        db=db, org="acme", orders=400, suppliers=4, clients=3, seed=1, now=clock.now
    )
    assert result.orders == 400
    async with db.read_session() as s:
        orders = list(await s.scalars(select(Order).where(Order.org == "acme")))
        events = defaultdict(list)
        for e in await s.scalars(select(OrderEvent).order_by(OrderEvent.seq)):
            events[e.order_id].append(e)
        lines = defaultdict(list)
        for ln in await s.scalars(select(OrderLine)):
            lines[ln.order_id].append(ln)
        shipped = {sh.order_id for sh in await s.scalars(select(Shipment))}
        received = {r.order_id for r in await s.scalars(select(Receipt))}

    assert {o.stage for o in orders} == set(OrderStage)
    assert len({o.number for o in orders}) == 400
    for o in orders:
        trail = events[o.id]
        assert trail[0].kind == "ISSUED"
        assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
        assert trail[-1].stage is o.stage
        assert all(a.at <= b.at for a, b in pairwise(trail))
        assert all(e.at <= clock.now for e in trail)
        assert (o.acknowledged_at is not None) == (o.stage in PAST_ISSUED)
        assert (o.id in shipped) == (o.stage in SHIPPED)
        assert (o.id in received) == (o.stage in RECEIVED)
        assert o.total == sum(ln.unit_price * ln.quantity for ln in lines[o.id])
        for ln in lines[o.id]:
            assert 0 <= ln.received_quantity <= ln.dispatched_quantity <= ln.quantity
            if o.stage is OrderStage.DELIVERED:
                assert ln.received_quantity == ln.quantity
            # a short-close cancels what did not come, nothing else
            assert ln.cancelled_quantity == (
                ln.quantity - ln.received_quantity if o.stage is OrderStage.CLOSED else 0
            )
        delivered = 1 if o.stage is OrderStage.DELIVERED else 0
        assert o.version == len(trail) - delivered
