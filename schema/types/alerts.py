"""Alerts (a stage that overstays, a promise that passed or slipped), the dashboard's
counts and the organisation's thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db import alerts as rules
from db import models
from db.feed import FeedAlert
from schema.context import Info
from schema.errors import PublicError
from schema.relations import resolve
from schema.types.common import copy_fields

if TYPE_CHECKING:
    from schema.types.order import Order


@strawberry.type(description="A stage that overstays, or a promise that passed or slipped.")
class Alert:
    id: strawberry.ID = strawberry.field(
        description="The same for one episode (order, kind, since) wherever it appears."
    )
    raised_at: datetime = strawberry.field(
        description="When the threshold passed, or the promise passed or slipped."
    )
    kind: rules.AlertKind
    stage: models.OrderStage
    since: datetime
    age_hours: float
    threshold_hours: float | None
    message: str
    order_id: strawberry.Private[str]

    @classmethod
    def of(cls, a: rules.Alert) -> Alert:
        return copy_fields(cls, a)

    @classmethod
    def from_feed(cls, entry: FeedAlert, now: datetime) -> Alert:
        """A raised alert as pushed: its message is the one it was raised with."""
        return copy_fields(
            cls,
            entry,
            kind=rules.AlertKind(entry.kind),
            age_hours=round((now - entry.since).total_seconds() / 3600, 2),
        )

    @strawberry.field
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("schema.types.order")]:
        found: Order | None = await resolve("Alert", "order", self, info)
        if found is None:  # alerts are computed over scoped orders only
            raise PublicError("Order not found.")
        return found


@strawberry.type
class StageCount:
    stage: models.OrderStage
    count: int


@strawberry.type
class AlertCount:
    kind: rules.AlertKind
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
        return copy_fields(cls, t)
