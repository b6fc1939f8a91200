"""The paperwork of an order: goods receipts (the buyer checking deliveries in) and the
supplier's invoices with their three-way match — and the relations that load them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from db import matching, models
from db.notes import NoteAudience
from db.queries import relations as q
from permissions.fields import row_policy
from schema.context import Info
from schema.relations import batched, by_id, children, related
from schema.types.common import FromRow, copy_fields
from schema.types.order_parts import ORDER_LINES


@strawberry.type(description="One order line checked in by the buyer: accepted and rejected.")
class ReceiptLine(FromRow):
    line_no: int
    quantity: int = strawberry.field(description="Accepted.")
    rejected_quantity: int
    reject_reason: str | None


@strawberry.type(description="A goods receipt: the buyer checking a delivery in.")
class Receipt:
    id: strawberry.ID
    received_at: datetime
    note: str | None = strawberry.field(extensions=row_policy("Receipt.note"))
    visible_to: list[NoteAudience] = strawberry.field(
        description="Who besides the buyer the buyer shared the note with; none: its own."
    )

    @classmethod
    def from_row(cls, row: Any) -> Receipt:
        return copy_fields(cls, row, visible_to=sorted(row.note_audience))

    lines = related("Receipt", "lines", list[ReceiptLine])


children("Order", "receipts", q.receipts_for_orders, keyword="order_ids", wrap=Receipt.from_row)
children("Receipt", "lines", q.receipt_lines_for, keyword="receipt_ids", wrap=ReceiptLine.from_row)


@strawberry.type(description="One invoiced line: quantity and unit price.")
class InvoiceLine(FromRow):
    line_no: int
    quantity: int
    unit_price: Decimal


async def match_of(info: Info, order_id: str, upto: str | None) -> matching.MatchResult | None:
    """Match the order's invoices (all, or those up to and including ``upto``)."""
    loaders = info.context.loaders
    invoices: list[models.Invoice] = await loaders.of(ORDER_INVOICES).load(order_id)
    if upto is not None:
        # Everything submitted up to this invoice's time; invoices submitted in the same
        # instant count together, so the answer never depends on their random ids.
        this = next((i for i in invoices if i.id == upto), None)
        invoices = [i for i in invoices if this and i.submitted_at <= this.submitted_at]
    if not invoices:
        return None
    lines = await loaders.of(ORDER_LINES).load(order_id)
    invoiced = [
        copy_fields(matching.InvoicedLine, r)
        for rows in await loaders.of(INVOICE_LINES).load_many([i.id for i in invoices])
        for r in rows
    ]
    settings = await loaders.thresholds.load(invoices[0].org)
    tolerance = (
        matching.Tolerance(settings.price_tolerance_percent, settings.quantity_tolerance)
        if settings is not None
        else matching.Tolerance()
    )
    ordered = {
        ln.line_no: copy_fields(
            matching.OrderedLine,
            ln,
            dispatched=ln.dispatched_quantity,
            received=ln.received_quantity,
            cancelled=ln.cancelled_quantity,
        )
        for ln in lines
    }
    return matching.match(ordered, invoiced, tolerance)


@strawberry.type(description="A supplier's invoice against an order.")
class Invoice(FromRow):
    id: strawberry.ID
    number: str
    submitted_at: datetime
    total: Decimal
    order_id: strawberry.Private[str]

    lines = related("Invoice", "lines", list[InvoiceLine])

    @strawberry.field(description="Three-way match of everything invoiced up to this invoice.")
    async def match(self, info: Info) -> matching.MatchStatus:
        result = await match_of(info, self.order_id, str(self.id))
        return result.status if result else matching.MatchStatus.AWAITING_RECEIPT

    @strawberry.field(description="Human-readable reasons the match is not MATCHED.")
    async def discrepancies(self, info: Info) -> list[str]:
        result = await match_of(info, self.order_id, str(self.id))
        return result.discrepancies if result else []


ORDER_INVOICES = children(
    "Order", "invoices", q.invoices_for_orders, keyword="order_ids", wrap=Invoice.from_row
)
INVOICE_LINES = children(
    "Invoice", "lines", q.invoice_lines_for, keyword="invoice_ids", wrap=InvoiceLine.from_row
)
by_id("Mutation", "submitInvoice", batched(q.invoices_by_ids, "ids"), Invoice.from_row)
