"""The buyer's side of the lifecycle on an issued order: cancel it, check goods in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import validation as v
from db.commands._order import NOTE_MAX, close, enter, lines_of, load
from db.commands.lines import LineQuantity, check_line_quantities
from db.errors import DomainError, ErrorCode, raise_if
from db.events import record
from db.ids import new_id
from db.lifecycle import Action
from db.models import Order, OrderStage, Receipt, ReceiptLine
from db.scope import Scope


async def cancel(
    *,
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    order_id: str,
    reason: str,
    expected_version: int | None,
) -> Order:
    return await close(
        session=session,
        scope=scope,
        now=now,
        order_id=order_id,
        reason=reason,
        expected_version=expected_version,
        action=Action.CANCEL,
    )


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
    order, t = await load(session, scope, order_id, Action.RECEIVE, expected_version)
    order_lines = await lines_of(session, order)
    in_transit = {n: ln.dispatched_quantity - ln.received_quantity for n, ln in order_lines.items()}
    errors: list[DomainError | None] = [v.optional_text(note, ("note",), max_len=NOTE_MAX)]
    if not lines:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "a receipt needs at least one line", ("lines",))
        )
    errors += check_line_quantities(lines, in_transit, "dispatched and not yet received", "lines")
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
    await record(session, scope, order, now, t.event_kind)
    if all(ln.received_quantity == ln.quantity for ln in order_lines.values()):
        enter(order, OrderStage.DELIVERED, now)
        order.delivered_at = now
        order.closed_at = now
        await session.flush()
        await record(session, scope, order, now, "DELIVERED", new_version=False)
    await session.flush()
    return order
