"""Lifecycle commands: each checks scope, version and the transition table, validates
its input, then changes the order, appends its event and adds any shipment, receipt
or invoice rows — all in the caller's single transaction.

Concurrency: the order row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write
path already serialises writers) and ``version`` is a SQLAlchemy version counter,
so the UPDATE is a compare-and-set: two writers never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlparse

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import lifecycle
from db import validation as v
from db.alerts import Thresholds
from db.errors import DomainError, ErrorCode, raise_if
from db.events import note_event
from db.ids import new_id
from db.lifecycle import Action
from db.models import (
    AlertThresholds,
    Invoice,
    InvoiceLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderStage,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    ShipmentMethod,
)
from db.queries import order_scope
from db.scope import Scope

NOTE_MAX = 2000


@dataclass(frozen=True)
class LineQuantity:
    line_no: int
    quantity: int


@dataclass(frozen=True)
class InvoiceLineInput:
    line_no: int
    quantity: int
    unit_price: Decimal


async def _load(
    session: AsyncSession,
    scope: Scope,
    order_id: str,
    action: Action,
    expected_version: int | None,
) -> tuple[Order, lifecycle.Transition]:
    """The order if in scope and the role may act on it; else the typed error.

    Out of scope, another role's action, or a nonexistent id: the same NOT_FOUND.
    """
    transition = lifecycle.TRANSITIONS[action]
    order = None
    if transition.actor == scope.role:
        order = await session.scalar(
            select(Order).where(order_scope(scope), Order.id == order_id).with_for_update()
        )
    if order is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such order", ["input", "orderId"])
    if expected_version is not None and order.version != expected_version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the order has changed (version {order.version}, expected {expected_version}); "
            "reload it and try again",
            ["input", "expectedVersion"],
        )
    return order, lifecycle.check(action, order.stage)


async def _record(
    session: AsyncSession,
    scope: Scope,
    order: Order,
    now: datetime,
    kind: str,
    *,
    note: str | None = None,
    promised_date: date | None = None,
    new_version: bool = True,
) -> None:
    """A change to the order: a new version (unless it shares one) and its event."""
    if new_version:
        _bump(order)
    last = await session.scalar(
        select(func.max(OrderEvent.seq)).where(OrderEvent.order_id == order.id)
    )
    event_id = new_id("evt")
    # Announced to subscribers once the transaction commits.
    note_event(session, order.id, event_id)
    session.add(
        OrderEvent(
            id=event_id,
            org=scope.org,
            order_id=order.id,
            seq=(last or 0) + 1,
            at=now,
            stage=order.stage,
            kind=kind,
            actor_role=scope.role,
            actor_subject=scope.subject,
            note=note,
            promised_date=promised_date,
            internal=False,
        )
    )


def _enter(order: Order, stage: OrderStage, now: datetime) -> None:
    if order.stage is not stage:
        order.stage = stage
        order.stage_entered_at = now


def _bump(order: Order) -> None:
    """Every change to an order is a new version, even one that only adds an event.

    ``version`` is the mapper's version column: the UPDATE carries
    ``WHERE version = <old>``, so a concurrent writer that got there first makes
    this flush fail (StaleDataError -> CONFLICT) instead of both winning.
    """
    order.version = order.version + 1


def _future_date(value: date, now: datetime, field: list[str]) -> DomainError | None:
    if value < now.date():
        return DomainError(ErrorCode.VALIDATION, "must not be in the past", field)
    return None


async def _lines(session: AsyncSession, order: Order) -> dict[int, OrderLine]:
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).with_for_update()
    )
    return {line.line_no: line for line in rows}


def _check_line_quantities(
    requested: Sequence[LineQuantity], available: dict[int, int], what: str, field: str
) -> list[DomainError | None]:
    errors: list[DomainError | None] = []
    seen: set[int] = set()
    for i, item in enumerate(requested):
        path = ["input", field, str(i)]
        if item.line_no in seen:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION, f"line {item.line_no} is listed twice", [*path, "lineNo"]
                )
            )
            continue
        seen.add(item.line_no)
        if item.line_no not in available:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION, f"no line {item.line_no} on this order", [*path, "lineNo"]
                )
            )
            continue
        if item.quantity <= 0:
            errors.append(
                DomainError(ErrorCode.VALIDATION, "must be greater than zero", [*path, "quantity"])
            )
        elif item.quantity > available[item.line_no]:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    f"line {item.line_no}: {item.quantity} is more than the "
                    f"{available[item.line_no]} {what}",
                    [*path, "quantity"],
                )
            )
    return errors


# --- supplier ---------------------------------------------------------------------


async def acknowledge(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    promised_date: date,
    note: str | None,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.ACKNOWLEDGE, expected_version)
    raise_if(
        [
            _future_date(promised_date, now, ["input", "promisedDate"]),
            v.optional_text(note, ["input", "note"], max_len=NOTE_MAX),
        ]
    )
    _enter(order, OrderStage.ACKNOWLEDGED, now)
    order.acknowledged_at = now
    order.promised_date = promised_date
    order.first_promised_date = promised_date
    order.promise_changed_at = now
    await _record(session, scope, order, now, t.event_kind, note=note, promised_date=promised_date)
    await session.flush()
    return order


async def _close(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    reason: str,
    expected_version: int | None,
    action: Action,
) -> Order:
    """Decline or cancel: a reason is required, the order closes for good."""
    order, t = await _load(session, scope, order_id, action, expected_version)
    raise_if([v.required_text(reason, ["input", "reason"], max_len=NOTE_MAX)])
    if t.target is None:  # decline and cancel always close the order
        raise RuntimeError(f"{action} has no target stage")
    _enter(order, t.target, now)
    order.closed_at = now
    await _record(session, scope, order, now, t.event_kind, note=reason.strip())
    await session.flush()
    return order


async def decline(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    reason: str,
    expected_version: int | None,
) -> Order:
    return await _close(session, scope, now, order_id, reason, expected_version, Action.DECLINE)


async def start_production(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    note: str | None,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.START_PRODUCTION, expected_version)
    raise_if([v.optional_text(note, ["input", "note"], max_len=NOTE_MAX)])
    _enter(order, OrderStage.IN_PRODUCTION, now)
    order.production_started_at = now
    await _record(session, scope, order, now, t.event_kind, note=note)
    await session.flush()
    return order


async def update_promised_date(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    promised_date: date,
    reason: str,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.UPDATE_PROMISED_DATE, expected_version)
    errors = [
        _future_date(promised_date, now, ["input", "promisedDate"]),
        v.required_text(reason, ["input", "reason"], max_len=NOTE_MAX),
    ]
    if promised_date == order.promised_date:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "is already the promised date", ["input", "promisedDate"]
            )
        )
    raise_if(errors)
    if order.promised_date is not None and promised_date > order.promised_date:
        order.promise_slips += 1
    order.promised_date = promised_date
    order.promise_changed_at = now
    await _record(
        session, scope, order, now, t.event_kind, note=reason.strip(), promised_date=promised_date
    )
    await session.flush()
    return order


async def add_milestone(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    note: str,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.ADD_MILESTONE, expected_version)
    raise_if([v.required_text(note, ["input", "note"], max_len=NOTE_MAX)])
    await _record(session, scope, order, now, t.event_kind, note=note.strip())
    await session.flush()
    return order


def _tracking_url(url: str | None) -> DomainError | None:
    if url is None:
        return None
    parsed = urlparse(url)
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.netloc
        or len(url) > 2000
        or not v.no_nul(url)
        or parsed.username is not None  # credentials in a link others will open
        or url != url.strip()
    ):
        return DomainError(ErrorCode.VALIDATION, "must be an http(s) URL", ["input", "trackingUrl"])
    return None


async def dispatch(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    method: ShipmentMethod,
    carrier: str | None,
    tracking_reference: str | None,
    tracking_url: str | None,
    lines: Sequence[LineQuantity] | None,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.DISPATCH, expected_version)
    order_lines = await _lines(session, order)
    remaining = {n: ln.quantity - ln.dispatched_quantity for n, ln in order_lines.items()}
    errors: list[DomainError | None] = [
        _tracking_url(tracking_url),
        v.optional_text(carrier, ["input", "carrier"], max_len=200),
        v.optional_text(tracking_reference, ["input", "trackingReference"], max_len=200),
    ]
    if method is not ShipmentMethod.OWN_DRIVER and not (carrier and carrier.strip()):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                f"a {method.value} shipment needs a carrier",
                ["input", "carrier"],
            )
        )
    if not any(q > 0 for q in remaining.values()):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "everything on this order has already been dispatched",
                ["input", "lines"],
            )
        )
        raise_if(errors)
    if lines is None:
        shipped = [LineQuantity(n, q) for n, q in sorted(remaining.items()) if q > 0]
    elif not lines:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "list at least one line, or omit lines", ["input", "lines"]
            )
        )
        shipped = []
    else:
        errors += _check_line_quantities(lines, remaining, "still to dispatch", "lines")
        shipped = list(lines)
    raise_if(errors)

    shipment = Shipment(
        id=new_id("shp"),
        org=scope.org,
        order_id=order.id,
        method=method,
        carrier=carrier.strip() if carrier else None,
        tracking_reference=tracking_reference,
        tracking_url=tracking_url,
        dispatched_at=now,
    )
    session.add(shipment)
    await session.flush()
    for item in shipped:
        order_lines[item.line_no].dispatched_quantity += item.quantity
        session.add(
            ShipmentLine(
                shipment_id=shipment.id,
                line_no=item.line_no,
                order_id=order.id,
                org=scope.org,
                quantity=item.quantity,
            )
        )
    if order.dispatched_at is None:
        order.dispatched_at = now
    _enter(order, OrderStage.DISPATCHED, now)
    await _record(session, scope, order, now, t.event_kind)
    await session.flush()
    return order


async def submit_invoice(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    number: str,
    lines: Sequence[InvoiceLineInput],
    expected_version: int | None,
) -> Invoice:
    order, t = await _load(session, scope, order_id, Action.SUBMIT_INVOICE, expected_version)
    order_lines = await _lines(session, order)
    errors: list[DomainError | None] = [v.required_text(number, ["input", "number"], max_len=64)]
    if not lines:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "an invoice needs at least one line", ["input", "lines"]
            )
        )
    seen: set[int] = set()
    for i, line in enumerate(lines):
        path = ["input", "lines", str(i)]
        if line.line_no not in order_lines:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION, f"no line {line.line_no} on this order", [*path, "lineNo"]
                )
            )
        elif line.line_no in seen:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION, f"line {line.line_no} is listed twice", [*path, "lineNo"]
                )
            )
        seen.add(line.line_no)
        errors += [
            v.positive_quantity(line.quantity, [*path, "quantity"]),
            v.money(line.unit_price, [*path, "unitPrice"]),
        ]
    if number and number.strip():
        duplicate = await session.scalar(
            select(Invoice.id).where(
                Invoice.org == scope.org,
                Invoice.supplier_id == order.supplier_id,
                Invoice.number == number.strip(),
            )
        )
        if duplicate is not None:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    "you already submitted an invoice with this number",
                    ["input", "number"],
                )
            )
    total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
    if not any(errors) and total >= v.MAX_MONEY:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "the invoice total is too large", ["input", "lines"])
        )
    raise_if(errors)
    invoice = Invoice(
        id=new_id("inv"),
        org=scope.org,
        order_id=order.id,
        supplier_id=order.supplier_id,
        number=number.strip(),
        submitted_at=now,
        total=total,
    )
    session.add(invoice)
    await session.flush()
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            line_no=ln.line_no,
            org=scope.org,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
        )
        for ln in lines
    )
    await _record(session, scope, order, now, t.event_kind, note=f"invoice {invoice.number}")
    await session.flush()
    return invoice


# --- buyer ------------------------------------------------------------------------


async def cancel(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    reason: str,
    expected_version: int | None,
) -> Order:
    return await _close(session, scope, now, order_id, reason, expected_version, Action.CANCEL)


async def receive(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    lines: Sequence[LineQuantity],
    note: str | None,
    expected_version: int | None,
) -> Order:
    order, t = await _load(session, scope, order_id, Action.RECEIVE, expected_version)
    order_lines = await _lines(session, order)
    in_transit = {n: ln.dispatched_quantity - ln.received_quantity for n, ln in order_lines.items()}
    errors: list[DomainError | None] = [v.optional_text(note, ["input", "note"], max_len=NOTE_MAX)]
    if not lines:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "a receipt needs at least one line", ["input", "lines"]
            )
        )
    errors += _check_line_quantities(lines, in_transit, "dispatched and not yet received", "lines")
    raise_if(errors)
    receipt = Receipt(
        id=new_id("rcp"),
        org=scope.org,
        order_id=order.id,
        received_at=now,
        actor_subject=scope.subject,
        note=note,
    )
    session.add(receipt)
    await session.flush()
    for item in lines:
        order_lines[item.line_no].received_quantity += item.quantity
        session.add(
            ReceiptLine(
                receipt_id=receipt.id,
                line_no=item.line_no,
                order_id=order.id,
                org=scope.org,
                quantity=item.quantity,
            )
        )
    # The note stays on the receipt (hidden from clients), not on the event trail that
    # clients read: a receiving note often names the supplier or a claim.
    await _record(session, scope, order, now, t.event_kind)
    if all(ln.received_quantity == ln.quantity for ln in order_lines.values()):
        _enter(order, OrderStage.DELIVERED, now)
        order.delivered_at = now
        order.closed_at = now
        await session.flush()
        await _record(session, scope, order, now, "DELIVERED", new_version=False)
    await session.flush()
    return order


async def _org_settings(session: AsyncSession, scope: Scope) -> AlertThresholds:
    settings = await session.get(AlertThresholds, scope.org, with_for_update=True)
    if settings is None:
        defaults = Thresholds()
        settings = AlertThresholds(
            org=scope.org,
            acknowledge_within_hours=defaults.acknowledge_within_hours,
            start_production_within_hours=defaults.start_production_within_hours,
            deliver_within_hours=defaults.deliver_within_hours,
            price_tolerance_percent=Decimal(0),
            quantity_tolerance=0,
        )
        session.add(settings)
    return settings


MAX_THRESHOLD_HOURS = 24 * 366


async def set_alert_thresholds(
    *, session: AsyncSession, scope: Scope, now: datetime, values: dict[str, float | None]
) -> AlertThresholds:
    """Set the given thresholds (hours, fractions allowed); omitted ones keep their value."""
    errors: list[DomainError | None] = []
    for name, value in values.items():
        if value is not None and not (0 < value <= MAX_THRESHOLD_HOURS):
            camel = "".join(w.capitalize() if i else w for i, w in enumerate(name.split("_")))
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    f"must be more than 0 and at most {MAX_THRESHOLD_HOURS} hours",
                    ["input", camel],
                )
            )
    raise_if(errors)
    settings = await _org_settings(session, scope)
    for name, value in values.items():
        if value is not None:
            setattr(settings, name, float(value))
    settings.updated_at = now
    await session.flush()
    return settings


async def set_tolerances(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    price_tolerance_percent: Decimal | None,
    quantity_tolerance: int | None,
) -> AlertThresholds:
    errors: list[DomainError | None] = []
    if price_tolerance_percent is not None and not 0 <= price_tolerance_percent <= 100:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "must be between 0 and 100",
                ["input", "priceTolerancePercent"],
            )
        )
    if quantity_tolerance is not None and not 0 <= quantity_tolerance <= 1_000_000:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "must not be negative", ["input", "quantityTolerance"]
            )
        )
    raise_if(errors)
    settings = await _org_settings(session, scope)
    if price_tolerance_percent is not None:
        settings.price_tolerance_percent = price_tolerance_percent
    if quantity_tolerance is not None:
        settings.quantity_tolerance = quantity_tolerance
    settings.updated_at = now
    await session.flush()
    return settings
