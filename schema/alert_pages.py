"""Pages of open alerts and the dashboard's counts, over the caller's orders."""

from __future__ import annotations

from datetime import datetime

from db import alerts as rules
from db.ids import type_of
from db.queries import alerts as queries
from schema.context import Info
from schema.cursors import decode_parts, encode_parts
from schema.errors import PublicError
from schema.pagination import Connection, Window, connection
from schema.types.alerts import Alert, AlertCount, Dashboard, StageCount

AlertAnchor = tuple[datetime, str, str]


def _cursor(a: rules.Alert) -> str:
    return encode_parts("ALERT", a.since.isoformat(), a.order_id, a.kind.value)


def _key(a: rules.Alert) -> AlertAnchor:
    return (a.since, a.order_id, a.kind.value)


def _anchor(cursor: str) -> AlertAnchor:
    since, order_id, kind_value = decode_parts(cursor, "ALERT", 3)
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
    return (anchor_since, order_id, kind_value)


async def alert_connection(
    info: Info, *, window: Window, kind: rules.AlertKind | None
) -> Connection[Alert]:
    size, backward = window.size, window.backward
    anchor = _anchor(window.cursor) if window.cursor is not None else None
    ctx = info.context
    limits = await ctx.loaders.org_thresholds()
    rows = await ctx.loaders.session_run(
        lambda s: queries.alerting_orders(
            session=s,
            scope=ctx.scope,
            thresholds=limits,
            now=ctx.now,
            kind=kind,
            first=size + 1,
            after=None if backward else anchor,
            before=anchor if backward else None,
            backward=backward,
        )
    )
    # Each row is one (kind, order) the SQL predicate selected; the rule gives the alert.
    found = sorted(
        (a for k, facts in rows for a in rules.alerts_for(facts, limits, ctx.now) if a.kind is k),
        key=_key,
    )
    # Backward, each kind brought its newest size + 1: the page is the end of the merge.
    page = found[-size:] if backward and size else found[:size]
    more = len(found) > size

    async def count() -> int:
        counts = await ctx.loaders.session_run(
            lambda s: queries.alert_counts(
                session=s, scope=ctx.scope, thresholds=limits, now=ctx.now
            )
        )
        return counts[kind] if kind is not None else sum(counts.values())

    return connection(
        [Alert.of(a) for a in page],
        [_cursor(a) for a in page],
        has_next=anchor is not None if backward else more,
        has_previous=more if backward else anchor is not None,
        count=count,
    )


async def dashboard(info: Info) -> Dashboard:
    ctx = info.context
    limits = await ctx.loaders.org_thresholds()
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
