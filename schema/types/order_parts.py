"""What an order is made of and what happens to it: lines, the audit trail, shipments,
goods receipts and invoices (with the three-way match) — and the relations that load
them, declared next to the types that wrap their rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db import matching, models
from db.queries import relations as q
from permissions.fields import row_policy
from schema.context import Info
from schema.errors import PublicError
from schema.relations import relation, resolve
from schema.types.common import Node

if TYPE_CHECKING:
    from schema.types.order import Order


def _id(parent: Any) -> str:
    return str(parent.id)


@strawberry.type(description="One line of a purchase order.")
class OrderLine:
    line_no: int
    part_number: str
    description: str | None
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    dispatched_quantity: int
    received_quantity: int

    @classmethod
    def from_row(cls, row: Any) -> OrderLine:
        return cls(
            line_no=row.line_no,
            part_number=row.part_number,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            line_total=row.unit_price * row.quantity,
            dispatched_quantity=row.dispatched_quantity,
            received_quantity=row.received_quantity,
        )


ORDER_LINES = relation(
    "Order",
    "lines",
    fetch=lambda s, scope, keys: q.lines_for_orders(session=s, scope=scope, order_ids=keys),
    key=_id,
    wrap=OrderLine.from_row,
    many=True,
)


@strawberry.type(description="An entry in the order's append-only audit trail.")
class OrderEvent:
    id: strawberry.ID
    at: datetime
    stage: models.OrderStage
    kind: str
    actor_role: str
    actor_subject: str | None = strawberry.field(extensions=row_policy("OrderEvent.actorSubject"))
    note: str | None = strawberry.field(extensions=row_policy("OrderEvent.note"))
    promised_date: date | None
    internal: strawberry.Private[bool]
    order_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Any) -> OrderEvent:
        return cls(
            id=strawberry.ID(row.id),
            at=row.at,
            stage=row.stage,
            kind=row.kind,
            actor_role=row.actor_role,
            actor_subject=row.actor_subject,
            note=row.note,
            promised_date=row.promised_date,
            internal=row.internal,
            order_id=row.order_id,
        )

    @strawberry.field(description="The order this event belongs to, as the caller sees it.")
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("schema.types.order")]:
        found: Order | None = await resolve("OrderEvent", "order", self, info)
        if found is None:  # events are read through the caller's scope already
            raise PublicError("Order not found.")
        return found


ORDER_EVENTS = relation(
    "Order",
    "events",
    fetch=lambda s, scope, keys: q.events_for_orders(session=s, scope=scope, order_ids=keys),
    key=_id,
    wrap=OrderEvent.from_row,
    many=True,
)


@strawberry.type(description="Quantity of one order line in a shipment.")
class ShipmentLine:
    line_no: int
    quantity: int

    @classmethod
    def from_row(cls, row: Any) -> ShipmentLine:
        return cls(line_no=row.line_no, quantity=row.quantity)


@strawberry.type(description="Goods on their way: method, carrier and tracking.")
class Shipment(Node):
    method: models.ShipmentMethod
    carrier: str | None = strawberry.field(extensions=row_policy("Shipment.carrier"))
    tracking_reference: str | None = strawberry.field(
        extensions=row_policy("Shipment.trackingReference")
    )
    tracking_url: str | None = strawberry.field(extensions=row_policy("Shipment.trackingUrl"))
    dispatched_at: datetime
    status: models.ShipmentStatus = strawberry.field(
        description="Where the goods are, as last reported (own-driver runs too)."
    )
    estimated_arrival: date | None = strawberry.field(
        description="When this shipment is expected to arrive."
    )

    @classmethod
    def from_row(cls, row: Any) -> Shipment:
        return cls(
            id=strawberry.ID(row.id),
            method=row.method,
            carrier=row.carrier,
            tracking_reference=row.tracking_reference,
            tracking_url=row.tracking_url,
            dispatched_at=row.dispatched_at,
            status=row.status,
            estimated_arrival=row.estimated_arrival,
        )

    @strawberry.field(description="What this shipment carries, per order line.")
    async def lines(self, info: Info) -> list[ShipmentLine]:
        result: list[ShipmentLine] = await resolve("Shipment", "lines", self, info)
        return result


ORDER_SHIPMENTS = relation(
    "Order",
    "shipments",
    fetch=lambda s, scope, keys: q.shipments_for_orders(session=s, scope=scope, order_ids=keys),
    key=_id,
    wrap=Shipment.from_row,
    many=True,
)
relation(
    "Node",
    "Shipment",
    fetch=lambda s, scope, keys: q.shipments_by_ids(session=s, scope=scope, ids=keys),
    key=str,
    wrap=Shipment.from_row,
    many=False,
)
relation(
    "Shipment",
    "lines",
    fetch=lambda s, scope, keys: q.shipment_lines_for(session=s, scope=scope, shipment_ids=keys),
    key=_id,
    wrap=ShipmentLine.from_row,
    many=True,
)


@strawberry.type(description="Quantity of one order line checked in by the buyer.")
class ReceiptLine:
    line_no: int
    quantity: int

    @classmethod
    def from_row(cls, row: Any) -> ReceiptLine:
        return cls(line_no=row.line_no, quantity=row.quantity)


@strawberry.type(description="A goods receipt: the buyer checking a delivery in.")
class Receipt:
    id: strawberry.ID
    received_at: datetime
    note: str | None

    @classmethod
    def from_row(cls, row: Any) -> Receipt:
        return cls(id=strawberry.ID(row.id), received_at=row.received_at, note=row.note)

    @strawberry.field
    async def lines(self, info: Info) -> list[ReceiptLine]:
        result: list[ReceiptLine] = await resolve("Receipt", "lines", self, info)
        return result


relation(
    "Order",
    "receipts",
    fetch=lambda s, scope, keys: q.receipts_for_orders(session=s, scope=scope, order_ids=keys),
    key=_id,
    wrap=Receipt.from_row,
    many=True,
)
relation(
    "Receipt",
    "lines",
    fetch=lambda s, scope, keys: q.receipt_lines_for(session=s, scope=scope, receipt_ids=keys),
    key=_id,
    wrap=ReceiptLine.from_row,
    many=True,
)


@strawberry.type(description="One invoiced line: quantity and unit price.")
class InvoiceLine:
    line_no: int
    quantity: int
    unit_price: Decimal

    @classmethod
    def from_row(cls, row: Any) -> InvoiceLine:
        return cls(line_no=row.line_no, quantity=row.quantity, unit_price=row.unit_price)


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
        matching.InvoicedLine(line_no=r.line_no, quantity=r.quantity, unit_price=r.unit_price)
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
        ln.line_no: matching.OrderedLine(
            line_no=ln.line_no,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            dispatched=ln.dispatched_quantity,
            received=ln.received_quantity,
        )
        for ln in lines
    }
    return matching.match(ordered, invoiced, tolerance)


@strawberry.type(description="A supplier's invoice against an order.")
class Invoice:
    id: strawberry.ID
    number: str
    submitted_at: datetime
    total: Decimal
    order_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            submitted_at=row.submitted_at,
            total=row.total,
            order_id=row.order_id,
        )

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        result: list[InvoiceLine] = await resolve("Invoice", "lines", self, info)
        return result

    @strawberry.field(description="Three-way match of everything invoiced up to this invoice.")
    async def match(self, info: Info) -> matching.MatchStatus:
        result = await match_of(info, self.order_id, str(self.id))
        return result.status if result else matching.MatchStatus.AWAITING_RECEIPT

    @strawberry.field(description="Human-readable reasons the match is not MATCHED.")
    async def discrepancies(self, info: Info) -> list[str]:
        result = await match_of(info, self.order_id, str(self.id))
        return result.discrepancies if result else []


ORDER_INVOICES = relation(
    "Order",
    "invoices",
    fetch=lambda s, scope, keys: q.invoices_for_orders(session=s, scope=scope, order_ids=keys),
    key=_id,
    wrap=Invoice.from_row,
    many=True,
)
INVOICE_LINES = relation(
    "Invoice",
    "lines",
    fetch=lambda s, scope, keys: q.invoice_lines_for(session=s, scope=scope, invoice_ids=keys),
    key=_id,
    wrap=InvoiceLine.from_row,
    many=True,
)
relation(
    "Mutation",
    "submitInvoice",
    fetch=lambda s, scope, keys: q.invoices_by_ids(session=s, scope=scope, ids=keys),
    key=str,
    wrap=Invoice.from_row,
    many=False,
)
