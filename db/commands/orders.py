"""Issuing a purchase order: validated whole, numbered, written with its first event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import validation as v
from db.commands.context import Call
from db.commands.lines import MAX_LINES, LineInput, check_new_lines, new_order_line
from db.commands.terms import first_revision
from db.errors import DomainError, ErrorCode, raise_if
from db.ids import new_id, po_number
from db.models import Awaiting, Client, Order, OrderStage, Supplier
from db.queries.scope import client_scope, supplier_scope

__all__ = ["MAX_LINES", "IssueOrderInput", "LineInput", "issue_order"]


@dataclass(frozen=True)
class IssueOrderInput:
    supplier_id: str
    need_by: date
    currency: str
    lines: Sequence[LineInput]
    client_id: str | None = None
    client_reference: str | None = None
    terms: str | None = None
    lead_time_days: int | None = None
    internal_note: str | None = None


def _validate_issue(data: IssueOrderInput, today: date) -> list[DomainError | None]:
    errors: list[DomainError | None] = [
        v.currency(data.currency, ("currency",)),
        v.optional_text(data.client_reference, ("client_reference",), max_len=200),
        v.optional_text(data.terms, ("terms",), max_len=10_000),
        v.optional_text(data.internal_note, ("internal_note",), max_len=10_000),
    ]
    if data.need_by < today:
        errors.append(DomainError(ErrorCode.VALIDATION, "must not be in the past", ("need_by",)))
    if data.lead_time_days is not None and not 0 <= data.lead_time_days <= 3650:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "must be between 0 and 3650", ("lead_time_days",))
        )
    if not data.lines:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "an order needs at least one line", ("lines",))
        )
    elif len(data.lines) > MAX_LINES:
        errors.append(DomainError(ErrorCode.VALIDATION, f"at most {MAX_LINES} lines", ("lines",)))
    return errors + check_new_lines(data.lines, "lines")


async def _new_number(session: AsyncSession, org: str, day: date) -> str:
    """A PO number not yet used in ``org``: random, so it counts nothing (the unique
    (org, number) constraint stays the backstop for two issued in the same instant)."""
    while True:
        number = po_number(day)
        taken = await session.scalar(
            select(Order.id).where(Order.org == org, Order.number == number)
        )
        if taken is None:
            return number


async def issue_order(call: Call, data: IssueOrderInput) -> Order:
    scope = call.scope
    errors = _validate_issue(data, call.now.date())
    supplier = await call.session.scalar(
        select(Supplier.id).where(supplier_scope(scope), Supplier.id == data.supplier_id)
    )
    if supplier is None:
        errors.append(DomainError(ErrorCode.NOT_FOUND, "no such supplier", ("supplier_id",)))
    if data.client_id is not None:
        client = await call.session.scalar(
            select(Client.id).where(client_scope(scope), Client.id == data.client_id)
        )
        if client is None:
            errors.append(DomainError(ErrorCode.NOT_FOUND, "no such client", ("client_id",)))
    total = sum((line.unit_price * line.quantity for line in data.lines), Decimal(0))
    if not errors and total >= v.MAX_MONEY:
        errors.append(DomainError(ErrorCode.VALIDATION, "the order total is too large", ("lines",)))
    raise_if(errors)

    order = await call.insert(
        Order(
            id=new_id("ord"),
            org=scope.org,
            number=await _new_number(call.session, scope.org, call.now.date()),
            stage=OrderStage.ISSUED,
            supplier_id=data.supplier_id,
            client_id=data.client_id,
            client_reference=data.client_reference,
            currency=data.currency,
            total=total,
            terms=data.terms,
            lead_time_days=data.lead_time_days,
            need_by=data.need_by,
            issued_at=call.now,
            stage_entered_at=call.now,
            internal_note=data.internal_note,
            version=1,
            revision=1,
            awaiting=Awaiting.ACKNOWLEDGEMENT,
            promise_slips=0,
            created_by=scope.subject,
        )
    )
    call.session.add_all(
        new_order_line(order, i, line) for i, line in enumerate(data.lines, start=1)
    )
    call.session.add(first_revision(order, scope))
    await call.record(order, "ISSUED", new_version=False)
    return order
