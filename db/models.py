"""The domain's tables. Every row carries its ``org``; nothing crosses organisations.

There are no ORM relationships: every read is an explicit, scoped and batched query
(``db.queries``), so no attribute access can issue hidden I/O.

Long because every table is here, in one place: the schema reads as a whole next to
its migrations, which are compared against it (tests/db/test_migrations.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from db.base import Base
from db.notes import Audience, AudienceColumn

ID = String(24)
ORG = String(64)

# What many tables declare alike (datetime, Decimal, int, date, float and bool columns
# take their types from ``Base.type_annotation_map``).
Org = Annotated[str, mapped_column(ORG)]
OrderRef = Annotated[str, mapped_column(ForeignKey("orders.id"))]


class OrderStage(enum.StrEnum):
    ISSUED = "ISSUED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    IN_PRODUCTION = "IN_PRODUCTION"
    DISPATCHED = "DISPATCHED"
    DELIVERED = "DELIVERED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"  # short-closed: what was received stays, the rest will not come


class Awaiting(enum.StrEnum):
    """Whose move it is on an order, besides its stage (``db.lifecycle`` reads both)."""

    NOTHING = "NOTHING"
    # The supplier has yet to acknowledge the current revision: every ISSUED order, and
    # an acknowledged one the buyer amended.
    ACKNOWLEDGEMENT = "ACKNOWLEDGEMENT"
    # The supplier proposed changes; the buyer answers.
    ANSWER = "ANSWER"


class RevisionField(enum.StrEnum):
    """A term a revision changed."""

    NEED_BY = "NEED_BY"
    PROMISED_DATE = "PROMISED_DATE"
    LINE_ADDED = "LINE_ADDED"
    QUANTITY = "QUANTITY"
    UNIT_PRICE = "UNIT_PRICE"


class ProposalStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    LAPSED = "LAPSED"  # the order ended (cancelled, closed, delivered, declined) unanswered


class ShipmentMethod(enum.StrEnum):
    OWN_DRIVER = "OWN_DRIVER"
    COURIER = "COURIER"
    FREIGHT = "FREIGHT"


class ShipmentStatus(enum.StrEnum):
    DISPATCHED = "DISPATCHED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR + CHECK on both databases: no PostgreSQL ENUM type to migrate.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20)


# Columns several tables share come first in each, in their old places (``sort_order``:
# the table's own columns, at 0, follow), so the tables are unchanged.
FIRST = -2
NEXT = -1


class _OrgRow:
    """A row with its own id, in one org."""

    id: Mapped[str] = mapped_column(ID, primary_key=True, sort_order=FIRST)
    org: Mapped[Org] = mapped_column(sort_order=FIRST)


class _OnOrder(_OrgRow):
    """A row that belongs to one order (an event, a shipment, an invoice, ...)."""

    order_id: Mapped[OrderRef] = mapped_column(sort_order=NEXT)


class _Party(_OrgRow):
    """A supplier or a client: named, listed by name."""

    name: Mapped[str] = mapped_column(String(200), sort_order=NEXT)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (Index(f"ix_{cls.__tablename__}_org_name", "org", "name", "id"),)  # type: ignore[attr-defined]


class _LineOf:
    """How many of one order line a shipment or receipt carries (after its parent's
    key, which each table declares ``FIRST``)."""

    line_no: Mapped[int] = mapped_column(primary_key=True, sort_order=NEXT)
    order_id: Mapped[str] = mapped_column(ID, sort_order=NEXT)
    org: Mapped[Org] = mapped_column(sort_order=NEXT)
    quantity: Mapped[int] = mapped_column(sort_order=NEXT)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[ForeignKeyConstraint]:
        return (
            ForeignKeyConstraint(
                ["order_id", "line_no"], ["order_lines.order_id", "order_lines.line_no"]
            ),
        )


class Supplier(_Party, Base):
    __tablename__ = "suppliers"

    contact_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]


class Client(_Party, Base):
    __tablename__ = "clients"

    created_at: Mapped[datetime]
    # Who at the client hears of dispatches by e-mail (issue 12); none: no e-mail.
    contact_email: Mapped[str | None] = mapped_column(String(320))


class Order(_OrgRow, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("org", "number"),
        # Keyset pagination: (org[, party], sort key, id) for every sort the API offers.
        Index("ix_orders_org_issued", "org", "issued_at", "id"),
        Index("ix_orders_org_supplier_issued", "org", "supplier_id", "issued_at", "id"),
        Index("ix_orders_org_client_issued", "org", "client_id", "issued_at", "id"),
        Index("ix_orders_org_need_by", "org", "need_by", "id"),
        Index("ix_orders_org_stage_entered", "org", "stage", "stage_entered_at", "id"),
        Index("ix_orders_org_total", "org", "total", "id"),
        # Alerts: overstays by (stage, entered), promises by date, per supplier too.
        Index("ix_orders_org_supplier_stage", "org", "supplier_id", "stage", "stage_entered_at"),
        Index("ix_orders_org_stage_promised", "org", "stage", "promised_date"),
        # The alert scheduler's scan across orgs.
        Index("ix_orders_stage_entered", "stage", "stage_entered_at"),
        Index("ix_orders_stage_promised", "stage", "promised_date"),
    )

    number: Mapped[str] = mapped_column(String(64))
    stage: Mapped[OrderStage] = mapped_column(_enum(OrderStage, "order_stage"))
    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"))
    client_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id"))
    client_reference: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    terms: Mapped[str | None] = mapped_column(Text)
    lead_time_days: Mapped[int | None]
    need_by: Mapped[date]
    promised_date: Mapped[date | None]
    first_promised_date: Mapped[date | None]
    promise_slips: Mapped[int] = mapped_column(default=0)
    promise_changed_at: Mapped[datetime | None]
    issued_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    production_started_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    stage_entered_at: Mapped[datetime]
    internal_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    # The terms' revision: 1 as issued, one more per amendment or accepted proposal.
    revision: Mapped[int] = mapped_column(default=1)
    awaiting: Mapped[Awaiting] = mapped_column(
        _enum(Awaiting, "order_awaiting"), default=Awaiting.ACKNOWLEDGEMENT
    )

    # Compare-and-set on every UPDATE; commands set the new version explicitly.
    __mapper_args__ = {  # noqa: RUF012  (SQLAlchemy reads it once, at mapping)
        "version_id_col": version,
        "version_id_generator": False,
    }


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[OrderRef] = mapped_column(primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[Org]
    part_number: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    # Net of rejects: rejected goods go back to "to be dispatched".
    dispatched_quantity: Mapped[int] = mapped_column(default=0)
    received_quantity: Mapped[int] = mapped_column(default=0)  # accepted only
    rejected_quantity: Mapped[int] = mapped_column(default=0)
    # What a short-close left outstanding: it will not come.
    cancelled_quantity: Mapped[int] = mapped_column(default=0)


class OrderEvent(_OnOrder, Base):
    """Append-only audit trail. Rows are inserted, never updated or deleted.

    ``position`` orders the org's feed (events and raised alerts together): given out
    under the org's ``FeedPosition`` row lock, so positions follow commit order and a
    reader that saw position N has seen every committed position below it.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        UniqueConstraint("org", "position"),
    )

    seq: Mapped[int]
    at: Mapped[datetime]
    stage: Mapped[OrderStage] = mapped_column(_enum(OrderStage, "event_stage"))
    kind: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_subject: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    promised_date: Mapped[date | None]
    # Who besides the buyer the buyer shared the note with (a supplier's note: none).
    note_audience: Mapped[Audience] = mapped_column(AudienceColumn(), default=frozenset())
    position: Mapped[int] = mapped_column(BigInteger)


