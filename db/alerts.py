"""Alerts: a stage that overstays, a promise that passed or slipped. Pure rules plus
the equivalent SQL predicates, so lists and counts run in the database (indexed)
and agree with the per-order rule by construction (tests check both ways).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_

from db.ids import derived_id
from db.models import AlertThresholds, Order, OrderStage

S = OrderStage


class Outlook(enum.StrEnum):
    """What a client may know about its delivery: the truth, without the reason."""

    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    LATE = "LATE"
    DELIVERED = "DELIVERED"


class AlertKind(enum.StrEnum):
    UNACKNOWLEDGED = "UNACKNOWLEDGED"
    PRODUCTION_NOT_STARTED = "PRODUCTION_NOT_STARTED"
    LATE = "LATE"
    DELIVERY_OVERDUE = "DELIVERY_OVERDUE"
    PROMISE_SLIPPED = "PROMISE_SLIPPED"


@dataclass(frozen=True)
class Thresholds:
    acknowledge_within_hours: float = 48.0
    start_production_within_hours: float = 168.0
    deliver_within_hours: float = 240.0

    @classmethod
    def of(cls, row: AlertThresholds | None) -> Thresholds:
        if row is None:
            return cls()
        return cls(
            row.acknowledge_within_hours,
            row.start_production_within_hours,
            row.deliver_within_hours,
        )


# Stage -> (kind, threshold attribute) for the overstay alerts.
OVERSTAY = {
    S.ISSUED: (AlertKind.UNACKNOWLEDGED, "acknowledge_within_hours"),
    S.ACKNOWLEDGED: (AlertKind.PRODUCTION_NOT_STARTED, "start_production_within_hours"),
    S.DISPATCHED: (AlertKind.DELIVERY_OVERDUE, "deliver_within_hours"),
}
# A promise matters until the goods leave: LATE and PROMISE_SLIPPED apply before dispatch.
PROMISE_STAGES = frozenset({S.ACKNOWLEDGED, S.IN_PRODUCTION})


@dataclass(frozen=True)
class OrderFacts:
    """The columns the rules read; never supplier, client or price."""

    id: str
    number: str
    stage: OrderStage
    stage_entered_at: datetime
    need_by: date
    promised_date: date | None
    first_promised_date: date | None
    promise_changed_at: datetime | None

    @classmethod
    def of(cls, o: Order) -> OrderFacts:
        return cls(
            o.id,
            o.number,
            o.stage,
            o.stage_entered_at,
            o.need_by,
            o.promised_date,
            o.first_promised_date,
            o.promise_changed_at,
        )


# The same columns, in the same order, for reading facts straight from SQL rows.
FACT_COLUMNS = (
    Order.id,
    Order.number,
    Order.stage,
    Order.stage_entered_at,
    Order.need_by,
    Order.promised_date,
    Order.first_promised_date,
    Order.promise_changed_at,
)


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    order_id: str
    stage: OrderStage
    since: datetime
    age_hours: float
    threshold_hours: float | None
    message: str

    @property
    def id(self) -> str:
        """The episode's ID: the same alert (order, kind, since) always has the same one,
        whether it is listed, counted or pushed."""
        return derived_id("alr", self.order_id, self.kind.value, self.since.isoformat())

    @property
    def raised_at(self) -> datetime:
        """When the alert was raised: the moment the stage overstayed its threshold, or
        the moment the promise passed or slipped."""
        if self.threshold_hours is None:
            return self.since
        return self.since + timedelta(hours=self.threshold_hours)


def _midnight_after(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=UTC)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def human_duration(delta: timedelta) -> str:
    """How a person says it: "3 days 4 h", "5 h 12 min", "40 min" (rounded down)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" if minutes else "less than a minute"


