"""Scoped reads. Every function takes the caller's ``Scope`` and applies it in SQL.

Rows outside the scope are never loaded, so a resolver cannot leak them: an
object out of scope is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import enum
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.alerts import (
    AlertKind,
    OrderFacts,
    Thresholds,
    condition,
    since_expression,
)
from db.models import (
    AlertThresholds,
    Client,
    Invoice,
    InvoiceLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderStage,
    Receipt,
    ReceiptLine,
    Shipment,
    ShipmentLine,
    Supplier,
)
from db.scope import Scope

T = TypeVar("T")


class OrderSort(enum.StrEnum):
    ISSUED_AT_DESC = "ISSUED_AT_DESC"
    ISSUED_AT_ASC = "ISSUED_AT_ASC"
    NEED_BY_ASC = "NEED_BY_ASC"
    STAGE_ENTERED_AT_ASC = "STAGE_ENTERED_AT_ASC"
    TOTAL_DESC = "TOTAL_DESC"


# sort -> (key column, descending?); the id breaks ties in the same direction.
_SORTS: dict[OrderSort, tuple[InstrumentedAttribute[Any], bool]] = {
    OrderSort.ISSUED_AT_DESC: (Order.issued_at, True),
    OrderSort.ISSUED_AT_ASC: (Order.issued_at, False),
    OrderSort.NEED_BY_ASC: (Order.need_by, False),
    OrderSort.STAGE_ENTERED_AT_ASC: (Order.stage_entered_at, False),
    OrderSort.TOTAL_DESC: (Order.total, True),
}


@dataclass(frozen=True)
class OrderFilter:
    stages: Sequence[OrderStage] | None = None
    supplier_id: str | None = None
    client_id: str | None = None
    need_by_before: date | None = None
    need_by_after: date | None = None
    search: str | None = None
    min_total: Decimal | None = None
    # Which text columns ``search`` may match: only ones the caller can see,
    # or a search would become an oracle for a hidden value.
    search_columns: tuple[str, ...] = ("number", "part_number")
    # hasAlert: the caller supplies the predicate (it depends on thresholds and now).
    has_alert: bool | None = None
    alert_predicate: ColumnElement[bool] | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    has_previous: bool = False


# --- scope predicates -------------------------------------------------------------


def order_scope(scope: Scope) -> ColumnElement[bool]:
    """The orders a caller may see: its org's, narrowed to its own party's."""
    clauses = [Order.org == scope.org]
    if scope.client_id is not None:
        clauses.append(Order.client_id == scope.client_id)
    if scope.supplier_id is not None:
        clauses.append(Order.supplier_id == scope.supplier_id)
    return and_(*clauses)


def supplier_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's suppliers, a supplier only itself, a client none."""
    if scope.client_id is not None:
        return false()
    clause = Supplier.org == scope.org
    if scope.supplier_id is not None:
        clause = and_(clause, Supplier.id == scope.supplier_id)
    return clause


def client_scope(scope: Scope) -> ColumnElement[bool]:
    """Buyers see their org's clients, a client only itself, a supplier none."""
    if scope.supplier_id is not None:
        return false()
    clause = Client.org == scope.org
    if scope.client_id is not None:
        clause = and_(clause, Client.id == scope.client_id)
    return clause


# --- orders -----------------------------------------------------------------------


def _filtered_orders(scope: Scope, flt: OrderFilter | None) -> Select[Order]:
    stmt = select(Order).where(order_scope(scope))
    if flt is None:
        return stmt
    if flt.stages is not None:
        stmt = stmt.where(Order.stage.in_(list(flt.stages)) if flt.stages else false())
    if flt.supplier_id is not None:
        stmt = stmt.where(Order.supplier_id == flt.supplier_id)
    if flt.client_id is not None:
        stmt = stmt.where(Order.client_id == flt.client_id)
    if flt.need_by_before is not None:
        stmt = stmt.where(Order.need_by < flt.need_by_before)
    if flt.need_by_after is not None:
        stmt = stmt.where(Order.need_by > flt.need_by_after)
    if flt.min_total is not None:
        stmt = stmt.where(Order.total >= flt.min_total)
    if flt.search:
        stmt = stmt.where(_search_clause(flt.search, flt.search_columns))
    if flt.has_alert is not None and flt.alert_predicate is not None:
        alerting = func.coalesce(flt.alert_predicate, false())
        stmt = stmt.where(alerting if flt.has_alert else not_(alerting))
    return stmt


