"""Mutation inputs. Every command on an existing order takes the same three fields
(``OrderCommandInput``): the order, an optional compare-and-set version and an
optional idempotency key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from db import models
from db.notes import NoteAudience

VISIBLE_TO = (
    "Who besides you may read this note: the SUPPLIER, the CLIENT, or both. "
    "Omitted or empty: yours alone."
)


@strawberry.input(description="A quantity of one order line.")
class LineQuantityInput:
    line_no: int
    quantity: int


@strawberry.input(description="New terms for an existing line: only what is given changes.")
class LineChangeInput:
    line_no: int
    quantity: int | None = None
    unit_price: Decimal | None = None


@strawberry.input
class InvoiceLineInput:
    line_no: int
    quantity: int
    unit_price: Decimal


@strawberry.input
class OrderCommandInput:
    """Not in the schema itself: the fields every order command's input starts with."""

    order_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None


# --- buyer ---


@strawberry.input
class CreatePartyInput:
    """Not in the schema itself: what adding a supplier or a client takes."""

    name: str
    contact_email: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class CreateSupplierInput(CreatePartyInput):
    pass


@strawberry.input
class CreateClientInput(CreatePartyInput):
    contact_email: str | None = strawberry.field(
        default=None, description="Who at the client hears of dispatches by e-mail."
    )


@strawberry.input
class OrderLineInput:
    part_number: str
    quantity: int
    unit_price: Decimal
    description: str | None = None


@strawberry.input
class IssueOrderInput:
    supplier_id: strawberry.ID
    need_by: date
    currency: str
    lines: list[OrderLineInput]
    client_id: strawberry.ID | None = None
    client_reference: str | None = None
    terms: str | None = None
    lead_time_days: int | None = None
    internal_note: str | None = None
    idempotency_key: str | None = None


@strawberry.input
class CancelOrderInput(OrderCommandInput):
    reason: str
    visible_to: list[NoteAudience] | None = strawberry.field(default=None, description=VISIBLE_TO)


@strawberry.input(description="Units of one line checked in: accepted, and rejected (sent back).")
class ReceiptLineInput:
    line_no: int
    quantity: int = strawberry.field(description="Accepted: counts as received.")
    rejected_quantity: int = strawberry.field(
        default=0, description="Rejected: not received, to be dispatched again."
    )
    reject_reason: str | None = strawberry.field(
        default=None, description="Required with a rejected quantity; the supplier reads it."
    )


@strawberry.input
class ReceiveDeliveryInput(OrderCommandInput):
    lines: list[ReceiptLineInput]
    note: str | None = None
    visible_to: list[NoteAudience] | None = strawberry.field(default=None, description=VISIBLE_TO)


@strawberry.input
class RespondToProposalInput(OrderCommandInput):
    accept: bool
    note: str | None = None
    visible_to: list[NoteAudience] | None = strawberry.field(default=None, description=VISIBLE_TO)


@strawberry.input
class AmendOrderInput(OrderCommandInput):
    reason: str
    need_by: date | None = None
    lines: list[LineChangeInput] | None = None
    add_lines: list[OrderLineInput] | None = None
    visible_to: list[NoteAudience] | None = strawberry.field(default=None, description=VISIBLE_TO)


@strawberry.input
class CloseOrderInput(OrderCommandInput):
    reason: str
    visible_to: list[NoteAudience] | None = strawberry.field(default=None, description=VISIBLE_TO)


@strawberry.input
class SetMatchingTolerancesInput:
    price_tolerance_percent: Decimal | None = None
    quantity_tolerance: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Accepted for uniformity; setting values is idempotent."
    )


@strawberry.input
class AlertThresholdsInput:
    acknowledge_within_hours: float | None = None
    start_production_within_hours: float | None = None
    deliver_within_hours: float | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="Accepted for uniformity; setting values is idempotent."
    )


# --- supplier ---


@strawberry.input
class AcknowledgeOrderInput(OrderCommandInput):
    promised_date: date
    note: str | None = None


@strawberry.input
class ProposeChangesInput(OrderCommandInput):
    note: str = strawberry.field(description="Why: the buyer reads it, the client never.")
    promised_date: date | None = strawberry.field(
        default=None, description="Required on an ISSUED order: the date you can promise."
    )
    lines: list[LineChangeInput] | None = None


@strawberry.input
class DeclineOrderInput(OrderCommandInput):
    reason: str


@strawberry.input
class OrderActionInput(OrderCommandInput):
    note: str | None = None


@strawberry.input
class UpdatePromisedDateInput(OrderCommandInput):
    promised_date: date
    reason: str


@strawberry.input
class AddMilestoneInput(OrderCommandInput):
    note: str


@strawberry.input
class DispatchOrderInput(OrderCommandInput):
    method: models.ShipmentMethod
    carrier: str | None = None
    tracking_reference: str | None = None
    tracking_url: str | None = None
    lines: list[LineQuantityInput] | None = strawberry.field(
        default=None, description="Lines and quantities shipped; omitted: all that remains."
    )


@strawberry.input
class SubmitInvoiceInput(OrderCommandInput):
    number: str
    lines: list[InvoiceLineInput]
