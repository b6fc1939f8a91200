"""An order's relations, batched by parent id: one statement per relation per level.

Read-only relations a page shows (lines, events, shipments) come back as plain rows;
the rest as mapped objects. What a role may read inside rows in scope (hidden event
kinds, whose invoices) comes from ``scope.content``, which the policy table fills.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    and_,
    false,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import (
    Invoice,
    InvoiceLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderRevision,
    Proposal,
    ProposalStatus,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
)
from db.queries.scope import order_scope
from db.scope import InvoiceAccess, Scope

T = TypeVar("T")
Node = TypeVar("Node", OrderEvent, Shipment, Invoice)  # read by id


def on_orders_in_scope(
    scope: Scope, stmt: Select[T], order_id: InstrumentedAttribute[str], *where: ColumnElement[bool]
) -> Select[T]:
    """``stmt`` joined to the order ``order_id`` names, kept to orders in scope (and to
    ``where``): how every relation of an order is read."""
    return stmt.join(Order, Order.id == order_id).where(order_scope(scope), *where)


def _grouped(rows: Iterable[T], key: str) -> defaultdict[str, list[T]]:
    grouped: defaultdict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


async def _children(
    session: AsyncSession,
    scope: Scope,
    parent: InstrumentedAttribute[str],
    parent_ids: Sequence[str],
    *then: InstrumentedAttribute[Any],
    plain: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
) -> defaultdict[str, list[Any]]:
    """The rows of ``parent``'s table under each of ``parent_ids``, in (``parent``,
    ``*then``) order, on orders in scope (and to ``where``). ``plain``: as rows (no ORM
    identity map or instance state), for the read-only relations a page shows, where
    building mapped objects would dominate."""
    model = parent.class_
    what = select(*model.__table__.columns) if plain else select(model)
    stmt = on_orders_in_scope(scope, what, model.order_id, parent.in_(parent_ids), *where)
    stmt = stmt.order_by(parent, *then)
    if plain:
        return _grouped(await session.execute(stmt), parent.key)
    return _grouped(await session.scalars(stmt), parent.key)


async def _by_ids(
    session: AsyncSession,
    scope: Scope,
    model: type[Node],
    ids: Iterable[str],
    *where: ColumnElement[bool],
) -> dict[str, Node]:
    """``model``'s rows by id, on orders in scope (and to ``where``)."""
    wanted = model.id.in_(list(set(ids)))
    stmt = on_orders_in_scope(scope, select(model), model.order_id, wanted, *where)
    return {row.id: row for row in await session.scalars(stmt)}


async def lines_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    return await _children(
        session, scope, OrderLine.order_id, order_ids, OrderLine.line_no, plain=True
    )


def visible_event(scope: Scope) -> ColumnElement[bool]:
    """Events the caller's role may read (the policy table's row content): the SQL form
    of ``RowContent.reads_event``."""
    content = scope.content
    rule: ColumnElement[bool] = true()
    if content.hidden_event_kinds:
        rule = and_(rule, OrderEvent.kind.not_in(sorted(content.hidden_event_kinds)))
    if content.unless_shared_kinds:
        # The audience column is sorted names joined by commas; no name contains another.
        shared = type_coerce(OrderEvent.note_audience, String).contains(content.shared_as or "")
        unless = OrderEvent.kind.not_in(sorted(content.unless_shared_kinds))
        rule = and_(rule, or_(unless, shared) if content.shared_as else unless)
    return rule


def visible_invoice(scope: Scope) -> ColumnElement[bool]:
    """Invoices the caller's role may read: all, its own supplier's, or none."""
    access = scope.content.invoices
    if access is InvoiceAccess.ALL:
        return true()
    if access is InvoiceAccess.OWN and scope.supplier_id is not None:
        return Invoice.supplier_id == scope.supplier_id
    return false()


async def events_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    # The orders' ids come from scoped reads; org and the content rule still apply.
    stmt = (
        select(*OrderEvent.__table__.columns)
        .where(OrderEvent.org == scope.org, OrderEvent.order_id.in_(order_ids))
        .where(visible_event(scope))
        .order_by(OrderEvent.order_id, OrderEvent.seq)
    )
    return _grouped(await session.execute(stmt), "order_id")


async def events_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, OrderEvent]:
    """Events by id, on orders in scope, withholding from a client what it never sees."""
    return await _by_ids(session, scope, OrderEvent, ids, visible_event(scope))


async def shipments_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    then = (Shipment.dispatched_at, Shipment.id)
    return await _children(session, scope, Shipment.order_id, order_ids, *then, plain=True)


async def shipment_lines_for(
    *, session: AsyncSession, scope: Scope, shipment_ids: Sequence[str]
) -> defaultdict[str, list[ShipmentLine]]:
    return await _children(
        session, scope, ShipmentLine.shipment_id, shipment_ids, ShipmentLine.line_no
    )


async def shipments_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Shipment]:
    return await _by_ids(session, scope, Shipment, ids)


async def receipts_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Receipt]]:
    then = (Receipt.received_at, Receipt.id)
    return await _children(session, scope, Receipt.order_id, order_ids, *then)


async def receipt_lines_for(
    *, session: AsyncSession, scope: Scope, receipt_ids: Sequence[str]
) -> defaultdict[str, list[ReceiptLine]]:
    return await _children(session, scope, ReceiptLine.receipt_id, receipt_ids, ReceiptLine.line_no)


async def invoices_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Invoice]]:
    then = (Invoice.submitted_at, Invoice.id)
    visible = [visible_invoice(scope)]
    return await _children(session, scope, Invoice.order_id, order_ids, *then, where=visible)


async def invoices_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Invoice]:
    """Invoices on orders in scope that the caller's role may read."""
    return await _by_ids(session, scope, Invoice, ids, visible_invoice(scope))


async def invoice_lines_for(
    *, session: AsyncSession, scope: Scope, invoice_ids: Sequence[str]
) -> defaultdict[str, list[InvoiceLine]]:
    stmt = on_orders_in_scope(
        scope,
        select(InvoiceLine).join(Invoice, Invoice.id == InvoiceLine.invoice_id),
        Invoice.order_id,
        InvoiceLine.invoice_id.in_(invoice_ids),
        visible_invoice(scope),
    )
    stmt = stmt.order_by(InvoiceLine.invoice_id, InvoiceLine.line_no)
    return _grouped(await session.scalars(stmt), "invoice_id")


async def revisions_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[OrderRevision]]:
    """Every revision of the terms, oldest first."""
    return await _children(session, scope, OrderRevision.order_id, order_ids, OrderRevision.number)


async def pending_proposals_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> dict[str, Proposal]:
    """The proposal waiting for the buyer's answer, per order (at most one each)."""
    pending = and_(Proposal.order_id.in_(order_ids), Proposal.status == ProposalStatus.PENDING)
    stmt = on_orders_in_scope(scope, select(Proposal), Proposal.order_id, pending)
    return {p.order_id: p for p in await session.scalars(stmt)}