def alerts_for(o: OrderFacts, t: Thresholds, now: datetime) -> list[Alert]:
    """Every open alert on one order at ``now``. Strictly past a threshold: at exactly
    the threshold there is no alert yet."""
    found: list[Alert] = []
    overstay = OVERSTAY.get(o.stage)
    if overstay is not None:
        kind, attr = overstay
        limit = float(getattr(t, attr))
        age = now - o.stage_entered_at
        if age > timedelta(hours=limit):
            found.append(
                Alert(
                    kind,
                    o.id,
                    o.stage,
                    o.stage_entered_at,
                    _hours(age),
                    limit,
                    f"{o.number} has been {o.stage.value} for {human_duration(age)} "
                    f"(threshold {human_duration(timedelta(hours=limit))})",
                )
            )
    if o.stage in PROMISE_STAGES and o.promised_date is not None:
        if o.promised_date < now.date():
            since = _midnight_after(o.promised_date)
            found.append(
                Alert(
                    AlertKind.LATE,
                    o.id,
                    o.stage,
                    since,
                    _hours(now - since),
                    None,
                    f"{o.number} was promised for {o.promised_date.isoformat()} and has not "
                    "been dispatched",
                )
            )
        moved_later = o.first_promised_date is not None and o.promised_date > o.first_promised_date
        if o.promised_date > o.need_by or moved_later:
            since = o.promise_changed_at or o.stage_entered_at
            found.append(
                Alert(
                    AlertKind.PROMISE_SLIPPED,
                    o.id,
                    o.stage,
                    since,
                    _hours(now - since),
                    None,
                    f"{o.number} is promised for {o.promised_date.isoformat()}"
                    + (
                        f", after its need-by date {o.need_by.isoformat()}"
                        if o.promised_date > o.need_by
                        else ", later than first promised"
                    ),
                )
            )
    return found


def outlook_for(o: OrderFacts, t: Thresholds, now: datetime) -> Outlook:
    """The client-safe outlook: from stage, dates and thresholds only. A short-closed
    order is finished as surely as a delivered one: nothing more is coming, so it reads
    DELIVERED (the stage, CLOSED, says it came short)."""
    if o.stage in (S.DELIVERED, S.CLOSED):
        return Outlook.DELIVERED
    if o.stage in (S.DECLINED, S.CANCELLED):
        return Outlook.AT_RISK
    kinds = {a.kind for a in alerts_for(o, t, now)}
    if AlertKind.LATE in kinds or o.need_by < now.date():
        return Outlook.LATE
    if kinds:
        return Outlook.AT_RISK
    return Outlook.ON_TRACK


def condition(kind: AlertKind, t: Thresholds, now: datetime) -> ColumnElement[bool]:
    """SQL predicate on ``orders`` equivalent to ``kind in alerts_for(...)``."""
    for stage, (overstay_kind, attr) in OVERSTAY.items():
        if kind is overstay_kind:
            cutoff = now - timedelta(hours=float(getattr(t, attr)))
            return and_(Order.stage == stage, Order.stage_entered_at < cutoff)
    in_promise_stage = Order.stage.in_(list(PROMISE_STAGES))
    if kind is AlertKind.LATE:
        return and_(in_promise_stage, Order.promised_date < now.date())
    if kind is AlertKind.PROMISE_SLIPPED:
        return and_(
            in_promise_stage,
            or_(
                Order.promised_date > Order.need_by, Order.promised_date > Order.first_promised_date
            ),
        )
    return false()


def since_expression(kind: AlertKind) -> ColumnElement[Any]:
    """The SQL ordering key equivalent to ``Alert.since`` for ``kind`` (LATE: the
    promised date, whose following midnight is ``since``)."""
    if kind is AlertKind.LATE:
        return Order.promised_date  # type: ignore[return-value]
    if kind is AlertKind.PROMISE_SLIPPED:
        return func.coalesce(Order.promise_changed_at, Order.stage_entered_at)
    return Order.stage_entered_at  # type: ignore[return-value]


def any_condition(t: Thresholds, now: datetime) -> ColumnElement[bool]:
    return or_(*(condition(k, t, now) for k in AlertKind))
