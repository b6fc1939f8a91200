"""Buyer commands that create rows: suppliers, clients, purchase orders.

Each command runs inside the caller's write transaction: it validates everything
first, raises ``DomainErrors`` with every problem found (nothing written), and
otherwise adds rows. The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db import validation as v
from db.alerts import Thresholds
from db.errors import DomainError, ErrorCode, raise_if
from db.events import note_event
from db.ids import new_id
from db.models import AlertThresholds, Client, Order, OrderEvent, OrderLine, OrderStage, Supplier
from db.queries import client_scope, supplier_scope
from db.scope import Scope

MAX_LINES = 500
MAX_ORG_LENGTH = 64  # the org column, and the longest org claim a token may carry


async def create_org(*, session: AsyncSession, org: str, now: datetime) -> bool:
    """Register ``org`` with the default settings (its alert thresholds row).

    Returns False when the org already has its settings (nothing is changed). Orgs are
    the ``org`` claim of tokens; registering one makes it visible to operators and
    gives it settings a buyer can change (``setAlertThresholds``).
    """
    raise_if(
        [
            v.required_text(org, ["org"], max_len=MAX_ORG_LENGTH),
            None
            if org == org.strip()
            else DomainError(ErrorCode.VALIDATION, "must not start or end with spaces", ["org"]),
        ]
    )
    if await session.get(AlertThresholds, org) is not None:
        return False
    defaults = Thresholds()
    session.add(
        AlertThresholds(
            org=org,
            acknowledge_within_hours=defaults.acknowledge_within_hours,
            start_production_within_hours=defaults.start_production_within_hours,
            deliver_within_hours=defaults.deliver_within_hours,
            price_tolerance_percent=Decimal(0),
            quantity_tolerance=0,
            updated_at=now,
        )
    )
    await session.flush()
    return True


async def org_is_known(*, session: AsyncSession, org: str) -> bool:
    """Whether ``org`` was registered or already has suppliers or clients."""
    for model in (AlertThresholds, Supplier, Client):
        if await session.scalar(select(model.org).where(model.org == org).limit(1)) is not None:
            return True
    return False


async def create_supplier(
    *, session: AsyncSession, scope: Scope, now: datetime, name: str, contact_email: str | None
) -> Supplier:
    raise_if(
        [
            v.required_text(name, ["input", "name"], max_len=200),
            v.email(contact_email, ["input", "contactEmail"]),
        ]
    )
    supplier = Supplier(
        id=new_id("sup"),
        org=scope.org,
        name=name.strip(),
        contact_email=contact_email,
        created_at=now,
    )
    session.add(supplier)
    await session.flush()
    return supplier


async def create_client(*, session: AsyncSession, scope: Scope, now: datetime, name: str) -> Client:
    raise_if([v.required_text(name, ["input", "name"], max_len=200)])
    client = Client(id=new_id("cli"), org=scope.org, name=name.strip(), created_at=now)
    session.add(client)
    await session.flush()
    return client


@dataclass(frozen=True)
class LineInput:
    part_number: str
    quantity: int
    unit_price: Decimal
    description: str | None = None


@dataclass(frozen=True)
class IssueOrderInput:
    supplier_id: str
    need_by: date
    currency: str
    lines: Sequence[LineInput]
    client_id: str | None = None
    client_reference: str | None = None
    terms: str | None = None
    lead_time_days: int | None = None
    internal_note: str | None = None


def _validate_issue(data: IssueOrderInput, today: date) -> list[DomainError | None]:
    errors: list[DomainError | None] = [
        v.currency(data.currency, ["input", "currency"]),
        v.optional_text(data.client_reference, ["input", "clientReference"], max_len=200),
        v.optional_text(data.terms, ["input", "terms"], max_len=10_000),
        v.optional_text(data.internal_note, ["input", "internalNote"], max_len=10_000),
    ]
    if data.need_by < today:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "must not be in the past", ["input", "needBy"])
        )
    if data.lead_time_days is not None and not 0 <= data.lead_time_days <= 3650:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "must be between 0 and 3650", ["input", "leadTimeDays"]
            )
        )
    if not data.lines:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION, "an order needs at least one line", ["input", "lines"]
            )
        )
    elif len(data.lines) > MAX_LINES:
        errors.append(
            DomainError(ErrorCode.VALIDATION, f"at most {MAX_LINES} lines", ["input", "lines"])
        )
    for i, line in enumerate(data.lines):
        path = ["input", "lines", str(i)]
        errors += [
            v.required_text(line.part_number, [*path, "partNumber"], max_len=100),
            v.optional_text(line.description, [*path, "description"], max_len=2000),
            v.positive_quantity(line.quantity, [*path, "quantity"]),
            v.money(line.unit_price, [*path, "unitPrice"]),
        ]
    return errors


async def _next_number(session: AsyncSession, org: str) -> str:
    # Human-facing PO numbers are sequential per org. SQLite's write path is serial;
    # on PostgreSQL a transaction-scoped advisory lock per org serialises numbering
    # (the unique (org, number) constraint stays as the backstop).
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"po-number|{org}"}
        )
    count = await session.scalar(select(func.count()).select_from(Order).where(Order.org == org))
    return f"PO-{(count or 0) + 1:06d}"


async def issue_order(
    *, session: AsyncSession, scope: Scope, now: datetime, data: IssueOrderInput
) -> Order:
    errors = _validate_issue(data, now.date())
    supplier = await session.scalar(
        select(Supplier.id).where(supplier_scope(scope), Supplier.id == data.supplier_id)
    )
    if supplier is None:
        errors.append(DomainError(ErrorCode.NOT_FOUND, "no such supplier", ["input", "supplierId"]))
    if data.client_id is not None:
        client = await session.scalar(
            select(Client.id).where(client_scope(scope), Client.id == data.client_id)
        )
        if client is None:
            errors.append(DomainError(ErrorCode.NOT_FOUND, "no such client", ["input", "clientId"]))
    total = sum((line.unit_price * line.quantity for line in data.lines), Decimal(0))
    if not errors and total >= v.MAX_MONEY:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "the order total is too large", ["input", "lines"])
        )
    raise_if(errors)

    order_id = new_id("ord")
    order = Order(
        id=order_id,
        org=scope.org,
        number=await _next_number(session, scope.org),
        stage=OrderStage.ISSUED,
        supplier_id=data.supplier_id,
        client_id=data.client_id,
        client_reference=data.client_reference,
        currency=data.currency,
        total=total,
        terms=data.terms,
        lead_time_days=data.lead_time_days,
        need_by=data.need_by,
        issued_at=now,
        stage_entered_at=now,
        internal_note=data.internal_note,
        version=1,
        promise_slips=0,
        created_by=scope.subject,
    )
    session.add(order)
    await session.flush()
    session.add_all(
        OrderLine(
            order_id=order_id,
            line_no=i,
            org=scope.org,
            part_number=line.part_number.strip(),
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            dispatched_quantity=0,
            received_quantity=0,
        )
        for i, line in enumerate(data.lines, start=1)
    )
    event_id = new_id("evt")
    note_event(session, order_id, event_id)
    session.add(
        OrderEvent(
            id=event_id,
            org=scope.org,
            order_id=order_id,
            seq=1,
            at=now,
            stage=OrderStage.ISSUED,
            kind="ISSUED",
            actor_role=scope.role,
            actor_subject=scope.subject,
            note=None,
            promised_date=None,
            internal=False,
        )
    )
    await session.flush()
    return order
