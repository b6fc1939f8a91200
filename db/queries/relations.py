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


async def _grouped(session: AsyncSession, stmt: Select[T], key: str) -> defaultdict[str, list[T]]:
    grouped: defaultdict[str, list[T]] = defaultdict(list)
    for row in await session.scalars(stmt):
        grouped[getattr(row, key)].append(row)
    return grouped


async def _grouped_rows(
    session: AsyncSession, stmt: Select[Any], key: str
) -> defaultdict[str, list[Row[Any]]]:
    """Plain rows (no ORM identity map or instance state), grouped by ``key``: for the
    read-only relations a page shows, where building mapped objects would dominate."""
    grouped: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    for row in await session.execute(stmt):
        grouped[getattr(row, key)].append(row)
    return grouped


async def lines_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    stmt = (
        select(*OrderLine.__table__.columns)
        .join(Order, Order.id == OrderLine.order_id)
        .where(order_scope(scope), OrderLine.order_id.in_(order_ids))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    )
    return await _grouped_rows(session, stmt, "order_id")


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
    return await _grouped_rows(session, stmt, "order_id")


async def events_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, OrderEvent]:
    """Events by id, on orders in scope, withholding from a client what it never sees."""
    stmt = (
        select(OrderEvent)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(order_scope(scope), OrderEvent.id.in_(list(set(ids))), visible_event(scope))
    )
    return {e.id: e for e in await session.scalars(stmt)}


async def shipments_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    stmt = (
        select(*Shipment.__table__.columns)
        .join(Order, Order.id == Shipment.order_id)
        .where(order_scope(scope), Shipment.order_id.in_(order_ids))
        .order_by(Shipment.order_id, Shipment.dispatched_at, Shipment.id)
    )
    return await _grouped_rows(session, stmt, "order_id")


async def shipment_lines_for(
    *, session: AsyncSession, scope: Scope, shipment_ids: Sequence[str]
) -> defaultdict[str, list[ShipmentLine]]:
    stmt = (
        select(ShipmentLine)
        .join(Order, Order.id == ShipmentLine.order_id)
        .where(order_scope(scope), ShipmentLine.shipment_id.in_(shipment_ids))
        .order_by(ShipmentLine.shipment_id, ShipmentLine.line_no)
    )
    return await _grouped(session, stmt, "shipment_id")


async def shipments_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Shipment]:
    stmt = (
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(order_scope(scope), Shipment.id.in_(list(set(ids))))
    )
    return {s.id: s for s in await session.scalars(stmt)}


async def receipts_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Receipt]]:
    stmt = (
        select(Receipt)
        .join(Order, Order.id == Receipt.order_id)
        .where(order_scope(scope), Receipt.order_id.in_(order_ids))
        .order_by(Receipt.order_id, Receipt.received_at, Receipt.id)
    )
    return await _grouped(session, stmt, "order_id")


async def receipt_lines_for(
    *, session: AsyncSession, scope: Scope, receipt_ids: Sequence[str]
) -> defaultdict[str, list[ReceiptLine]]:
    stmt = (
        select(ReceiptLine)
        .join(Order, Order.id == ReceiptLine.order_id)
        .where(order_scope(scope), ReceiptLine.receipt_id.in_(receipt_ids))
        .order_by(ReceiptLine.receipt_id, ReceiptLine.line_no)
    )
    return await _grouped(session, stmt, "receipt_id")


async def invoices_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Invoice]]:
    stmt = (
        select(Invoice)
        .join(Order, Order.id == Invoice.order_id)
        .where(order_scope(scope), Invoice.order_id.in_(order_ids), visible_invoice(scope))
        .order_by(Invoice.order_id, Invoice.submitted_at, Invoice.id)
    )
    return await _grouped(session, stmt, "order_id")


async def invoices_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Invoice]:
    """Invoices on orders in scope that the caller's role may read."""
    stmt = (
        select(Invoice)
        .join(Order, Order.id == Invoice.order_id)
        .where(order_scope(scope), Invoice.id.in_(list(set(ids))), visible_invoice(scope))
    )
    return {i.id: i for i in await session.scalars(stmt)}


async def invoice_lines_for(
    *, session: AsyncSession, scope: Scope, invoice_ids: Sequence[str]
) -> defaultdict[str, list[InvoiceLine]]:
    stmt = (
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Order, Order.id == Invoice.order_id)
        .where(order_scope(scope), InvoiceLine.invoice_id.in_(invoice_ids), visible_invoice(scope))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.line_no)
    )
    return await _grouped(session, stmt, "invoice_id")


async def revisions_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[OrderRevision]]:
    """Every revision of the terms, oldest first."""
    stmt = (
        select(OrderRevision)
        .join(Order, Order.id == OrderRevision.order_id)
        .where(order_scope(scope), OrderRevision.order_id.in_(order_ids))
        .order_by(OrderRevision.order_id, OrderRevision.number)
    )
    return await _grouped(session, stmt, "order_id")


async def pending_proposals_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> dict[str, Proposal]:
    """The proposal waiting for the buyer's answer, per order (at most one each)."""
    stmt = (
        select(Proposal)
        .join(Order, Order.id == Proposal.order_id)
        .where(
            order_scope(scope),
            Proposal.order_id.in_(order_ids),
            Proposal.status == ProposalStatus.PENDING,
        )
    )
    return {p.order_id: p for p in await session.scalars(stmt)}
