"""What every command on an existing order shares: loading it through scope with the
caller's right to act, the version check, stage entry, closing for good."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import lifecycle
from db import validation as v
from db.errors import DomainError, ErrorCode, FieldPath, raise_if
from db.events import record
from db.lifecycle import Action
from db.models import Order, OrderLine, OrderStage
from db.queries.scope import order_scope
from db.scope import Scope

NOTE_MAX = 2000


async def load(
    session: AsyncSession,
    scope: Scope,
    order_id: str,
    action: Action,
    expected_version: int | None,
) -> tuple[Order, lifecycle.Transition]:
    """The order, locked, if in scope and the caller may take ``action``; else the typed
    error. Out of scope, an action the caller may not take, or a nonexistent id: the
    same NOT_FOUND."""
    order = None
    if action in scope.actions:
        order = await session.scalar(
            select(Order).where(order_scope(scope), Order.id == order_id).with_for_update()
        )
    if order is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such order", ("order_id",))
    if expected_version is not None and order.version != expected_version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the order has changed (version {order.version}, expected {expected_version}); "
            "reload it and try again",
            ("expected_version",),
        )
    return order, lifecycle.check(action, order.stage)


def enter(order: Order, stage: OrderStage, now: datetime) -> None:
    if order.stage is not stage:
        order.stage = stage
        order.stage_entered_at = now


def future_date(value: date, now: datetime, field: FieldPath) -> DomainError | None:
    if value < now.date():
        return DomainError(ErrorCode.VALIDATION, "must not be in the past", field)
    return None


async def lines_of(session: AsyncSession, order: Order) -> dict[int, OrderLine]:
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).with_for_update()
    )
    return {line.line_no: line for line in rows}


async def close(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    reason: str,
    expected_version: int | None,
    action: Action,
) -> Order:
    """Decline or cancel: a reason is required, the order closes for good."""
    order, t = await load(session, scope, order_id, action, expected_version)
    raise_if([v.required_text(reason, ("reason",), max_len=NOTE_MAX)])
    if t.target is None:  # decline and cancel always close the order
        raise RuntimeError(f"{action} has no target stage")
    enter(order, t.target, now)
    order.closed_at = now
    await record(session, scope, order, now, t.event_kind, note=reason.strip())
    await session.flush()
    return order