def _search_clause(text: str, columns: tuple[str, ...]) -> ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    clauses: list[ColumnElement[bool]] = []
    if "number" in columns:
        clauses.append(func.lower(Order.number).like(pattern, escape="\\"))
    if "client_reference" in columns:
        clauses.append(func.lower(Order.client_reference).like(pattern, escape="\\"))
    if "part_number" in columns:
        clauses.append(
            select(OrderLine.order_id)
            .where(
                OrderLine.order_id == Order.id,
                func.lower(OrderLine.part_number).like(pattern, escape="\\"),
            )
            .exists()
        )
    return or_(*clauses) if clauses else true()


def _after(
    key: InstrumentedAttribute[Any], descending: bool, after_id: str, scope: Scope
) -> ColumnElement[bool]:
    # Keyset: compare with the anchor row's key, looked up in SQL within scope; an
    # anchor outside scope yields NULL comparisons, hence an empty page.
    anchor_key = select(key).where(Order.id == after_id, order_scope(scope)).scalar_subquery()
    if descending:
        return or_(key < anchor_key, and_(key == anchor_key, Order.id < after_id))
    return or_(key > anchor_key, and_(key == anchor_key, Order.id > after_id))


async def list_orders(
    *,
    session: AsyncSession,
    scope: Scope,
    first: int,
    after_id: str | None = None,
    flt: OrderFilter | None = None,
    sort: OrderSort = OrderSort.ISSUED_AT_DESC,
) -> Page[Order]:
    key, descending = _SORTS[sort]
    stmt = _filtered_orders(scope, flt)
    if after_id is not None:
        stmt = stmt.where(_after(key, descending, after_id, scope))
    order_by = (key.desc(), Order.id.desc()) if descending else (key.asc(), Order.id.asc())
    rows = list((await session.scalars(stmt.order_by(*order_by).limit(first + 1))).all())
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_orders(*, session: AsyncSession, scope: Scope, flt: OrderFilter | None) -> int:
    sub = _filtered_orders(scope, flt).with_only_columns(Order.id).subquery()
    return int((await session.scalar(select(func.count()).select_from(sub))) or 0)


async def orders_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Order]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Order).where(order_scope(scope), Order.id.in_(wanted)))
    return {o.id: o for o in rows}


async def order_by_number(*, session: AsyncSession, scope: Scope, number: str) -> Order | None:
    stmt = select(Order).where(order_scope(scope), Order.number == number)
    return (await session.scalars(stmt)).one_or_none()


# --- relations, batched by parent id (one statement per relation per level) -------


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


# Events about money: a client never learns that an invoice exists.
CLIENT_HIDDEN_EVENT_KINDS = ("INVOICE_SUBMITTED",)


async def events_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[Row[Any]]]:
    stmt = select(*OrderEvent.__table__.columns).where(
        OrderEvent.org == scope.org, OrderEvent.order_id.in_(order_ids)
    )
    if scope.client_id is not None:
        stmt = stmt.where(OrderEvent.kind.not_in(CLIENT_HIDDEN_EVENT_KINDS))
    stmt = stmt.order_by(OrderEvent.order_id, OrderEvent.seq)
    return await _grouped_rows(session, stmt, "order_id")


async def events_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, OrderEvent]:
    """Events by id, on orders in scope, withholding from a client what it never sees."""
    stmt = (
        select(OrderEvent)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(order_scope(scope), OrderEvent.id.in_(list(set(ids))))
    )
    if scope.client_id is not None:
        stmt = stmt.where(OrderEvent.kind.not_in(CLIENT_HIDDEN_EVENT_KINDS))
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
        .where(order_scope(scope), Invoice.order_id.in_(order_ids))
    )
    if scope.client_id is not None:
        stmt = stmt.where(false())
    if scope.supplier_id is not None:
        stmt = stmt.where(Invoice.supplier_id == scope.supplier_id)
    stmt = stmt.order_by(Invoice.order_id, Invoice.submitted_at, Invoice.id)
    return await _grouped(session, stmt, "order_id")


async def invoices_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Invoice]:
    """Invoices on orders in scope; a supplier only its own, a client none."""
    if scope.client_id is not None:
        return {}
    stmt = (
        select(Invoice)
        .join(Order, Order.id == Invoice.order_id)
        .where(order_scope(scope), Invoice.id.in_(list(set(ids))))
    )
    if scope.supplier_id is not None:
        stmt = stmt.where(Invoice.supplier_id == scope.supplier_id)
    return {i.id: i for i in await session.scalars(stmt)}


async def invoice_lines_for(
    *, session: AsyncSession, scope: Scope, invoice_ids: Sequence[str]
) -> defaultdict[str, list[InvoiceLine]]:
    stmt = (
        select(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(Order, Order.id == Invoice.order_id)
        .where(order_scope(scope), InvoiceLine.invoice_id.in_(invoice_ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.line_no)
    )
    return await _grouped(session, stmt, "invoice_id")


# --- parties ----------------------------------------------------------------------


async def suppliers_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Supplier]:
    stmt = select(Supplier).where(supplier_scope(scope), Supplier.id.in_(list(set(ids))))
    return {s.id: s for s in await session.scalars(stmt)}


async def clients_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Client]:
    stmt = select(Client).where(client_scope(scope), Client.id.in_(list(set(ids))))
    return {c.id: c for c in await session.scalars(stmt)}


