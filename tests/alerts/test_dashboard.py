"""Dashboard and alert lists agree with a brute-force count over 10,000 seeded orders,
for the whole org (buyer) and for one supplier's jobs (supplier)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from conftest import FixedClock, GraphQL
from db.alerts import AlertKind, OrderFacts, Thresholds, alerts_for
from db.engine import Database
from db.models import Order
from db.seed import seed

DASHBOARD = """{ dashboard { stageCounts { stage count } openAlerts { kind count }
  unacknowledged late } }"""
ALERT_PAGE = """query($after: String) { alerts(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { kind order { id } since } } } }"""
SCORECARD = """query($id: ID!) { node(id: $id) { ... on Supplier { scorecard(windowDays: 3650) {
  orders promiseSlips medianHoursToAcknowledge onTimeDispatchRate } } } }"""


def brute_force(orders: list[Order], now_: FixedClock) -> tuple[Counter[str], Counter[str]]:
    stages: Counter[str] = Counter(o.stage.value for o in orders)
    kinds: Counter[str] = Counter(
        a.kind.value for o in orders for a in alerts_for(OrderFacts.of(o), Thresholds(), now_.now)
    )
    return stages, kinds


def as_counts(dashboard: dict[str, list[dict[str, object]]], key: str) -> Counter[str]:
    return Counter(
        {
            str(r[key]): int(r["count"])
            for r in dashboard[  # type: ignore[call-overload]
                "stageCounts" if key == "stage" else "openAlerts"
            ]
            if r["count"]
        }
    )


async def test_dashboard_and_alerts_equal_a_brute_force_count_over_10000_orders(
    db: Database, clock: FixedClock, as_role: Callable[..., GraphQL]
) -> None:
    result = await seed(
        db=db, org="org-a", orders=10_000, suppliers=6, clients=4, seed=11, now=clock.now
    )
    clock.advance(days=3)  # let stages overstay
    async with db.read_session() as s:
        orders = list(await s.scalars(select(Order).where(Order.org == "org-a")))

    stages, kinds = brute_force(orders, clock)
    assert sum(kinds.values()) > 100  # the data really exercises every path
    assert set(kinds) == {k.value for k in AlertKind}

    buyer = as_role("buyer")
    board = (await buyer(DASHBOARD))["data"]["dashboard"]
    assert as_counts(board, "stage") == stages
    assert as_counts(board, "kind") == kinds
    assert board["unacknowledged"] == kinds["UNACKNOWLEDGED"]
    assert board["late"] == kinds["LATE"]

    # The supplier's dashboard and alerts cover exactly its own jobs.
    supplier_id = result.suppliers[2]
    mine = [o for o in orders if o.supplier_id == supplier_id]
    my_stages, my_kinds = brute_force(mine, clock)
    supplier = as_role("supplier", supplier_id=supplier_id)
    board = (await supplier(DASHBOARD))["data"]["dashboard"]
    assert as_counts(board, "stage") == my_stages
    assert as_counts(board, "kind") == my_kinds

    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = (await supplier(ALERT_PAGE, {"after": after}))["data"]["alerts"]
        seen += [(e["node"]["kind"], e["node"]["order"]["id"]) for e in page["edges"]]
        sinces = [e["node"]["since"] for e in page["edges"]]
        assert sinces == sorted(sinces)  # oldest first
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == sum(my_kinds.values()) == len(seen) == len(set(seen))
    assert {order_id for _, order_id in seen} <= {o.id for o in mine}

    # The buyer pages through every alert of the org in odd-sized pages: each exactly once.
    expected = {
        (a.kind.value, o.id)
        for o in orders
        for a in alerts_for(OrderFacts.of(o), Thresholds(), clock.now)
    }
    seen, after = [], None
    while True:
        body = await buyer(ALERT_PAGE.replace("first: 100", "first: 97"), {"after": after})
        page = body["data"]["alerts"]
        seen += [(e["node"]["kind"], e["node"]["order"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


async def test_the_supplier_scorecard_matches_its_orders(
    db: Database, clock: FixedClock, as_role: Callable[..., GraphQL]
) -> None:
    result = await seed(
        db=db, org="org-a", orders=300, suppliers=3, clients=2, seed=5, now=clock.now
    )
    supplier_id = result.suppliers[0]
    async with db.read_session() as s:
        mine = list(await s.scalars(select(Order).where(Order.supplier_id == supplier_id)))
    card = (await as_role("buyer")(SCORECARD, {"id": supplier_id}))["data"]["node"]["scorecard"]
    assert card["orders"] == len(mine)
    assert card["promiseSlips"] == sum(o.promise_slips for o in mine)
    acked = sorted(
        (o.acknowledged_at - o.issued_at) / timedelta(hours=1) for o in mine if o.acknowledged_at
    )
    assert acked[0] <= card["medianHoursToAcknowledge"] <= acked[-1]
    assert 0 <= card["onTimeDispatchRate"] <= 1
