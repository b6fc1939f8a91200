"""The buyer's side of the lifecycle on an issued order: answer a supplier's proposal,
amend the terms, check goods in (rejecting what is not fit), cancel or short-close.

Every note the buyer writes takes the audience it is shared with (``db.notes``); none
given, it is the buyer's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from db import validation as v
from db.commands._order import NOTE_MAX, commit_promise, end, finish, lines_of, load, move
from db.commands.context import Call, OrderRef
from db.commands.lines import LineChange, LineInput, ReceiptLineInput, check_receipt_lines
from db.commands.terms import Terms, apply_terms, changes_of, check_terms
from db.errors import DomainError, ErrorCode, raise_if
from db.ids import new_id
from db.lifecycle import Action, event_kinds
from db.models import (
    Order,
    OrderStage,
    Proposal,
    ProposalStatus,
    Receipt,
    ReceiptLine,
)
from db.notes import BUYER_ALONE, Audience
from db.scope import Role


async def cancel(
    call: Call, target: OrderRef, *, reason: str, audience: Audience = BUYER_ALONE
) -> Order:
    return await finish(call, target, Action.CANCEL, reason=reason, audience=audience)


async def close(
    call: Call, target: OrderRef, *, reason: str, audience: Audience = BUYER_ALONE
) -> Order:
    """Short-close: what is still outstanding will not come. What was received stays,
    and stays invoiceable; the rest of every line is cancelled."""
    order = await finish(call, target, Action.CLOSE, reason=reason, audience=audience)
    for line in (await lines_of(call, order)).values():
        line.cancelled_quantity = line.quantity - line.received_quantity
    return order


async def receive(
    call: Call,
    target: OrderRef,
    *,
    lines: Sequence[ReceiptLineInput],
    note: str | None = None,
    audience: Audience = BUYER_ALONE,
) -> Order:
    """A goods receipt. Accepted units count as received; rejected ones go back to what
    the supplier still has to dispatch, with the reason it reads on the receipt."""
    order, t = await load(call, target, Action.RECEIVE)
    order_lines = await lines_of(call, order)
    in_transit = {n: ln.dispatched_quantity - ln.received_quantity for n, ln in order_lines.items()}
    errors: list[DomainError | None] = [v.optional_text(note, ("note",), max_len=NOTE_MAX)]
    if not lines:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "a receipt needs at least one line", ("lines",))
        )
    errors += check_receipt_lines(lines, in_transit, "lines")
    raise_if(errors)
    receipt = await call.insert(
        Receipt(
            id=new_id("rcp"),
            org=call.scope.org,
            order_id=order.id,
            received_at=call.now,
            actor_subject=call.scope.subject,
            note=note,
            note_audience=audience,
        )
    )
    for item in lines:
        line = order_lines[item.line_no]
        line.received_quantity += item.quantity
        line.dispatched_quantity -= item.rejected_quantity
        line.rejected_quantity += item.rejected_quantity
        call.session.add(
            ReceiptLine(
                receipt_id=receipt.id,
                line_no=item.line_no,
                order_id=order.id,
                org=call.scope.org,
                quantity=item.quantity,
                rejected_quantity=item.rejected_quantity,
                reject_reason=item.reject_reason.strip() if item.reject_reason else None,
            )
        )
    await call.record(order, t.event_kind, note=note, audience=audience)
    if all(ln.received_quantity == ln.quantity for ln in order_lines.values()):
        await end(call, order, OrderStage.DELIVERED)
        order.delivered_at = call.now
        await call.session.flush()
        await call.record(order, "DELIVERED", new_version=False)
    return order


async def respond_to_proposal(
    call: Call,
    target: OrderRef,
    *,
    accept: bool,
    note: str | None = None,
    audience: Audience = BUYER_ALONE,
) -> Order:
    """Accept: the proposed terms become the next revision and the order is acknowledged
    on them. Reject: the supplier may acknowledge what it answered, or propose again."""
    action = Action.ACCEPT_PROPOSAL if accept else Action.REJECT_PROPOSAL
    order, t = await load(call, target, action)
    raise_if([v.optional_text(note, ("note",), max_len=NOTE_MAX)])
    proposal = await call.session.scalar(
        select(Proposal)
        .where(Proposal.order_id == order.id, Proposal.status == ProposalStatus.PENDING)
        .with_for_update()
    )
    if proposal is None:  # awaiting ANSWER exactly while one is pending
        raise RuntimeError(f"order {order.id} awaits an answer but has no pending proposal")
    proposal.answered_at, proposal.answered_by = call.now, call.scope.subject
    promised: date | None = None  # a new promise comes with the accepted terms only
    kind, *acknowledged = event_kinds(action, order.stage)
    if accept:
        proposal.status = ProposalStatus.ACCEPTED
        order_lines = await lines_of(call, order)
        terms = proposed_terms(proposal)
        # Checked again: the order may have moved on (a receipt) since it was proposed.
        raise_if(check_terms(terms, order, order_lines, call.now.date()))
        apply_terms(
            call,
            order=order,
            lines=order_lines,
            terms=terms,
            changes=changes_of(terms, order, order_lines),
            by="supplier",
            by_subject=proposal.proposed_by,
            reason=proposal.note,
            reason_audience=BUYER_ALONE,
        )
        promised = terms.promised_date
        if promised is not None:
            commit_promise(order, promised, call.now)
        if order.stage is OrderStage.ISSUED:
            order.acknowledged_at = call.now
    else:
        proposal.status = ProposalStatus.REJECTED
    move(order, t, call.now)
    await call.record(
        order,
        kind,
        note=note.strip() if note else None,
        promised_date=promised,
        audience=audience,
    )
    for also in acknowledged:
        # The PO is now acknowledged, by the supplier's proposal on the terms accepted:
        # the same ACKNOWLEDGED event a plain acknowledgement writes, so those who never
        # see the negotiation (the client) see the order confirmed like any other.
        await call.session.flush()
        await call.record(
            order,
            also,
            promised_date=promised,
            new_version=False,
            actor=(Role.SUPPLIER.value, proposal.proposed_by),
        )
    return order


def proposed_terms(proposal: Proposal) -> Terms:
    return Terms(
        promised_date=proposal.promised_date,
        lines=[LineChange.from_json(item) for item in proposal.lines],
    )


async def amend(
    call: Call,
    target: OrderRef,
    *,
    reason: str,
    need_by: date | None = None,
    lines: Sequence[LineChange] = (),
    add_lines: Sequence[LineInput] = (),
    audience: Audience = BUYER_ALONE,
) -> Order:
    """A new revision of the terms, which the supplier must acknowledge before it starts
    or goes on; every earlier revision is kept."""
    order, t = await load(call, target, Action.AMEND)
    order_lines = await lines_of(call, order)
    terms = Terms(need_by=need_by, lines=lines, add_lines=add_lines)
    errors = [v.required_text(reason, ("reason",), max_len=NOTE_MAX)]
    errors += check_terms(terms, order, order_lines, call.now.date())
    raise_if(errors)
    changes = changes_of(terms, order, order_lines)
    if not changes:
        raise DomainError(ErrorCode.VALIDATION, "the amendment changes nothing", ("lines",))
    apply_terms(
        call,
        order=order,
        lines=order_lines,
        terms=terms,
        changes=changes,
        by="buyer",
        by_subject=call.scope.subject,
        reason=reason.strip(),
        reason_audience=audience,
    )
    move(order, t, call.now)
    await call.record(order, t.event_kind, note=reason.strip(), audience=audience)
    return order