async def list_suppliers(
    *, session: AsyncSession, scope: Scope, first: int, after_id: str | None = None
) -> Page[Supplier]:
    stmt = select(Supplier).where(supplier_scope(scope))
    if after_id is not None:
        # The anchor is looked up within scope: an out-of-scope id must read like a
        # made-up one, or pages would reveal where hidden names sort.
        anchor = (
            select(Supplier.name)
            .where(supplier_scope(scope), Supplier.id == after_id)
            .scalar_subquery()
        )
        stmt = stmt.where(
            or_(Supplier.name > anchor, and_(Supplier.name == anchor, Supplier.id > after_id))
        )
    rows = list(
        (await session.scalars(stmt.order_by(Supplier.name, Supplier.id).limit(first + 1))).all()
    )
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_suppliers(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Supplier).where(supplier_scope(scope))
    return int((await session.scalar(stmt)) or 0)


async def list_clients(
    *, session: AsyncSession, scope: Scope, first: int, after_id: str | None = None
) -> Page[Client]:
    stmt = select(Client).where(client_scope(scope))
    if after_id is not None:
        anchor = (
            select(Client.name).where(client_scope(scope), Client.id == after_id).scalar_subquery()
        )
        stmt = stmt.where(
            or_(Client.name > anchor, and_(Client.name == anchor, Client.id > after_id))
        )
    rows = list(
        (await session.scalars(stmt.order_by(Client.name, Client.id).limit(first + 1))).all()
    )
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_clients(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Client).where(client_scope(scope))
    return int((await session.scalar(stmt)) or 0)


async def thresholds_for_orgs(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, AlertThresholds]:
    """The org's settings row (absent: defaults); only the caller's own org."""
    wanted = [i for i in set(ids) if i == scope.org]
    if not wanted:
        return {}
    rows = await session.scalars(select(AlertThresholds).where(AlertThresholds.org.in_(wanted)))
    return {r.org: r for r in rows}


# --- alerts and dashboard -----------------------------------------------------------


_FACT_COLUMNS = (
    Order.id,
    Order.number,
    Order.stage,
    Order.stage_entered_at,
    Order.need_by,
    Order.promised_date,
    Order.first_promised_date,
    Order.promise_changed_at,
)

AlertAnchor = tuple[datetime, str, str]  # (since, order id, kind): the list's sort key


def _after_anchor(kind: AlertKind, anchor: AlertAnchor) -> ColumnElement[bool]:
    """Rows of ``kind`` whose (since, order id, kind) sorts after ``anchor``, in SQL."""
    a_since, a_id, a_kind = anchor
    tie_ok = or_(
        Order.id > a_id, and_(Order.id == a_id, true() if kind.value > a_kind else false())
    )
    if kind is AlertKind.LATE:
        # since = midnight after the promised day: compare on the date itself.
        a_day = a_since.date()
        is_midnight = a_since.timetz().replace(tzinfo=None) == time_(0)
        later = Order.promised_date >= a_day
        if not is_midnight:
            return later
        return or_(later, and_(Order.promised_date == a_day - timedelta(days=1), tie_ok))
    since = since_expression(kind)
    return or_(since > a_since, and_(since == a_since, tie_ok))


async def alerting_orders(
    *,
    session: AsyncSession,
    scope: Scope,
    thresholds: Thresholds,
    now: datetime,
    kind: AlertKind | None = None,
    first: int | None = None,
    after: AlertAnchor | None = None,
) -> list[tuple[AlertKind, OrderFacts]]:
    """Orders with an open alert, per kind, oldest alert first.

    One statement: a UNION ALL of one indexed, ordered and limited select per kind,
    so a page costs ``first`` rows per kind however many orders alert.
    """
    branches = []
    for k in [kind] if kind else list(AlertKind):
        stmt = select(literal(k.value).label("kind"), *_FACT_COLUMNS).where(
            order_scope(scope), condition(k, thresholds, now)
        )
        if after is not None:
            stmt = stmt.where(_after_anchor(k, after))
        if first is not None:
            stmt = stmt.order_by(since_expression(k), Order.id).limit(first)
        branches.append(stmt.subquery().select())
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    rows = await session.execute(statement)
    return [(AlertKind(row[0]), OrderFacts(*row[1:])) for row in rows]


@dataclass(frozen=True)
class DashboardCounts:
    stages: dict[OrderStage, int]
    alerts: dict[AlertKind, int]