class Shipment(_OnOrder, Base):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_order", "order_id", "dispatched_at"),)

    method: Mapped[ShipmentMethod] = mapped_column(_enum(ShipmentMethod, "shipment_method"))
    carrier: Mapped[str | None] = mapped_column(String(200))
    tracking_reference: Mapped[str | None] = mapped_column(String(200))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    dispatched_at: Mapped[datetime]
    # Progress the supplier reports (``updateShipment``), own-driver runs included.
    status: Mapped[ShipmentStatus] = mapped_column(
        _enum(ShipmentStatus, "shipment_status"), default=ShipmentStatus.DISPATCHED
    )
    estimated_arrival: Mapped[date | None]
    status_changed_at: Mapped[datetime | None]


class ShipmentLine(_LineOf, Base):
    __tablename__ = "shipment_lines"

    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id"), primary_key=True, sort_order=FIRST
    )


class Receipt(_OnOrder, Base):
    __tablename__ = "receipts"
    __table_args__ = (Index("ix_receipts_order", "order_id", "received_at"),)

    received_at: Mapped[datetime]
    actor_subject: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    note_audience: Mapped[Audience] = mapped_column(AudienceColumn(), default=frozenset())


class ReceiptLine(_LineOf, Base):
    __tablename__ = "receipt_lines"

    receipt_id: Mapped[str] = mapped_column(
        ForeignKey("receipts.id"), primary_key=True, sort_order=FIRST
    )
    rejected_quantity: Mapped[int] = mapped_column(default=0)
    reject_reason: Mapped[str | None] = mapped_column(Text)


class OrderRevision(Base):
    """The terms' history: one row per revision, never updated (1 = as issued)."""

    __tablename__ = "order_revisions"

    order_id: Mapped[OrderRef] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[Org]
    at: Mapped[datetime]
    actor_role: Mapped[str] = mapped_column(String(20))  # whose terms: buyer or supplier
    actor_subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_audience: Mapped[Audience] = mapped_column(AudienceColumn(), default=frozenset())
    # [{"field", "line_no", "before", "after"}]: values as text, money exact.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class Proposal(_OnOrder, Base):
    """A supplier's answer to a revision with changes of its own; at most one PENDING
    per order (the order's ``awaiting`` is ANSWER exactly while it is)."""

    __tablename__ = "order_proposals"
    __table_args__ = (Index("ix_order_proposals_order_status", "order_id", "status"),)

    revision: Mapped[int]  # the revision it answers
    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus, "proposal_status"))
    proposed_at: Mapped[datetime]
    proposed_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    promised_date: Mapped[date | None]
    # [{"line_no", "quantity", "unit_price"}]: None where unchanged, money as text.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(200))


