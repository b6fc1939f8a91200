"""A plan as one SQL statement: the page of orders (scope, keyset, order, limit) with each
selected relation as a JSON array per order, built in the database
(``json_agg``/``json_build_array`` on PostgreSQL, ``json_group_array``/``json_array`` on
SQLite), the org's alert thresholds and the total count as scalar subqueries.

The statement is built once per (plan, dialect, with or without ``after``) with bind
parameters for everything that varies per request: ``org``, the caller's party id, the
page size and the cursor's anchor. The scope is ``db.queries.scope``'s own predicate
applied to a template ``Scope`` whose values are those bind parameters, and row rules
(NULL per row) are the policy table's SQL forms, as ``CASE WHEN rule THEN value END``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from typing import cast as typing_cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Enum,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.util import ClauseAdapter

from db import models
from db.base import Money, UTCDateTime
from db.queries.orders import OrderSort
from db.queries.relations import visible_event
from db.queries.scope import client_scope, order_scope, supplier_scope
from db.scope import Role, Scope
from permissions.policy import ROW_CONTENT
from schema.compiler.plan import Column, Plan, Rows

ORDER = models.Order
FACTS = (
    "id",
    "number",
    "stage",
    "stage_entered_at",
    "need_by",
    "promised_date",
    "first_promised_date",
    "promise_changed_at",
)
# sort -> (key column, descending?); the id breaks ties in the same direction. The same
# table as ``db.queries.orders.list_orders``; the differential tests hold them together.
SORTS: dict[OrderSort, tuple[InstrumentedAttribute[Any], bool]] = {
    OrderSort.ISSUED_AT_DESC: (ORDER.issued_at, True),
    OrderSort.ISSUED_AT_ASC: (ORDER.issued_at, False),
    OrderSort.NEED_BY_ASC: (ORDER.need_by, False),
    OrderSort.STAGE_ENTERED_AT_ASC: (ORDER.stage_entered_at, False),
    OrderSort.TOTAL_DESC: (ORDER.total, True),
}
# Per relation: its link to the order and its order (SQL on PostgreSQL, Python on SQLite).
ORDERING: dict[str, tuple[str, ...]] = {
    "lines": ("line_no",),
    "shipments": ("dispatched_at", "id"),
    "events": ("seq",),
}


def template_scope(role: Role) -> Scope:
    """The role's scope with bind parameters for its values (``order_scope`` and friends
    build the same predicate they build for a request's own scope)."""
    org = typing_cast(str, bindparam("org", type_=String))
    party = typing_cast(str, bindparam("party", type_=String))
    return Scope(
        org=org,
        role=role,
        subject="",
        client_id=party if role is Role.CLIENT else None,
        supplier_id=party if role is Role.SUPPLIER else None,
        content=ROW_CONTENT[role],
    )


Decode = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(int(value)).scaleb(-4)


