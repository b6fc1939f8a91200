"""Open alerts in SQL: pages per kind and counts, equivalent to ``db.alerts`` rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as time_
from typing import TypedDict, Unpack

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from db.alerts import FACT_COLUMNS, AlertKind, OrderFacts, Thresholds, condition, since_expression
from db.models import Order, OrderStage
from db.queries.scope import order_scope
from db.scope import Scope

AlertAnchor = tuple[datetime, str, str]  # (since, order id, kind): the list's sort key


class AlertWindow(TypedDict, total=False):
    """Which page of the alert list to read: ``first`` per kind (None: all) after
    ``after`` and before ``before``; ``backward``: the newest ``first`` per kind."""

    first: int | None
    after: AlertAnchor | None
    before: AlertAnchor | None
    backward: bool


def _after_anchor(kind: AlertKind, anchor: AlertAnchor) -> ColumnElement[bool]:
    """Rows of ``kind`` whose (since, order id, kind) sorts after ``anchor``, in SQL."""
    a_since, a_id, a_kind = anchor
    tie_ok = or_(
        Order.id > a_id, and_(Order.id == a_id, true() if kind.value > a_kind else false())
    )
    if kind is AlertKind.LATE:
        # since = midnight after the promised day: compare on the date itself.
        a_day = a_since.date()
        is_midnight = a_since.timetz().replace(tzinfo=None) == time_(0)
        later = Order.promised_date >= a_day
        if not is_midnight:
            return later
        return or_(later, and_(Order.promised_date == a_day - timedelta(days=1), tie_ok))
    since = since_expression(kind)
    return or_(since > a_since, and_(since == a_since, tie_ok))


def _before_anchor(kind: AlertKind, anchor: AlertAnchor) -> ColumnElement[bool]:
    """Rows of ``kind`` whose (since, order id, kind) sorts before ``anchor``: the
    mirror of ``_after_anchor``."""
    a_since, a_id, a_kind = anchor
    tie_ok = or_(
        Order.id < a_id, and_(Order.id == a_id, true() if kind.value < a_kind else false())
    )
    if kind is AlertKind.LATE:
        a_day = a_since.date()
        is_midnight = a_since.timetz().replace(tzinfo=None) == time_(0)
        if not is_midnight:  # midnight after the promised day <= a_day's start
            return Order.promised_date < a_day
        day_before = a_day - timedelta(days=1)
        return or_(
            Order.promised_date < day_before, and_(Order.promised_date == day_before, tie_ok)
        )
    since = since_expression(kind)
    return or_(since < a_since, and_(since == a_since, tie_ok))


async def alerting_orders(
    *,
    session: AsyncSession,
    scope: Scope,
    thresholds: Thresholds,
    now: datetime,
    kind: AlertKind | None = None,
    **window: Unpack[AlertWindow],
) -> list[tuple[AlertKind, OrderFacts]]:
    """Orders with an open alert, per kind, oldest alert first (``backward``: the
    newest ``first`` per kind, for a page read from the list's end).

    One statement: a UNION ALL of one indexed, ordered and limited select per kind,
    so a page costs ``first`` rows per kind however many orders alert.
    """
    first, backward = window.get("first"), window.get("backward", False)
    after, before = window.get("after"), window.get("before")
    branches = []
    for k in [kind] if kind else list(AlertKind):
        stmt = select(literal(k.value).label("kind"), *FACT_COLUMNS).where(
            order_scope(scope), condition(k, thresholds, now)
        )
        if after is not None:
            stmt = stmt.where(_after_anchor(k, after))
        if before is not None:
            stmt = stmt.where(_before_anchor(k, before))
        if first is not None:
            key = since_expression(k)
            reading = (key.desc(), Order.id.desc()) if backward else (key, Order.id)
            stmt = stmt.order_by(*reading).limit(first)
        branches.append(stmt.subquery().select())
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    rows = await session.execute(statement)
    return [(AlertKind(row[0]), OrderFacts(*row[1:])) for row in rows]


@dataclass(frozen=True)
class DashboardCounts:
    stages: dict[OrderStage, int]
    alerts: dict[AlertKind, int]


async def alert_counts(
    *, session: AsyncSession, scope: Scope, thresholds: Thresholds, now: datetime
) -> dict[AlertKind, int]:
    """Open alerts per kind: one UNION ALL of indexed counts."""
    branches = [
        select(literal(k.value).label("kind"), func.count().label("n")).where(
            order_scope(scope), condition(k, thresholds, now)
        )
        for k in AlertKind
    ]
    counts = {kind: 0 for kind in AlertKind}
    for kind_value, n in await session.execute(union_all(*branches)):
        counts[AlertKind(kind_value)] = int(n)
    return counts


async def dashboard_counts(
    *, session: AsyncSession, scope: Scope, thresholds: Thresholds, now: datetime
) -> DashboardCounts:
    """Orders per stage (an index-only GROUP BY) and open alerts per kind."""
    stmt = select(Order.stage, func.count()).where(order_scope(scope)).group_by(Order.stage)
    stages = {stage: 0 for stage in OrderStage}
    for stage, n in await session.execute(stmt):
        stages[OrderStage(stage)] = int(n)
    alerts = await alert_counts(session=session, scope=scope, thresholds=thresholds, now=now)
    return DashboardCounts(stages=stages, alerts=alerts)
