"""The announced-alert ledger: each alert episode is raised (pushed) exactly once.

An episode is (order, kind, since); its ID is derived from them (``Alert.id``), so
inserting it twice — two schedulers, a retried transaction — inserts it once. Two
writers keep the ledger current:

* every order change syncs that order's alerts in the same transaction (``sync``):
  transitions raise theirs (PROMISE_SLIPPED, LATE) and end the episodes they clear;
* the scheduler raises time-based alerts (``scan``) when a threshold passes, with no
  request at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.alerts import FACT_COLUMNS, Alert, AlertKind, OrderFacts, Thresholds, alerts_for, condition
from db.feed import next_positions
from db.models import AlertThresholds, Order, RaisedAlert

# Alerts that time alone raises; the others come with a transition.
TIME_BASED = (
    AlertKind.UNACKNOWLEDGED,
    AlertKind.PRODUCTION_NOT_STARTED,
    AlertKind.LATE,
    AlertKind.DELIVERY_OVERDUE,
)
SCAN_LIMIT = 1000

_FACTS = (Order.org, *FACT_COLUMNS)


async def thresholds_of(session: AsyncSession, orgs: Iterable[str]) -> dict[str, Thresholds]:
    wanted = sorted(set(orgs))
    rows = await session.scalars(select(AlertThresholds).where(AlertThresholds.org.in_(wanted)))
    found = {row.org: Thresholds.of(row) for row in rows}
    return {org: found.get(org, Thresholds()) for org in wanted}


async def _raise(session: AsyncSession, org: str, alerts: Sequence[Alert]) -> None:
    """Insert the episodes not yet in the ledger (positions taken in one block). An
    episode already there stays as it was, but is open again if it had been cleared
    (a threshold lowered back): it is never announced twice."""
    if not alerts:
        return
    first = await next_positions(session, org, len(alerts))
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(RaisedAlert).values(
        [
            dict(
                id=a.id,
                org=org,
                order_id=a.order_id,
                kind=a.kind.value,
                stage=a.stage,
                since=a.since,
                raised_at=a.raised_at,
                threshold_hours=a.threshold_hours,
                message=a.message,
                position=first + i,
                cleared_at=None,
            )
            for i, a in enumerate(alerts)
        ]
    )
    stmt = stmt.on_conflict_do_update(index_elements=[RaisedAlert.id], set_={"cleared_at": None})
    await session.execute(stmt)


async def sync(session: AsyncSession, orders: Sequence[Order], now: datetime) -> None:
    """Bring the ledger in line with ``orders`` as they are now: raise the episodes
    that are open and new, clear the ones that ended. Same transaction as the change."""
    if not orders:
        return
    thresholds = await thresholds_of(session, {o.org for o in orders})
    current = {
        a.id: (o.org, a)
        for o in orders
        for a in alerts_for(OrderFacts.of(o), thresholds[o.org], now)
    }
    open_ids = set(
        await session.scalars(
            select(RaisedAlert.id).where(
                RaisedAlert.order_id.in_([o.id for o in orders]), RaisedAlert.cleared_at.is_(None)
            )
        )
    )
    ended = open_ids - set(current)
    if ended:
        await session.execute(
            update(RaisedAlert).where(RaisedAlert.id.in_(sorted(ended))).values(cleared_at=now)
        )
    new: dict[str, list[Alert]] = {}
    for alert_id, (org, alert) in current.items():
        if alert_id not in open_ids:
            new.setdefault(org, []).append(alert)
    for org, alerts in sorted(new.items()):
        await _raise(session, org, alerts)


async def sync_org(session: AsyncSession, org: str, now: datetime) -> None:
    """After the org's thresholds change: end the episodes that no longer hold and raise
    the ones that now do, in the same transaction."""
    open_orders = await session.scalars(
        select(Order).where(
            Order.org == org,
            exists().where(RaisedAlert.order_id == Order.id, RaisedAlert.cleared_at.is_(None)),
        )
    )
    await sync(session, list(open_orders), now)
    while await scan(session, now, org=org) >= SCAN_LIMIT:
        pass


def _unannounced(kind: AlertKind) -> ColumnElement[bool]:
    return not_(
        exists().where(
            RaisedAlert.order_id == Order.id,
            RaisedAlert.kind == kind.value,
            RaisedAlert.cleared_at.is_(None),
        )
    )


async def scan(
    session: AsyncSession,
    now: datetime,
    *,
    since: datetime | None = None,
    org: str | None = None,
    limit: int = SCAN_LIMIT,
) -> int:
    """Raise the time-based alerts whose threshold has passed and that are not yet in
    the ledger; returns how many were raised (at most ``limit`` per kind and threshold
    set: call again while it returns a full batch).

    ``since``: only those whose threshold passed after that instant (the scheduler's
    tick: a window of a few seconds, so a tick reads a handful of rows however many
    orders alert); None: all of them (on taking the lead, and now and then, for any an
    absent leader missed). ``org``: one org only (its thresholds just changed).
    """
    orgs_with_settings = select(AlertThresholds.org)
    if org is not None:
        orgs_with_settings = orgs_with_settings.where(AlertThresholds.org == org)
    custom = await thresholds_of(session, await session.scalars(orgs_with_settings))
    groups: list[tuple[ColumnElement[bool], Thresholds]] = [
        *((Order.org == o, t) for o, t in custom.items()),
    ]
    if org is None:
        groups.append((Order.org.not_in(sorted(custom)), Thresholds()))
    elif org not in custom:
        groups.append((Order.org == org, Thresholds()))
    raised = 0
    for kind in TIME_BASED:
        for orgs, t in groups:
            crossed = condition(kind, t, now)
            if since is not None:  # alerting now, and not yet at ``since``
                crossed = and_(crossed, not_(condition(kind, t, since)))
            rows = await session.execute(
                select(*_FACTS).where(orgs, crossed, _unannounced(kind)).limit(limit)
            )
            found: dict[str, list[Alert]] = {}
            for row in rows:
                facts = OrderFacts(*row[1:])
                for alert in alerts_for(facts, t, now):
                    if alert.kind is kind:
                        found.setdefault(row.org, []).append(alert)
            for alert_org, alerts in sorted(found.items()):
                await _raise(session, alert_org, alerts)
                raised += len(alerts)
    return raised
