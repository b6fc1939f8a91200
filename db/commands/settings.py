"""The organisation's settings: alert thresholds and invoice matching tolerances.

Setting values is naturally idempotent; a missing settings row means the defaults.
"""

from __future__ import annotations

from decimal import Decimal

from db import raised_alerts
from db.alerts import Thresholds
from db.commands.context import Call
from db.errors import DomainError, ErrorCode, raise_if
from db.models import AlertThresholds


def default_settings(org: str) -> AlertThresholds:
    """The settings of an org that never changed them: default thresholds, exact matching."""
    defaults = Thresholds()
    return AlertThresholds(
        org=org,
        acknowledge_within_hours=defaults.acknowledge_within_hours,
        start_production_within_hours=defaults.start_production_within_hours,
        deliver_within_hours=defaults.deliver_within_hours,
        price_tolerance_percent=Decimal(0),
        quantity_tolerance=0,
    )


async def org_settings(call: Call) -> AlertThresholds:
    """The caller's org's settings row, locked; a new one with the defaults if none."""
    settings = await call.session.get(AlertThresholds, call.scope.org, with_for_update=True)
    if settings is None:
        settings = default_settings(call.scope.org)
        call.session.add(settings)
    return settings


MAX_THRESHOLD_HOURS = 24 * 366


async def set_alert_thresholds(call: Call, *, values: dict[str, float | None]) -> AlertThresholds:
    """Set the given thresholds (hours, fractions allowed); omitted ones keep their value."""
    errors: list[DomainError | None] = [
        DomainError(
            ErrorCode.VALIDATION,
            f"must be more than 0 and at most {MAX_THRESHOLD_HOURS} hours",
            (name,),
        )
        for name, value in values.items()
        if value is not None and not (0 < value <= MAX_THRESHOLD_HOURS)
    ]
    raise_if(errors)
    settings = await org_settings(call)
    for name, value in values.items():
        if value is not None:
            setattr(settings, name, float(value))
    settings.updated_at = call.now
    await call.session.flush()
    # Episodes that no longer hold end now; the scheduler raises the ones that do.
    await raised_alerts.sync_org(call.session, call.scope.org, call.now)
    return settings


async def set_tolerances(
    call: Call, *, price_tolerance_percent: Decimal | None, quantity_tolerance: int | None
) -> AlertThresholds:
    errors: list[DomainError | None] = []
    if price_tolerance_percent is not None and not 0 <= price_tolerance_percent <= 100:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "must be between 0 and 100",
                ("price_tolerance_percent",),
            )
        )
    if quantity_tolerance is not None and not 0 <= quantity_tolerance <= 1_000_000:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "must not be negative", ("quantity_tolerance",))
        )
    raise_if(errors)
    settings = await org_settings(call)
    if price_tolerance_percent is not None:
        settings.price_tolerance_percent = price_tolerance_percent
    if quantity_tolerance is not None:
        settings.quantity_tolerance = quantity_tolerance
    settings.updated_at = call.now
    await call.session.flush()
    return settings
