"""Alerts, dashboard, thresholds and the supplier scorecard: GraphQL adapters over
``db.alerts`` (rules) and ``db.queries`` (scoped SQL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry

from db import alerts as rules
from db import queries
from db.ids import type_of
from schema.connections import page_size
from schema.context import Info
from schema.cursors import decode_parts, encode_parts
from schema.errors import PublicError
from schema.types import Order, OrderStage, PageInfo

AlertKind = strawberry.enum(rules.AlertKind, name="AlertKind")


@strawberry.type(description="A stage that overstays, or a promise that passed or slipped.")
class Alert:
    kind: AlertKind  # type: ignore[valid-type]
    stage: OrderStage  # type: ignore[valid-type]
    since: datetime
    age_hours: float
    threshold_hours: float | None
    message: str
    order_id: strawberry.Private[str]

    @classmethod
    def of(cls, a: rules.Alert) -> Alert:
        return cls(
            kind=a.kind,
            stage=a.stage,
            since=a.since,
            age_hours=a.age_hours,
            threshold_hours=a.threshold_hours,
            message=a.message,
            order_id=a.order_id,
        )

    @strawberry.field
    async def order(self, info: Info) -> Order:
        row = await info.context.loaders.order_by_id.load(self.order_id)
        if row is None:  # alerts are computed over scoped orders only
            raise PublicError("Order not found.")
        return Order.from_row(row)


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Open alerts (of the kind asked) the caller may see.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class StageCount:
    stage: OrderStage  # type: ignore[valid-type]
    count: int


@strawberry.type
class AlertCount:
    kind: AlertKind  # type: ignore[valid-type]
    count: int


@strawberry.type(description="Orders per stage and open alerts, over the caller's orders.")
class Dashboard:
    stage_counts: list[StageCount]
    open_alerts: list[AlertCount]
    unacknowledged: int
    late: int


@strawberry.type(description="How long a stage may last before it raises an alert, in hours.")
class AlertThresholds:
    acknowledge_within_hours: float
    start_production_within_hours: float
    deliver_within_hours: float

    @classmethod
    def of(cls, t: rules.Thresholds) -> AlertThresholds:
        return cls(
            acknowledge_within_hours=t.acknowledge_within_hours,
            start_production_within_hours=t.start_production_within_hours,
            deliver_within_hours=t.deliver_within_hours,
        )


async def thresholds(info: Info) -> rules.Thresholds:
    return await info.context.loaders.org_thresholds()


def _cursor(a: rules.Alert) -> str:
    return encode_parts("ALERT", a.since.isoformat(), a.order_id, a.kind.value)


def _key(a: rules.Alert) -> tuple[datetime, str, str]:
    return (a.since, a.order_id, a.kind.value)


async def alert_connection(
    info: Info, *, first: int | None, after: str | None, kind: rules.AlertKind | None
) -> AlertConnection:
    size = page_size(first, default=50)
    anchor: tuple[datetime, str, str] | None = None
    if after is not None:
        since, order_id, kind_value = decode_parts(after, "ALERT", 3)
        try:
            anchor_since = datetime.fromisoformat(since)
        except ValueError:
            raise PublicError("Invalid cursor.") from None
        if (
            anchor_since.tzinfo is None
            or not 1970 <= anchor_since.year <= 9000  # date arithmetic must not overflow
            or type_of(order_id) != "Order"
        ):
            raise PublicError("Invalid cursor.")
        anchor = (anchor_since, order_id, kind_value)
    ctx = info.context
    limits = await thresholds(info)
    rows = await ctx.loaders.session_run(
        lambda s: queries.alerting_orders(
            session=s,
            scope=ctx.scope,
            thresholds=limits,
            now=ctx.now,
            kind=kind,
            first=size + 1,
            after=anchor,
        )
    )
    # Each row is one (kind, order) the SQL predicate selected; the rule gives the alert.
    found = sorted(
        (a for k, facts in rows for a in rules.alerts_for(facts, limits, ctx.now) if a.kind is k),
        key=_key,
    )
    page = found[:size]
    cursors = [_cursor(a) for a in page]

    async def count() -> int:
        counts = await ctx.loaders.session_run(
            lambda s: queries.alert_counts(
                session=s, scope=ctx.scope, thresholds=limits, now=ctx.now
            )
        )
        return counts[kind] if kind is not None else sum(counts.values())

    return AlertConnection(
        edges=[AlertEdge(cursor=c, node=Alert.of(a)) for c, a in zip(cursors, page, strict=True)],
        page_info=PageInfo(
            has_next_page=len(found) > size,
            has_previous_page=anchor is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        count=count,
    )


async def dashboard(info: Info) -> Dashboard:
    ctx = info.context
    limits = await thresholds(info)
    counts = await ctx.loaders.session_run(
        lambda s: queries.dashboard_counts(
            session=s, scope=ctx.scope, thresholds=limits, now=ctx.now
        )
    )
    return Dashboard(
        stage_counts=[StageCount(stage=s, count=n) for s, n in counts.stages.items()],
        open_alerts=[AlertCount(kind=k, count=n) for k, n in counts.alerts.items()],
        unacknowledged=counts.alerts[rules.AlertKind.UNACKNOWLEDGED],
        late=counts.alerts[rules.AlertKind.LATE],
    )
