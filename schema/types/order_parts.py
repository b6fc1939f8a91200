"""What an order is made of and what happens to it: lines, the audit trail and
shipments — and the relations that load them, declared next to the types that wrap
their rows. Receipts and invoices are in ``schema.types.paperwork``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db import models
from db.notes import NoteAudience
from db.queries import relations as q
from permissions.fields import row_policy
from schema.context import Info
from schema.errors import PublicError
from schema.pagination import page_size
from schema.relations import batched, by_id, children, related, resolve
from schema.types.common import FromRow, Node, copy_fields

if TYPE_CHECKING:
    from schema.types.order import Order


@strawberry.type(description="One line of a purchase order.")
class OrderLine:
    line_no: int
    part_number: str
    description: str | None
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    dispatched_quantity: int = strawberry.field(
        description="On its way or received: rejected units go back to be dispatched again."
    )
    received_quantity: int = strawberry.field(description="Accepted at receipt.")
    rejected_quantity: int = strawberry.field(description="Rejected at receipt, to be re-sent.")
    cancelled_quantity: int = strawberry.field(
        description="What a short-close left outstanding: it will not come."
    )

    @classmethod
    def from_row(cls, row: Any) -> OrderLine:
        return copy_fields(cls, row, line_total=row.unit_price * row.quantity)


ORDER_LINES = children(
    "Order", "lines", q.lines_for_orders, keyword="order_ids", wrap=OrderLine.from_row
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
    visible_to: list[NoteAudience] = strawberry.field(
        description="Who besides the buyer the buyer shared the note with; none: its own."
    )
    order_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Any) -> OrderEvent:
        return copy_fields(cls, row, visible_to=sorted(row.note_audience))

    @strawberry.field(description="The order this event belongs to, as the caller sees it.")
    async def order(self, info: Info) -> Annotated[Order, strawberry.lazy("schema.types.order")]:
        found: Order | None = await resolve("OrderEvent", "order", self, info)
        if found is None:  # events are read through the caller's scope already
            raise PublicError("Order not found.")
        return found


EVENTS_PAGE = 20


def events_page(found: list[OrderEvent], first: int | None, after: str | None) -> list[OrderEvent]:
    """At most ``first`` of an order's events (oldest first) after the event ``after``.

    The trail is a list, as the contract has it, but a bounded one: the default page
    holds a whole ordinary lifecycle, and the query cost counts ``first`` like any page.
    """
    size = page_size(first, default=EVENTS_PAGE)
    if after is not None:
        index = next((i for i, e in enumerate(found) if e.id == after), None)
        if index is None:  # absent, hidden or on another order: one answer
            raise PublicError("after is not an event of this order you can see.")
        found = found[index + 1 :]
    return found[:size]


ORDER_EVENTS = children(
    "Order", "events", q.events_for_orders, keyword="order_ids", wrap=OrderEvent.from_row
)


@strawberry.type(description="Quantity of one order line in a shipment.")
class ShipmentLine(FromRow):
    line_no: int
    quantity: int


@strawberry.type(description="Goods on their way: method, carrier and tracking.")
class Shipment(Node, FromRow):
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

    lines = related(
        "Shipment",
        "lines",
        list[ShipmentLine],
        description="What this shipment carries, per order line.",
    )


ORDER_SHIPMENTS = children(
    "Order", "shipments", q.shipments_for_orders, keyword="order_ids", wrap=Shipment.from_row
)
by_id("Node", "Shipment", batched(q.shipments_by_ids, "ids"), Shipment.from_row)
children(
    "Shipment", "lines", q.shipment_lines_for, keyword="shipment_ids", wrap=ShipmentLine.from_row
)
