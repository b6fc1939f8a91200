"""Strawberry types. Plain fields are copied from rows (the fast, synchronous path);
relations go through the request's DataLoaders. No role checks here: HIDE is the
per-role schema, NULL is ``row_policy`` (both from ``permissions.policy``).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Row

from db import alerts as alert_rules
from db import matching, models
from db.queries import OrderSort as DbOrderSort
from permissions.fields import row_policy
from schema.context import Info
from schema.errors import PublicError

if TYPE_CHECKING:
    from schema.alerts import Alert
    from schema.connections import OrderConnection

OrderStage = strawberry.enum(
    models.OrderStage, name="OrderStage", description="Where a purchase order is in its lifecycle."
)
ShipmentMethod = strawberry.enum(models.ShipmentMethod, name="ShipmentMethod")
Outlook = strawberry.enum(
    alert_rules.Outlook,
    name="Outlook",
    description="Delivery outlook derived from dates and stage only.",
)
OrderSort = strawberry.enum(DbOrderSort, name="OrderSort")


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Page metadata for cursor pagination.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="Who the token says the caller is.")
class Viewer:
    role: str
    org: str
    subject: str
    client_id: strawberry.ID | None
    supplier_id: strawberry.ID | None


@strawberry.type(description="A company that makes parts for the buyer.")
class Supplier(Node):
    name: str
    contact_email: str | None

    @classmethod
    def from_row(cls, row: models.Supplier) -> Supplier:
        return cls(id=strawberry.ID(row.id), name=row.name, contact_email=row.contact_email)

    @strawberry.field(description="Performance over orders issued in the last windowDays.")
    async def scorecard(self, info: Info, window_days: int = 90) -> SupplierScorecard:
        if not 1 <= window_days <= 3660:
            raise PublicError("windowDays must be between 1 and 3660.")
        card = await info.context.loaders.scorecards.load((str(self.id), window_days))
        return SupplierScorecard(
            window_days=window_days,
            orders=card.orders,
            median_hours_to_acknowledge=card.median_hours_to_acknowledge,
            on_time_dispatch_rate=card.on_time_dispatch_rate,
            promise_slips=card.promise_slips,
        )

    @strawberry.field(description="This supplier's orders, newest first.")
    async def orders(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Annotated[OrderConnection, strawberry.lazy("schema.connections")]:
        from schema.connections import party_order_connection

        return await party_order_connection(
            info, column="supplier_id", party_id=str(self.id), first=first, after=after
        )


@strawberry.type(description="How a supplier has kept its promises over a window.")
class SupplierScorecard:
    window_days: int
    orders: int
    median_hours_to_acknowledge: float | None
    on_time_dispatch_rate: float | None = strawberry.field(
        description="Share (0-1) of dispatched orders that left by their promised date."
    )
    promise_slips: int


@strawberry.type(description="The buyer's own customer, who watches delivery progress.")
class Client(Node):
    name: str

    @classmethod
    def from_row(cls, row: models.Client) -> Client:
        return cls(id=strawberry.ID(row.id), name=row.name)

    @strawberry.field(description="This client's orders, newest first.")
    async def orders(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Annotated[OrderConnection, strawberry.lazy("schema.connections")]:
        from schema.connections import party_order_connection

        return await party_order_connection(
            info, column="client_id", party_id=str(self.id), first=first, after=after
        )


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
    def from_row(cls, row: models.OrderLine | Row[Any]) -> OrderLine:
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


@strawberry.type(description="An entry in the order's append-only audit trail.")
class OrderEvent:
    at: datetime
    stage: OrderStage  # type: ignore[valid-type]
    kind: str
    actor_role: str
    actor_subject: str | None = strawberry.field(extensions=row_policy("OrderEvent.actorSubject"))
    note: str | None = strawberry.field(extensions=row_policy("OrderEvent.note"))
    promised_date: date | None
    internal: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: models.OrderEvent | Row[Any]) -> OrderEvent:
        return cls(
            at=row.at,
            stage=row.stage,
            kind=row.kind,
            actor_role=row.actor_role,
            actor_subject=row.actor_subject,
            note=row.note,
            promised_date=row.promised_date,
            internal=row.internal,
        )


@strawberry.type(description="Quantity of one order line in a shipment.")
class ShipmentLine:
    line_no: int
    quantity: int


@strawberry.type(description="Goods on their way: method, carrier and tracking.")
class Shipment(Node):
    method: ShipmentMethod  # type: ignore[valid-type]
    carrier: str | None = strawberry.field(extensions=row_policy("Shipment.carrier"))
    tracking_reference: str | None = strawberry.field(
        extensions=row_policy("Shipment.trackingReference")
    )
    tracking_url: str | None = strawberry.field(extensions=row_policy("Shipment.trackingUrl"))
    dispatched_at: datetime

    @classmethod
    def from_row(cls, row: models.Shipment | Row[Any]) -> Shipment:
        return cls(
            id=strawberry.ID(row.id),
            method=row.method,
            carrier=row.carrier,
            tracking_reference=row.tracking_reference,
            tracking_url=row.tracking_url,
            dispatched_at=row.dispatched_at,
        )

    @strawberry.field(description="What this shipment carries, per order line.")
    async def lines(self, info: Info) -> list[ShipmentLine]:
        rows = await info.context.loaders.shipment_lines.load(str(self.id))
        return [ShipmentLine(line_no=r.line_no, quantity=r.quantity) for r in rows]


@strawberry.type(description="Quantity of one order line checked in by the buyer.")
class ReceiptLine:
    line_no: int
    quantity: int


@strawberry.type(description="A goods receipt: the buyer checking a delivery in.")
class Receipt:
    id: strawberry.ID
    received_at: datetime
    note: str | None

    @strawberry.field
    async def lines(self, info: Info) -> list[ReceiptLine]:
        rows = await info.context.loaders.receipt_lines.load(str(self.id))
        return [ReceiptLine(line_no=r.line_no, quantity=r.quantity) for r in rows]


@strawberry.type(description="One invoiced line: quantity and unit price.")
class InvoiceLine:
    line_no: int
    quantity: int
    unit_price: Decimal


MatchStatus = strawberry.enum(matching.MatchStatus, name="MatchStatus")


async def _match(info: Info, order_id: str, upto: str | None) -> matching.MatchResult | None:
    """Match the order's invoices (all, or those up to and including ``upto``)."""
    loaders = info.context.loaders
    invoices = await loaders.invoices_by_order.load(order_id)
    if upto is not None:
        # Everything submitted up to this invoice's time; invoices submitted in the same
        # instant count together, so the answer never depends on their random ids.
        this = next((i for i in invoices if i.id == upto), None)
        invoices = [i for i in invoices if this and i.submitted_at <= this.submitted_at]
    if not invoices:
        return None
    lines = await loaders.lines_by_order.load(order_id)
    invoiced = [
        matching.InvoicedLine(line_no=r.line_no, quantity=r.quantity, unit_price=r.unit_price)
        for rows in await loaders.invoice_lines.load_many([i.id for i in invoices])
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
        rows = await info.context.loaders.invoice_lines.load(str(self.id))
        return [
            InvoiceLine(line_no=r.line_no, quantity=r.quantity, unit_price=r.unit_price)
            for r in rows
        ]

    @strawberry.field(description="Three-way match of everything invoiced up to this invoice.")
    async def match(self, info: Info) -> MatchStatus:  # type: ignore[valid-type]
        result = await _match(info, self.order_id, str(self.id))
        return result.status if result else matching.MatchStatus.AWAITING_RECEIPT

    @strawberry.field(description="Human-readable reasons the match is not MATCHED.")
    async def discrepancies(self, info: Info) -> list[str]:
        result = await _match(info, self.order_id, str(self.id))
        return result.discrepancies if result else []


@strawberry.type(description="A purchase order and its journey from PO to doorstep.")
class Order(Node):
    number: str
    stage: OrderStage  # type: ignore[valid-type]
    client_reference: str | None
    currency: str
    total: Decimal
    terms: str | None
    lead_time_days: int | None
    need_by: date
    promised_date: date | None
    issued_at: datetime
    acknowledged_at: datetime | None
    production_started_at: datetime | None
    dispatched_at: datetime | None
    delivered_at: datetime | None
    stage_entered_at: datetime
    internal_note: str | None
    version: int
    supplier_id: strawberry.Private[str]
    client_id: strawberry.Private[str | None]
    first_promised_date: strawberry.Private[date | None]
    promise_changed_at: strawberry.Private[datetime | None]
    # Relations the page loaded up front (``schema.prefetch``), by field name; the
    # schema answers from here before calling a resolver (``schema.fast.serve_prefetched``).
    prefetched: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            stage=row.stage,
            client_reference=row.client_reference,
            currency=row.currency,
            total=row.total,
            terms=row.terms,
            lead_time_days=row.lead_time_days,
            need_by=row.need_by,
            promised_date=row.promised_date,
            issued_at=row.issued_at,
            acknowledged_at=row.acknowledged_at,
            production_started_at=row.production_started_at,
            dispatched_at=row.dispatched_at,
            delivered_at=row.delivered_at,
            stage_entered_at=row.stage_entered_at,
            internal_note=row.internal_note,
            version=row.version,
            supplier_id=row.supplier_id,
            client_id=row.client_id,
            first_promised_date=row.first_promised_date,
            promise_changed_at=row.promise_changed_at,
        )

    def facts(self) -> alert_rules.OrderFacts:
        return alert_rules.OrderFacts(
            id=str(self.id),
            number=self.number,
            stage=models.OrderStage(self.stage),
            stage_entered_at=self.stage_entered_at,
            need_by=self.need_by,
            promised_date=self.promised_date,
            first_promised_date=self.first_promised_date,
            promise_changed_at=self.promise_changed_at,
        )

    @strawberry.field(description="ON_TRACK, AT_RISK, LATE or DELIVERED.")
    async def outlook(self, info: Info) -> Outlook:  # type: ignore[valid-type]
        from schema.alerts import thresholds

        return alert_rules.outlook_for(self.facts(), await thresholds(info), info.context.now)

    @strawberry.field(description="Open alerts on this order.")
    async def alerts(self, info: Info) -> list[Annotated[Alert, strawberry.lazy("schema.alerts")]]:
        from schema.alerts import Alert, thresholds

        found = alert_rules.alerts_for(self.facts(), await thresholds(info), info.context.now)
        return [Alert.of(a) for a in found]

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier | None:
        row = await info.context.loaders.supplier_by_id.load(self.supplier_id)
        return Supplier.from_row(row) if row is not None else None

    @strawberry.field
    async def client(self, info: Info) -> Client | None:
        if self.client_id is None:
            return None
        row = await info.context.loaders.client_by_id.load(self.client_id)
        return Client.from_row(row) if row is not None else None

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.lines_by_order.load(str(self.id))
        return [OrderLine.from_row(r) for r in rows]

    @strawberry.field(description="The audit trail, oldest first.")
    async def events(self, info: Info) -> list[OrderEvent]:
        rows = await info.context.loaders.events_by_order.load(str(self.id))
        return [OrderEvent.from_row(r) for r in rows]

    @strawberry.field
    async def shipments(self, info: Info) -> list[Shipment]:
        rows = await info.context.loaders.shipments_by_order.load(str(self.id))
        return [Shipment.from_row(r) for r in rows]

    @strawberry.field
    async def receipts(self, info: Info) -> list[Receipt]:
        rows = await info.context.loaders.receipts_by_order.load(str(self.id))
        return [
            Receipt(id=strawberry.ID(r.id), received_at=r.received_at, note=r.note) for r in rows
        ]

    @strawberry.field
    async def invoices(self, info: Info) -> list[Invoice]:
        rows = await info.context.loaders.invoices_by_order.load(str(self.id))
        return [Invoice.from_row(r) for r in rows]

    @strawberry.field(description="Three-way match over all invoices; null before the first.")
    async def match(self, info: Info) -> MatchStatus | None:  # type: ignore[valid-type]
        result = await _match(info, str(self.id), None)
        return result.status if result else None


def node_from_row(row: Any) -> Node | None:
    """Wrap a loaded row in its GraphQL type."""
    wrappers: dict[type, Any] = {
        models.Order: Order.from_row,
        models.Supplier: Supplier.from_row,
        models.Client: Client.from_row,
        models.Shipment: Shipment.from_row,
    }
    wrap = wrappers.get(type(row))
    return wrap(row) if wrap is not None else None