async def alert_counts(
    *, session: AsyncSession, scope: Scope, thresholds: Thresholds, now: datetime
) -> dict[AlertKind, int]:
    """Open alerts per kind: one UNION ALL of indexed counts."""
    branches = [
        select(literal(k.value).label("kind"), func.count().label("n")).where(
            order_scope(scope), condition(k, thresholds, now)
        )
        for k in AlertKind
    ]
    counts = {kind: 0 for kind in AlertKind}
    for kind_value, n in await session.execute(union_all(*branches)):
        counts[AlertKind(kind_value)] = int(n)
    return counts


async def dashboard_counts(
    *, session: AsyncSession, scope: Scope, thresholds: Thresholds, now: datetime
) -> DashboardCounts:
    """Orders per stage (an index-only GROUP BY) and open alerts per kind."""
    stmt = select(Order.stage, func.count()).where(order_scope(scope)).group_by(Order.stage)
    stages = {stage: 0 for stage in OrderStage}
    for stage, n in await session.execute(stmt):
        stages[OrderStage(stage)] = int(n)
    alerts = await alert_counts(session=session, scope=scope, thresholds=thresholds, now=now)
    return DashboardCounts(stages=stages, alerts=alerts)


@dataclass(frozen=True)
class Scorecard:
    orders: int
    median_hours_to_acknowledge: float | None
    on_time_dispatch_rate: float | None
    promise_slips: int


def _scorecard(rows: Sequence[Any]) -> Scorecard:
    ack_hours = sorted(
        (r.acknowledged_at - r.issued_at).total_seconds() / 3600
        for r in rows
        if r.acknowledged_at is not None
    )
    promised = [r for r in rows if r.dispatched_at is not None and r.promised_date is not None]
    on_time = sum(1 for r in promised if r.dispatched_at.date() <= r.promised_date)
    return Scorecard(
        orders=len(rows),
        median_hours_to_acknowledge=round(statistics.median(ack_hours), 2) if ack_hours else None,
        on_time_dispatch_rate=round(on_time / len(promised), 4) if promised else None,
        promise_slips=sum(r.promise_slips for r in rows),
    )


async def supplier_scorecards(
    *, session: AsyncSession, scope: Scope, supplier_ids: Sequence[str], since: datetime
) -> dict[str, Scorecard]:
    """Acknowledgement speed, dispatch punctuality and slips per supplier, for orders
    issued since ``since``: one statement for all the suppliers asked."""
    stmt = select(
        Order.supplier_id,
        Order.issued_at,
        Order.acknowledged_at,
        Order.dispatched_at,
        Order.promised_date,
        Order.promise_slips,
    ).where(order_scope(scope), Order.supplier_id.in_(supplier_ids), Order.issued_at >= since)
    grouped: defaultdict[str, list[Any]] = defaultdict(list)
    for row in await session.execute(stmt):
        grouped[row.supplier_id].append(row)
    return {sid: _scorecard(grouped.get(sid, [])) for sid in supplier_ids}


# --- orders per party, batched across parents (no N+1 for nested connections) ------

PARTY_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "supplier_id": Order.supplier_id,
    "client_id": Order.client_id,
}


async def first_orders_by_party(
    *, session: AsyncSession, scope: Scope, column: str, party_ids: Sequence[str], first: int
) -> dict[str, Page[Order]]:
    """The newest ``first`` orders of each party, in one windowed statement."""
    party = PARTY_COLUMNS[column]
    rank = (
        func.row_number()
        .over(partition_by=party, order_by=(Order.issued_at.desc(), Order.id.desc()))
        .label("rank")
    )
    ranked = select(Order.id, rank).where(order_scope(scope), party.in_(party_ids)).subquery()
    stmt = (
        select(Order)
        .join(ranked, ranked.c.id == Order.id)
        .where(ranked.c.rank <= first + 1)
        .order_by(party, Order.issued_at.desc(), Order.id.desc())
    )
    grouped: defaultdict[str, list[Order]] = defaultdict(list)
    for order in await session.scalars(stmt):
        grouped[getattr(order, column)].append(order)
    return {
        pid: Page(items=grouped[pid][:first], has_next=len(grouped[pid]) > first)
        for pid in party_ids
    }


async def order_counts_by_party(
    *, session: AsyncSession, scope: Scope, column: str, party_ids: Sequence[str]
) -> dict[str, int]:
    party = PARTY_COLUMNS[column]
    stmt = (
        select(party, func.count()).where(order_scope(scope), party.in_(party_ids)).group_by(party)
    )
    counts = {pid: 0 for pid in party_ids}
    for pid, n in await session.execute(stmt):
        counts[pid] = int(n)
    return counts
