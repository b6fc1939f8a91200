"""What every command on an existing order shares: loading it through scope with the
caller's right to act, the version check, moving it as the transition says, ending it
for good."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update

from db import lifecycle
from db import validation as v
from db.commands.context import Call, OrderRef
from db.commands.lines import NOTE_MAX
from db.errors import DomainError, ErrorCode, FieldPath, raise_if
from db.lifecycle import Action
from db.models import Awaiting, Order, OrderLine, OrderStage, Proposal, ProposalStatus
from db.notes import Audience
from db.queries.scope import order_scope

__all__ = [
    "NOTE_MAX",
    "commit_promise",
    "end",
    "enter",
    "finish",
    "future_date",
    "lines_of",
    "load",
    "locked_order",
    "move",
]


async def load(call: Call, target: OrderRef, action: Action) -> tuple[Order, lifecycle.Transition]:
    """The order, locked, if in scope and the caller may take ``action``; else the typed
    error. Out of scope, an action the caller may not take, or a nonexistent id: the
    same NOT_FOUND."""
    order = None
    if action in call.scope.actions:
        order = await locked_order(call, target.order_id)
    if order is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such order", ("order_id",))
    check_version(order, target.expected_version)
    return order, lifecycle.check(action, order.stage, order.awaiting)


async def locked_order(call: Call, order_id: str) -> Order | None:
    """The order in the caller's scope, locked for this transaction; None if not there."""
    return await call.session.scalar(
        select(Order).where(order_scope(call.scope), Order.id == order_id).with_for_update()
    )


def check_version(order: Order, expected_version: int | None) -> None:
    """Compare-and-set: a caller that read an older version gets CONFLICT, not a win."""
    if expected_version is not None and order.version != expected_version:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"the order has changed (version {order.version}, expected {expected_version}); "
            "reload it and try again",
            ("expected_version",),
        )


def enter(order: Order, stage: OrderStage, now: datetime) -> None:
    if order.stage is not stage:
        order.stage = stage
        order.stage_entered_at = now


def commit_promise(order: Order, promised_date: date, now: datetime) -> None:
    """The date promised on acknowledging a revision (the PO as issued, an amendment, or
    the supplier's own accepted terms): the baseline later slips are measured from. A
    later date on new terms is not a slip; ``updatePromisedDate`` on the same terms is."""
    order.promised_date = promised_date
    order.first_promised_date = promised_date
    order.promise_changed_at = now


def move(order: Order, t: lifecycle.Transition, now: datetime) -> None:
    """Into the stage ``t`` leads to from the current one, awaiting what ``t`` says."""
    enter(order, t.target(order.stage), now)
    if t.then is not None:
        order.awaiting = t.then


async def end(call: Call, order: Order, stage: OrderStage) -> None:
    """The order is over (delivered, declined, cancelled, closed): nothing awaits anyone,
    and a proposal still waiting for an answer lapses."""
    if order.awaiting is Awaiting.ANSWER:
        await call.session.execute(
            update(Proposal)
            .where(Proposal.order_id == order.id, Proposal.status == ProposalStatus.PENDING)
            .values(status=ProposalStatus.LAPSED)
        )
    enter(order, stage, call.now)
    order.awaiting = Awaiting.NOTHING
    order.closed_at = call.now


def future_date(value: date, now: datetime, field: FieldPath) -> DomainError | None:
    if value < now.date():
        return DomainError(ErrorCode.VALIDATION, "must not be in the past", field)
    return None


async def lines_of(call: Call, order: Order) -> dict[int, OrderLine]:
    rows = await call.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).with_for_update()
    )
    return {line.line_no: line for line in rows}


async def finish(
    call: Call, target: OrderRef, action: Action, *, reason: str, audience: Audience
) -> Order:
    """Decline, cancel or short-close: a reason is required (the buyer's alone unless
    shared), the order is over for good."""
    order, t = await load(call, target, action)
    raise_if([v.required_text(reason, ("reason",), max_len=NOTE_MAX)])
    await end(call, order, t.target(order.stage))
    await call.record(order, t.event_kind, note=reason.strip(), audience=audience)
    return order