class Invoice(_OnOrder, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("org", "supplier_id", "number"),
        Index("ix_invoices_order", "order_id", "submitted_at"),
    )

    supplier_id: Mapped[str] = mapped_column(ForeignKey("suppliers.id"))
    number: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime]
    total: Mapped[Decimal]


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    org: Mapped[Org]
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]


class AlertThresholds(Base):
    """Per-organisation settings; a missing row means the defaults."""

    __tablename__ = "alert_thresholds"

    org: Mapped[Org] = mapped_column(primary_key=True)
    acknowledge_within_hours: Mapped[float] = mapped_column(default=48.0)
    start_production_within_hours: Mapped[float] = mapped_column(default=168.0)
    deliver_within_hours: Mapped[float] = mapped_column(default=240.0)
    price_tolerance_percent: Mapped[Decimal] = mapped_column(default=Decimal(0))
    quantity_tolerance: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first result of a mutation sent with an idempotency key, replayed on retry."""

    __tablename__ = "idempotency_records"

    org: Mapped[Org] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(60))
    result_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime]


class FeedPosition(Base):
    """The last feed position an org gave out. Taking the next one locks this row until
    the transaction ends, which serialises an org's writers only for their last steps
    and makes positions follow commit order."""

    __tablename__ = "feed_positions"

    org: Mapped[Org] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)


class RaisedAlert(_OnOrder, Base):
    """An alert episode that has been announced (pushed), once.

    The id is derived from the episode (order, kind, since), so raising it twice — two
    leaders, a retried transaction — inserts nothing the second time. ``cleared_at``
    ends the episode (acknowledged, dispatched, threshold raised).
    """

    __tablename__ = "raised_alerts"
    __table_args__ = (
        UniqueConstraint("org", "position"),
        Index("ix_raised_alerts_open", "order_id", "kind", "cleared_at"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    stage: Mapped[OrderStage] = mapped_column(_enum(OrderStage, "raised_alert_stage"))
    since: Mapped[datetime]
    raised_at: Mapped[datetime]
    threshold_hours: Mapped[float | None]
    message: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(BigInteger)
    cleared_at: Mapped[datetime | None]


class TrackingLink(_OnOrder, Base):
    """A capability link to one order's client view (``GET /track/{token}``).

    Only the SHA-256 of the token is kept: a database reader cannot open the page, and
    a later read cannot show the link again. Revoked and expired links stay (audit).
    """

    __tablename__ = "tracking_links"
    __table_args__ = (Index("ix_tracking_links_order", "order_id", "created_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebhookEvent(enum.StrEnum):
    ORDER_EVENT = "ORDER_EVENT"
    ALERT_RAISED = "ALERT_RAISED"


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(_OrgRow, Base):
    """Where one party (a role and its supplier or client id; the buyer: the org) wants
    its feed POSTed. ``cursor`` is the last feed position turned into deliveries: the
    durable half of the outbox (``db.webhooks``). The signing secret is kept encrypted
    (it must be usable for signing); ``deleted_at`` keeps the delivery log readable
    for audit while nothing more is sent."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_owner", "org", "owner_role", "owner_party"),)

    owner_role: Mapped[str] = mapped_column(String(20))
    owner_party: Mapped[str | None] = mapped_column(ID)
    owner_subject: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(100))  # comma-separated WebhookEvent values
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool]
    secret_encrypted: Mapped[str] = mapped_column(Text)
    cursor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(_OrgRow, Base):
    """One feed entry for one endpoint: the rendered body (sent byte for byte on every
    attempt) and where its delivery stands. Its id is the ``webhook-id`` header, the same
    on every attempt. ``lease_owner``/``lease_until``: the worker sending it now."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "position"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "endpoint_id", "created_at", "id"),
    )

    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    position: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[str] = mapped_column(ID)
    event: Mapped[WebhookEvent] = mapped_column(_enum(WebhookEvent, "webhook_event"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_response_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class EmailSettings(Base):
    """An org's e-mail: on or off per kind, where the buyer's alerts go, and ``cursor``,
    the last feed position turned into messages (``db.email_outbox``). Made, on, from
    the current end of the feed, the first time a worker sees the org."""

    __tablename__ = "email_settings"

    org: Mapped[Org] = mapped_column(primary_key=True)
    enabled: Mapped[bool]
    purchase_orders: Mapped[bool]  # to the supplier's contact
    alerts: Mapped[bool]  # to buyer_email, batched
    dispatches: Mapped[bool]  # to the client's contact
    buyer_email: Mapped[str | None] = mapped_column(String(320))
    cursor: Mapped[int] = mapped_column(BigInteger)


class EmailMessage(_OrgRow, Base):
    """One rendered e-mail and where its sending stands (leased like webhooks)."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_due", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(BigInteger)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "email_status"))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