def _datetime(value: Any) -> datetime | None:
    """As ``UTCDateTime`` reads it. PostgreSQL: to_char in UTC; SQLite: the stored text
    ('YYYY-MM-DD HH:MM:SS.ffffff', UTC without an offset)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _enum(enum_class: Any) -> Decode:
    # A non-native SQLAlchemy Enum stores the member's name.
    def decode(value: Any) -> Any:
        return None if value is None else enum_class[value]

    return decode


@dataclass(frozen=True)
class Statement:
    """The statement and how to read its rows."""

    select: Select[Any]
    order_index: dict[str, int]  # order attribute -> column index
    relation_index: dict[str, int]  # relation response name -> column index
    thresholds_index: int | None
    count_index: int | None
    sort_width: dict[str, int]  # relation response name -> leading sort values (SQLite)
    decoders: dict[str, list[Decode]]  # relation response name -> per SQL value


class Builder:
    def __init__(self, plan: Plan, *, sqlite: bool) -> None:
        self.plan = plan
        self.sqlite = sqlite
        self.scope = template_scope(plan.role)

    def value(self, model: Any, column: Column) -> tuple[ColumnElement[Any], Decode]:
        """The SQL value of ``column`` inside a JSON array and how to read it back."""
        attribute = column.attribute
        if attribute is None:  # OrderLine.lineTotal
            expr: Any = (
                type_coerce(models.OrderLine.unit_price, BigInteger) * models.OrderLine.quantity
            )
            decode: Decode = _money
        else:
            kind = attribute.property.columns[0].type
            if isinstance(kind, UTCDateTime):
                expr = (
                    attribute
                    if self.sqlite
                    else func.to_char(func.timezone("UTC", attribute), 'YYYY-MM-DD"T"HH24:MI:SS.US')
                )
                decode = _datetime
            elif isinstance(kind, Money):
                expr, decode = type_coerce(attribute, BigInteger), _money
            elif isinstance(kind, Date):
                expr, decode = attribute, _date
            elif isinstance(kind, Enum):
                expr, decode = type_coerce(attribute, String), _enum(kind.enum_class)
            else:
                expr, decode = attribute, _identity
        if column.rule is not None:
            assert column.rule.sql is not None
            expr = case((column.rule.sql(model), expr), else_=None)
        return expr, decode

    def _text(self, json_value: Any) -> ColumnElement[Any]:
        """JSON as text: decoded once, by orjson (asyncpg's json codec would decode it
        with the standard library first)."""
        return type_coerce(json_value, Text) if self.sqlite else cast(json_value, Text)

    def _array(self, *values: Any) -> ColumnElement[Any]:
        return func.json_array(*values) if self.sqlite else func.json_build_array(*values)

    def relation(self, rows: Rows) -> tuple[ColumnElement[Any], int, list[Decode]]:
        model: Any = rows.model
        values: list[Any] = []
        decoders: list[Decode] = []
        for _, item in rows.fields:
            if isinstance(item, Column):
                expr, decode = self.value(model, item)
                values.append(expr)
                decoders.append(decode)
        ordering = [getattr(model, a) for a in ORDERING.get(rows.field, ())]
        sort_width = 0
        if self.sqlite and rows.many:
            values = [*ordering, *values]
            sort_width = len(ordering)
        if not values:  # only __typename selected: still one entry per row
            values = [literal_column("0")]
            decoders = []
            sort_width = len(values) if not rows.many else sort_width
        element = self._array(*values)
        if rows.field == "lines":
            where: list[ColumnElement[bool]] = [models.OrderLine.order_id == ORDER.id]
        elif rows.field == "shipments":
            where = [models.Shipment.order_id == ORDER.id]
        elif rows.field == "events":
            where = [
                models.OrderEvent.order_id == ORDER.id,
                models.OrderEvent.org == self.scope.org,
                visible_event(self.scope),
            ]
            if rows.limit is not None:
                # The first ``limit`` of the same rows by seq, as Order.events pages.
                page = models.OrderEvent.__table__.alias("event_page")
                adapt = ClauseAdapter(page).traverse
                first = (
                    select(page.c.id)
                    .where(*(adapt(w) for w in where))
                    .order_by(page.c.seq)
                    .limit(rows.limit)
                    .correlate(ORDER)
                )
                where.append(models.OrderEvent.id.in_(first))
        elif rows.field == "supplier":
            where = [models.Supplier.id == ORDER.supplier_id, supplier_scope(self.scope)]
        else:
            where = [models.Client.id == ORDER.client_id, client_scope(self.scope)]
        if not rows.many:
            sub = select(element).where(*where).scalar_subquery()
            return self._text(sub), 0, decoders
        if self.sqlite:
            aggregate = func.json_group_array(element)
        else:
            aggregate = func.coalesce(
                func.json_agg(aggregate_order_by(element, *ordering)),
                literal_column("'[]'::json"),
            )
        sub = select(aggregate).where(*where).scalar_subquery()
        return self._text(sub), sort_width, decoders

    def statement(self, *, after: bool, sort: OrderSort) -> Statement:
        plan = self.plan
        wanted: list[str] = ["id"]
        for _, item in plan.node:
            if isinstance(item, Column):
                wanted.append(item.attribute.key)
        if plan.needs_thresholds:
            wanted += FACTS
        wanted = list(dict.fromkeys(wanted))
        columns: list[Any] = [getattr(ORDER, a) for a in wanted]
        order_index = {a: i for i, a in enumerate(wanted)}
        relation_index: dict[str, int] = {}
        sort_width: dict[str, int] = {}
        decoders: dict[str, list[Decode]] = {}
        for name, item in plan.node:
            if isinstance(item, Rows):
                expr, width, decode = self.relation(item)
                relation_index[name] = len(columns)
                sort_width[name] = width
                decoders[name] = decode
                columns.append(expr)
        thresholds_index = None
        if plan.needs_thresholds:
            t = models.AlertThresholds
            thresholds_index = len(columns)
            columns.append(
                select(
                    self._array(
                        t.acknowledge_within_hours,
                        t.start_production_within_hours,
                        t.deliver_within_hours,
                    )
                )
                .where(t.org == self.scope.org)
                .scalar_subquery()
            )
            columns[-1] = self._text(columns[-1])
        count_index = None
        if plan.needs_count:
            count_index = len(columns)
            counted = select(ORDER.id).where(order_scope(self.scope)).subquery()
            columns.append(select(func.count()).select_from(counted).scalar_subquery())
        stmt = select(*columns).where(order_scope(self.scope))
        key, descending = SORTS[sort]
        if after:
            stmt = stmt.where(_after(key, descending, self.scope))
        order_by = (key.desc(), ORDER.id.desc()) if descending else (key.asc(), ORDER.id.asc())
        stmt = stmt.order_by(*order_by).limit(bindparam("limit", type_=BigInteger))
        return Statement(
            stmt,
            order_index,
            relation_index,
            thresholds_index,
            count_index,
            sort_width,
            decoders,
        )

    def count(self) -> Select[Any]:
        counted = select(ORDER.id).where(order_scope(self.scope)).subquery()
        return select(func.count()).select_from(counted)


def _after(key: InstrumentedAttribute[Any], descending: bool, scope: Scope) -> ColumnElement[bool]:
    """Keyset: after the anchor row (looked up within scope, as ``list_orders`` does; an
    anchor outside scope compares as NULL and the page is empty)."""
    after_id = bindparam("after_id", type_=String)
    anchor_key = select(key).where(ORDER.id == after_id, order_scope(scope)).scalar_subquery()
    if descending:
        return or_(key < anchor_key, and_(key == anchor_key, ORDER.id < after_id))
    return or_(key > anchor_key, and_(key == anchor_key, ORDER.id > after_id))
