"""The purchase order: its own fields, outlook and alerts computed from them, and its
relations (declared with the types they return, resolved through the registry)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db import alerts as alert_rules
from db import matching, models, tracking
from schema.context import Info
from schema.loaders import fetch_orders
from schema.relations import by_id, owner, related, resolve
from schema.types.alerts import Alert
from schema.types.common import FromRow, Node, copy_fields
from schema.types.order_parts import EVENTS_PAGE, OrderEvent, OrderLine, Shipment, events_page
from schema.types.paperwork import Invoice, Receipt, match_of
from schema.types.revisions import Proposal, Revision

if TYPE_CHECKING:
    from schema.types.parties import Client, Supplier
    from schema.types.tracking import TrackingLink


@strawberry.type(description="A purchase order and its journey from PO to doorstep.")
class Order(Node, FromRow):
    number: str
    stage: models.OrderStage
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
    revision: int = strawberry.field(
        description="The terms' revision: 1 as issued, one more per amendment or accepted proposal."
    )
    awaiting: models.Awaiting = strawberry.field(
        description="Whose move it is: the supplier's acknowledgement of the current "
        "revision, the buyer's answer to a proposal, or nothing."
    )
    supplier_id: strawberry.Private[str]
    client_id: strawberry.Private[str | None]
    first_promised_date: strawberry.Private[date | None]
    promise_changed_at: strawberry.Private[datetime | None]
    # Relations the page loaded up front (``schema.prefetch``), by field name; the
    # schema answers from here before calling a resolver (``schema.fast.serve_prefetched``).
    prefetched: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)

    def facts(self) -> alert_rules.OrderFacts:
        return copy_fields(
            alert_rules.OrderFacts, self, id=str(self.id), stage=models.OrderStage(self.stage)
        )

    @strawberry.field(description="ON_TRACK, AT_RISK, LATE or DELIVERED.")
    async def outlook(self, info: Info) -> alert_rules.Outlook:
        thresholds = await info.context.loaders.org_thresholds()
        return alert_rules.outlook_for(self.facts(), thresholds, info.context.now)

    @strawberry.field(description="Open alerts on this order.")
    async def alerts(self, info: Info) -> list[Alert]:
        thresholds = await info.context.loaders.org_thresholds()
        found = alert_rules.alerts_for(self.facts(), thresholds, info.context.now)
        return [Alert.of(a) for a in found]

    supplier = related(
        "Order", "supplier", Annotated["Supplier", strawberry.lazy("schema.types.parties")] | None
    )
    client = related(
        "Order", "client", Annotated["Client", strawberry.lazy("schema.types.parties")] | None
    )
    lines = related("Order", "lines", list[OrderLine])

    @strawberry.field(
        description=(
            "The audit trail, oldest first: at most first events (default 20, at most "
            "100) after the event after. For more, ask again with after = the last id."
        )
    )
    async def events(
        self, info: Info, first: int | None = EVENTS_PAGE, after: strawberry.ID | None = None
    ) -> list[OrderEvent]:
        found: list[OrderEvent] = await resolve("Order", "events", self, info)
        return events_page(found, first, after)

    shipments = related("Order", "shipments", list[Shipment])
    receipts = related("Order", "receipts", list[Receipt])
    invoices = related("Order", "invoices", list[Invoice])
    revisions = related(
        "Order",
        "revisions",
        list[Revision],
        description="Every revision of the terms, oldest (as issued) first.",
    )
    pending_proposal = related(
        "Order",
        "pendingProposal",
        Proposal | None,
        description="The supplier's proposal waiting for the buyer's answer.",
    )

    @strawberry.field(
        description=(
            "When the goods should arrive: the latest estimate of a shipment on its way, "
            "and the promised date while something is unshipped or without an estimate. "
            "Null once delivered or closed."
        )
    )
    async def estimated_delivery(self, info: Info) -> date | None:
        shipments: list[Shipment] = await resolve("Order", "shipments", self, info)
        lines: list[OrderLine] = await resolve("Order", "lines", self, info)
        return tracking.estimated_delivery(
            stage=models.OrderStage(self.stage),
            promised_date=self.promised_date,
            shipments=[(models.ShipmentStatus(s.status), s.estimated_arrival) for s in shipments],
            all_dispatched=all(ln.dispatched_quantity >= ln.quantity for ln in lines),
        )

    tracking_links = related(
        "Order",
        "trackingLinks",
        list[Annotated["TrackingLink", strawberry.lazy("schema.types.tracking")]],
        description="Links that show this order to its client, newest first.",
    )

    @strawberry.field(description="Three-way match over all invoices; null before the first.")
    async def match(self, info: Info) -> matching.MatchStatus | None:
        result = await match_of(info, str(self.id), None)
        return result.status if result else None


owner("OrderEvent", "order", fetch_orders, column="order_id", wrap=Order.from_row)
owner("Alert", "order", fetch_orders, column="order_id", wrap=Order.from_row)
by_id("Node", "Order", fetch_orders, Order.from_row)
