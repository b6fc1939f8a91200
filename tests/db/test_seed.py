"""Seeded orders are consistent with their stage: events, shipments, receipts, dates."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from sqlalchemy import select

from conftest import FixedClock
from db.engine import Database
from db.models import (
    Client,
    Order,
    OrderEvent,
    OrderLine,
    OrderStage,
    Receipt,
    Shipment,
    Supplier,
)
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


async def test_seeding_an_org_again_reuses_its_suppliers_and_clients(
    db: Database, clock: FixedClock
) -> None:
    # given an org seeded once
    first = await seed(db=db, org="acme", orders=10, suppliers=3, clients=2, seed=1, now=clock.now)

    # when it is seeded again, once as before and once asking for more parties
    again = await seed(db=db, org="acme", orders=10, suppliers=3, clients=2, seed=2, now=clock.now)
    more = await seed(db=db, org="acme", orders=10, suppliers=4, clients=2, seed=3, now=clock.now)

    # then the same suppliers and clients serve every seeding; only the missing one is new
    assert set(again.suppliers) == set(first.suppliers)
    assert set(again.clients) == set(first.clients)
    assert set(more.suppliers) > set(first.suppliers)
    async with db.read_session() as s:
        suppliers = list(await s.scalars(select(Supplier).where(Supplier.org == "acme")))
        clients = list(await s.scalars(select(Client).where(Client.org == "acme")))
        orders = list(await s.scalars(select(Order).where(Order.org == "acme")))
    assert len(suppliers) == 4
    assert len({s.name for s in suppliers}) == 4
    assert len(clients) == 2
    assert len({o.number for o in orders}) == 30
    assert {o.supplier_id for o in orders} <= set(more.suppliers)


async def test_seeding_another_org_never_reuses_this_orgs_parties(
    db: Database, clock: FixedClock
) -> None:
    acme = await seed(db=db, org="acme", orders=5, suppliers=2, clients=1, seed=1, now=clock.now)
    globex = await seed(
        db=db, org="globex", orders=5, suppliers=2, clients=1, seed=1, now=clock.now
    )
    assert not set(acme.suppliers) & set(globex.suppliers)
    assert not set(acme.clients) & set(globex.clients)
