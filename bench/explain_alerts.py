"""Show the query plans of the alert list and dashboard statements on a seeded org.

    python -m bench.explain_alerts [--database-url URL] [--orders 100000]

Seeds the org when the database has none of it, prints the plan of each alert
kind's page query (SQLite: EXPLAIN QUERY PLAN), then times an alerts page, the
alert counts, the dashboard counts and an orders page side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.alerts import AlertKind, Thresholds, condition, since_expression
from db.engine import connect
from db.migrate import upgrade
from db.models import Order
from db.queries import alerts as alert_queries
from db.queries import orders as order_queries
from db.queries.scope import order_scope
from db.seed import seed
from permissions.principal import Principal, Role


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="sqlite+aiosqlite:///./bench-explain.db")
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    await upgrade(args.database_url)
    db = connect(args.database_url)
    now = datetime.now(UTC)
    org = "explain"
    async with db.read_session() as s:
        have = await s.scalar(select(func.count()).select_from(Order).where(Order.org == org))
    if not have:
        t0 = time.perf_counter()
        result = await seed(
            db=db,
            org=org,
            orders=args.orders,
            suppliers=20,
            clients=10,
            seed=1,
            now=now - timedelta(days=1),
        )
        print(f"seeded {result.orders} orders in {time.perf_counter() - t0:.1f} s")
    scope = Principal(role=Role.BUYER, org=org, subject="bench").scope
    t = Thresholds()
    dialect = sqlite.dialect() if db.is_sqlite else postgresql.dialect()  # type: ignore[no-untyped-call]
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    for kind in AlertKind:
        stmt = (
            select(Order.id)
            .where(order_scope(scope), condition(kind, t, now))
            .order_by(since_expression(kind), Order.id)
            .limit(51)
        )
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        async with db.engine.connect() as conn:
            plan = (await conn.execute(text(prefix + sql))).all()
        print(
            f"\n== alert page, {kind.value}\n"
            + "\n".join(" ".join(str(c) for c in row) for row in plan)
        )

    async def timed(label: str, fn: Callable[[AsyncSession], Awaitable[object]]) -> None:
        samples = []
        for _ in range(7):
            t0 = time.perf_counter()
            async with db.read_session() as s:
                await fn(s)
            samples.append((time.perf_counter() - t0) * 1000)
        print(f"{label:>28}: median {statistics.median(samples):7.1f} ms over 7 runs")

    print()
    await timed(
        "alerts page (first 50)",
        lambda s: alert_queries.alerting_orders(
            session=s, scope=scope, thresholds=t, now=now, first=51
        ),
    )
    await timed(
        "alert counts",
        lambda s: alert_queries.alert_counts(session=s, scope=scope, thresholds=t, now=now),
    )
    await timed(
        "dashboard counts",
        lambda s: alert_queries.dashboard_counts(session=s, scope=scope, thresholds=t, now=now),
    )
    await timed(
        "orders page (first 20)",
        lambda s: order_queries.list_orders(session=s, scope=scope, first=20),
    )
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
