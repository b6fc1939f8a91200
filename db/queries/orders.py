"""Orders: filtered keyset pages, counts, lookups, and the first pages of many parties."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Select, false, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Order, OrderLine, OrderStage
from db.queries.page import KeysetWindow, Page, keyset_page, read_keyset_page
from db.queries.scope import order_scope
from db.scope import Scope


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


async def list_orders(
    *,
    session: AsyncSession,
    scope: Scope,
    flt: OrderFilter | None = None,
    sort: OrderSort = OrderSort.ISSUED_AT_DESC,
    **window: Unpack[KeysetWindow],
) -> Page[Order]:
    """``first`` orders after ``after_id``; with ``backward``, the ``first`` orders that
    end just before ``before_id`` (or the list's end), still in the list's order."""
    key, descending = _SORTS[sort]
    return await read_keyset_page(
        session,
        _filtered_orders(scope, flt),
        key=key,
        id_column=Order.id,
        descending=descending,
        anchor_key=lambda anchor_id: (
            select(key).where(Order.id == anchor_id, order_scope(scope)).scalar_subquery()
        ),
        **window,
    )


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


# --- orders per party, batched across parents (no N+1 for nested connections) ------

PARTY_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "supplier_id": Order.supplier_id,
    "client_id": Order.client_id,
}


async def first_orders_by_party(
    *,
    session: AsyncSession,
    scope: Scope,
    column: str,
    party_ids: Sequence[str],
    first: int,
    backward: bool = False,
) -> dict[str, Page[Order]]:
    """The newest ``first`` orders of each party (with ``backward``: the oldest
    ``first``, the end of its newest-first list), in one windowed statement."""
    party = PARTY_COLUMNS[column]
    newest_first = (Order.issued_at.desc(), Order.id.desc())
    oldest_first = (Order.issued_at.asc(), Order.id.asc())
    reading = oldest_first if backward else newest_first
    rank = func.row_number().over(partition_by=party, order_by=reading).label("rank")
    ranked = select(Order.id, rank).where(order_scope(scope), party.in_(party_ids)).subquery()
    stmt = (
        select(Order)
        .join(ranked, ranked.c.id == Order.id)
        .where(ranked.c.rank <= first + 1)
        .order_by(party, *reading)
    )
    grouped: defaultdict[str, list[Order]] = defaultdict(list)
    for order in await session.scalars(stmt):
        grouped[getattr(order, column)].append(order)
    return {pid: keyset_page(grouped[pid], first, backward=backward) for pid in party_ids}


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
