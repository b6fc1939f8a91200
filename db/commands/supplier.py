"""The supplier's side of the lifecycle: acknowledge (the PO or a revision of it),
propose changes instead, or decline; produce, keep the promise current, dispatch,
invoice.

Long because it is the supplier's whole side, one command per supplier mutation, each
validating everything before it writes; what they share is in ``_order``, ``terms``
and ``lines`` already.

Concurrency: the order row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's write
path already serialises writers) and ``version`` is a SQLAlchemy version counter, so
the UPDATE is a compare-and-set: two writers never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlparse

from sqlalchemy import select

from db import validation as v
from db.commands._order import (
    NOTE_MAX,
    commit_promise,
    finish,
    future_date,
    lines_of,
    load,
    move,
)
from db.commands.context import Call, OrderRef
from db.commands.lines import (
    InvoiceLineInput,
    LineChange,
    LineQuantity,
    check_line_quantities,
    line_problems,
)
from db.commands.terms import Terms, changes_of, check_terms
from db.errors import DomainError, ErrorCode, raise_if
from db.ids import new_id
from db.lifecycle import Action, event_kinds
from db.models import (
    Invoice,
    InvoiceLine,
    Order,
    OrderEvent,
    OrderStage,
    Proposal,
    ProposalStatus,
    Shipment,
    ShipmentLine,
    ShipmentMethod,
)

# A milestone is a note on the audit trail every party reads; a bound per order per
# hour keeps one supplier from growing an order's trail without limit.
MILESTONES_PER_HOUR = 10
MILESTONE_WINDOW = timedelta(hours=1)
TOO_MANY_MILESTONES = DomainError(
    ErrorCode.RATE_LIMITED,
    f"at most {MILESTONES_PER_HOUR} milestones per order per hour; try again later",
    ("note",),
)


async def acknowledge(
    call: Call, target: OrderRef, *, promised_date: date, note: str | None = None
) -> Order:
    """Acknowledge the current revision with the date it will be ready: the PO as issued
    (ISSUED -> ACKNOWLEDGED), or a later revision the buyer made (the stage stays, and
    production or dispatch may go on)."""
    order, t = await load(call, target, Action.ACKNOWLEDGE)
    raise_if(
        [
            future_date(promised_date, call.now, ("promised_date",)),
            v.optional_text(note, ("note",), max_len=NOTE_MAX),
        ]
    )
    (kind,) = event_kinds(Action.ACKNOWLEDGE, order.stage)
    if order.stage is OrderStage.ISSUED:
        order.acknowledged_at = call.now
    commit_promise(order, promised_date, call.now)
    move(order, t, call.now)
    await call.record(order, kind, note=note, promised_date=promised_date)
    return order


async def propose_changes(
    call: Call,
    target: OrderRef,
    *,
    note: str,
    promised_date: date | None = None,
    lines: Sequence[LineChange] = (),
) -> Order:
    """Instead of acknowledging: the terms the supplier can do (a date, quantities, unit
    prices), with a note saying why. The buyer answers (``respondToProposal``); until
    then the order stays where it is and its alerts keep running."""
    order, t = await load(call, target, Action.PROPOSE_CHANGES)
    order_lines = await lines_of(call, order)
    terms = Terms(promised_date=promised_date, lines=lines)
    errors = [v.required_text(note, ("note",), max_len=NOTE_MAX)]
    errors += check_terms(terms, order, order_lines, call.now.date())
    if order.stage is OrderStage.ISSUED and promised_date is None:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "propose the date you can promise", ("promised_date",)
            )
        )
    raise_if(errors)
    if not changes_of(terms, order, order_lines):
        raise DomainError(
            ErrorCode.VALIDATION,
            "the proposal changes nothing: acknowledge the revision instead",
            ("lines",),
        )
    call.session.add(
        Proposal(
            id=new_id("prp"),
            org=call.scope.org,
            order_id=order.id,
            revision=order.revision,
            status=ProposalStatus.PENDING,
            proposed_at=call.now,
            proposed_by=call.scope.subject,
            note=note.strip(),
            promised_date=promised_date,
            lines=[c.to_json() for c in sorted(lines, key=lambda c: c.line_no)],
        )
    )
    move(order, t, call.now)
    # The proposed date is not a promise yet: the event carries the note only.
    await call.record(order, t.event_kind, note=note.strip())
    return order


async def decline(call: Call, target: OrderRef, *, reason: str) -> Order:
    # A supplier's note carries no audience: the row rules let it reach the buyer and
    # the supplier itself, never the client.
    return await finish(call, target, Action.DECLINE, reason=reason, audience=frozenset())


async def start_production(call: Call, target: OrderRef, *, note: str | None = None) -> Order:
    order, t = await load(call, target, Action.START_PRODUCTION)
    raise_if([v.optional_text(note, ("note",), max_len=NOTE_MAX)])
    move(order, t, call.now)
    order.production_started_at = call.now
    await call.record(order, t.event_kind, note=note)
    return order


async def update_promised_date(
    call: Call, target: OrderRef, *, promised_date: date, reason: str
) -> Order:
    order, t = await load(call, target, Action.UPDATE_PROMISED_DATE)
    errors = [
        future_date(promised_date, call.now, ("promised_date",)),
        v.required_text(reason, ("reason",), max_len=NOTE_MAX),
    ]
    if promised_date == order.promised_date:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "is already the promised date", ("promised_date",))
        )
    raise_if(errors)
    if order.promised_date is not None and promised_date > order.promised_date:
        order.promise_slips += 1
    order.promised_date = promised_date
    order.promise_changed_at = call.now
    await call.record(order, t.event_kind, note=reason.strip(), promised_date=promised_date)
    return order


async def add_milestone(call: Call, target: OrderRef, *, note: str) -> Order:
    order, t = await load(call, target, Action.ADD_MILESTONE)
    raise_if([v.required_text(note, ("note",), max_len=NOTE_MAX)])
    # The order row is locked (``load``), so concurrent milestones count one another.
    recent = (
        OrderEvent.order_id == order.id,
        OrderEvent.kind == t.event_kind,
        OrderEvent.at > call.now - MILESTONE_WINDOW,
    )
    raise_if([await call.capped(MILESTONES_PER_HOUR, TOO_MANY_MILESTONES, OrderEvent, *recent)])
    await call.record(order, t.event_kind, note=note.strip())
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
        return DomainError(ErrorCode.VALIDATION, "must be an http(s) URL", ("tracking_url",))
    return None


async def dispatch(
    call: Call,
    target: OrderRef,
    *,
    method: ShipmentMethod,
    carrier: str | None = None,
    tracking_reference: str | None = None,
    tracking_url: str | None = None,
    lines: Sequence[LineQuantity] | None = None,
) -> Order:
    order, t = await load(call, target, Action.DISPATCH)
    order_lines = await lines_of(call, order)
    remaining = {n: ln.quantity - ln.dispatched_quantity for n, ln in order_lines.items()}
    errors: list[DomainError | None] = [
        _tracking_url(tracking_url),
        v.optional_text(carrier, ("carrier",), max_len=200),
        v.optional_text(tracking_reference, ("tracking_reference",), max_len=200),
    ]
    if method is not ShipmentMethod.OWN_DRIVER and not (carrier and carrier.strip()):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, f"a {method.value} shipment needs a carrier", ("carrier",)
            )
        )
    if not any(q > 0 for q in remaining.values()):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "everything on this order has already been dispatched",
                ("lines",),
            )
        )
        raise_if(errors)
    if lines is None:
        shipped = [LineQuantity(n, q) for n, q in sorted(remaining.items()) if q > 0]
    elif not lines:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "list at least one line, or omit lines", ("lines",))
        )
        shipped = []
    else:
        errors += check_line_quantities(lines, remaining, "still to dispatch", "lines")
        shipped = list(lines)
    raise_if(errors)

    shipment = await call.insert(
        Shipment(
            id=new_id("shp"),
            org=call.scope.org,
            order_id=order.id,
            method=method,
            carrier=carrier.strip() if carrier else None,
            tracking_reference=tracking_reference,
            tracking_url=tracking_url,
            dispatched_at=call.now,
        )
    )
    for item in shipped:
        order_lines[item.line_no].dispatched_quantity += item.quantity
        call.session.add(
            ShipmentLine(
                shipment_id=shipment.id,
                line_no=item.line_no,
                order_id=order.id,
                org=call.scope.org,
                quantity=item.quantity,
            )
        )
    if order.dispatched_at is None:
        order.dispatched_at = call.now
    move(order, t, call.now)
    await call.record(order, t.event_kind)
    return order


async def submit_invoice(
    call: Call, target: OrderRef, *, number: str, lines: Sequence[InvoiceLineInput]
) -> Invoice:
    order, t = await load(call, target, Action.SUBMIT_INVOICE)
    order_lines = await lines_of(call, order)
    errors: list[DomainError | None] = [v.required_text(number, ("number",), max_len=64)]
    if not lines:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "an invoice needs at least one line", ("lines",))
        )
    problems, _ = line_problems((ln.line_no for ln in lines), order_lines, "lines")
    errors += problems
    for i, line in enumerate(lines):
        errors += [
            v.positive_quantity(line.quantity, ("lines", i, "quantity")),
            v.money(line.unit_price, ("lines", i, "unit_price")),
        ]
    if number and number.strip():
        duplicate = await call.session.scalar(
            select(Invoice.id).where(
                Invoice.org == call.scope.org,
                Invoice.supplier_id == order.supplier_id,
                Invoice.number == number.strip(),
            )
        )
        if duplicate is not None:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    "you already submitted an invoice with this number",
                    ("number",),
                )
            )
    total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
    if not any(errors) and total >= v.MAX_MONEY:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "the invoice total is too large", ("lines",))
        )
    raise_if(errors)
    invoice = await call.insert(
        Invoice(
            id=new_id("inv"),
            org=call.scope.org,
            order_id=order.id,
            supplier_id=order.supplier_id,
            number=number.strip(),
            submitted_at=call.now,
            total=total,
        )
    )
    call.session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            line_no=ln.line_no,
            org=call.scope.org,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
        )
        for ln in lines
    )
    await call.record(order, t.event_kind, note=f"invoice {invoice.number}")
    return invoice
