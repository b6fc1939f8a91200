"""Client-safe outlook: the truth about a delivery without the reason behind it."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from db.models import OrderStage

DEFAULT_ACKNOWLEDGE_WITHIN = timedelta(hours=48)
DEFAULT_START_PRODUCTION_WITHIN = timedelta(hours=168)
DEFAULT_DELIVER_WITHIN = timedelta(hours=240)


class Outlook(enum.StrEnum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    LATE = "LATE"
    DELIVERED = "DELIVERED"


def outlook(
    *,
    stage: OrderStage,
    need_by: date,
    promised_date: date | None,
    stage_entered_at: datetime,
    now: datetime,
    acknowledge_within: timedelta = DEFAULT_ACKNOWLEDGE_WITHIN,
    start_production_within: timedelta = DEFAULT_START_PRODUCTION_WITHIN,
    deliver_within: timedelta = DEFAULT_DELIVER_WITHIN,
) -> Outlook:
    """Derive the outlook from dates and stage only: never from supplier or price.

    LATE: the need-by date (or the promise, if later) has passed undelivered.
    AT_RISK: the order will not arrive as planned (declined, cancelled, promised
    after need-by) or a stage has overstayed its threshold.
    """
    if stage is OrderStage.DELIVERED:
        return Outlook.DELIVERED
    if stage in (OrderStage.DECLINED, OrderStage.CANCELLED):
        return Outlook.AT_RISK
    today = now.date()
    if need_by < today or (
        promised_date is not None and promised_date < today and stage is not OrderStage.DISPATCHED
    ):
        return Outlook.LATE
    if promised_date is not None and promised_date > need_by:
        return Outlook.AT_RISK
    overstay = {
        OrderStage.ISSUED: acknowledge_within,
        OrderStage.ACKNOWLEDGED: start_production_within,
        OrderStage.DISPATCHED: deliver_within,
    }.get(stage)
    if overstay is not None and now - stage_entered_at > overstay:
        return Outlook.AT_RISK
    return Outlook.ON_TRACK
