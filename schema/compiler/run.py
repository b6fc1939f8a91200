"""Running a compiled plan: bind the request's values, one statement, the response.

``execute_compiled`` returns graphql-core's ``ExecutionResult`` with exactly the data
the ordinary path returns (the differential tests compare the bytes), or ``None`` when
this request must take the ordinary path: the document is not covered (the reason is
cached with the plan), or a value needs the ordinary path's error handling (a variable
that does not coerce, an invalid cursor, a page size out of range, a null where the
schema promises a value).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLObjectType,
    get_argument_values,
    get_variable_values,
)

from db import alerts as alert_rules
from db.availability import is_unavailable
from db.engine import Database
from db.queries.orders import OrderSort
from db.scope import Scope
from permissions.policy import ROW_CONTENT
from permissions.principal import Role
from schema.compiler.covered import ALERT_ATTRIBUTES
from schema.compiler.plan import Alerts, Column, Computed, Leaf, Plan, Rows, Unsupported, plan_for
from schema.compiler.sql import FACTS, Builder, Statement
from schema.cursors import decode, encode
from schema.errors import PublicError
from schema.pagination import DEFAULT_PAGE, MAX_PAGE

log = logging.getLogger("handoff.graphql")


class _Fallback(Exception):
    """This request (not the document) needs the ordinary path."""


class Compiled:
    """A plan and its statements (built on first use per dialect and ``after``)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._statements: dict[tuple[bool, bool, OrderSort], Statement] = {}
        self._builders: dict[bool, Builder] = {}

    def statement(self, *, sqlite: bool, after: bool, sort: OrderSort) -> Statement:
        key = (sqlite, after, sort)
        found = self._statements.get(key)
        if found is None:
            builder = self._builders.setdefault(sqlite, Builder(self.plan, sqlite=sqlite))
            found = self._statements[key] = builder.statement(after=after, sort=sort)
        return found

    def count_statement(self, *, sqlite: bool) -> Any:
        return self._builders.setdefault(sqlite, Builder(self.plan, sqlite=sqlite)).count()


class PlanCache:
    """Plans per (role, document, operation name); an uncovered document is cached with
    its reason. Documents come from the parse/validation cache, so one document object
    stands for one query text; the entry keeps it alive so its id is not reused."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[
            tuple[Role, int, str | None], tuple[DocumentNode, Compiled | str]
        ] = OrderedDict()

    def get(
        self, role: Role, schema: Any, document: DocumentNode, operation_name: str | None
    ) -> Compiled | str:
        key = (role, id(document), operation_name)
        found = self._entries.get(key)
        if found is not None and found[0] is document:
            self._entries.move_to_end(key)
            return found[1]
        try:
            compiled: Compiled | str = Compiled(plan_for(role, schema, document, operation_name))
        except Unsupported as reason:
            compiled = str(reason)
        self._entries[key] = (document, compiled)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return compiled


PLANS = PlanCache()


def _arguments(
    plan: Plan, schema: Any, variables: dict[str, Any] | None
) -> tuple[int, str | None, OrderSort]:
    """``orders``' arguments as the resolver would receive them."""
    coerced = get_variable_values(
        schema, plan.operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        raise _Fallback("variables")
    query_type: GraphQLObjectType = schema.query_type
    args = get_argument_values(query_type.fields["orders"], plan.field_node, coerced)
    first = args.get("first", DEFAULT_PAGE)
    if first is None:
        first = DEFAULT_PAGE
    if not isinstance(first, int) or not 0 <= first <= MAX_PAGE:
        raise _Fallback("first")
    sort = args.get("orderBy", OrderSort.ISSUED_AT_DESC)
    if not isinstance(sort, OrderSort):
        raise _Fallback("orderBy")
    after = args.get("after")
    after_id = None
    if after is not None:
        try:
            after_id = decode(after, sort.value)
        except PublicError:
            raise _Fallback("cursor") from None
    return first, after_id, sort


def _value(leaf: Leaf, value: Any) -> Any:
    if value is None:
        if leaf.nullable:
            return None
        raise _Fallback("null in a non-null field")
    out = leaf.serialize(value)
    if out is None:
        raise _Fallback("a serialiser answered null")
    return out


def _relation(rows: Rows, raw: Any, width: int, decoders: list[Callable[[Any], Any]]) -> Any:
    if raw is None:
        if rows.many or not rows.nullable:
            raise _Fallback("relation")
        return None
    items = orjson.loads(raw)
    if not rows.many:
        items = [items]
    elif width:
        items.sort(key=lambda item: item[:width])
    out = []
    for item in items:
        values = item[width:]
        entry: dict[str, Any] = {}
        position = 0
        for name, field in rows.fields:
            if isinstance(field, str):
                entry[name] = field
                continue
            entry[name] = _value(field.leaf, decoders[position](values[position]))
            position += 1
        out.append(entry)
    return out if rows.many else out[0]


def _thresholds(raw: Any) -> alert_rules.Thresholds:
    if raw is None:
        return alert_rules.Thresholds()
    acknowledge, start, deliver = orjson.loads(raw)
    return alert_rules.Thresholds(float(acknowledge), float(start), float(deliver))


def _node(
    plan: Plan, statement: Statement, row: Any, thresholds: Any, now: datetime
) -> dict[str, Any]:
    index = statement.order_index
    facts = None
    if plan.needs_thresholds:
        facts = alert_rules.OrderFacts(*(row[index[a]] for a in FACTS))
    node: dict[str, Any] = {}
    for name, item in plan.node:
        if isinstance(item, Column):
            node[name] = _value(item.leaf, row[index[item.attribute.key]])
        elif isinstance(item, str):
            node[name] = item
        elif isinstance(item, Rows):
            node[name] = _relation(
                item,
                row[statement.relation_index[name]],
                statement.sort_width[name],
                statement.decoders[name],
            )
        elif isinstance(item, Computed):
            assert facts is not None
            node[name] = _value(item.leaf, alert_rules.outlook_for(facts, thresholds, now))
        elif isinstance(item, Alerts):
            assert facts is not None
            node[name] = [
                {
                    aname: field
                    if isinstance(field, str)
                    else _value(field, getattr(alert, ALERT_ATTRIBUTES[field.field]))
                    for aname, field in item.fields
                }
                for alert in alert_rules.alerts_for(facts, thresholds, now)
            ]
    return node


async def execute_compiled(
    compiled: Compiled,
    schema: Any,
    *,
    db: Database,
    scope: Scope,
    now: datetime,
    variables: dict[str, Any] | None,
) -> ExecutionResult | None:
    """The response of ``compiled`` for this request, or None for the ordinary path."""
    plan = compiled.plan
    if scope.order_id is not None or scope.content != ROW_CONTENT[plan.role]:
        return None  # a tracking link's scope, or content the plan was not made for
    try:
        first, after_id, sort = _arguments(plan, schema, variables)
    except _Fallback:
        return None
    statement = compiled.statement(sqlite=db.is_sqlite, after=after_id is not None, sort=sort)
    params: dict[str, Any] = {"org": scope.org, "limit": first + 1}
    if plan.role is Role.CLIENT:
        params["party"] = scope.client_id
    elif plan.role is Role.SUPPLIER:
        params["party"] = scope.supplier_id
    if after_id is not None:
        params["after_id"] = after_id
    try:
        async with db.read_session() as session:
            rows = (await session.execute(statement.select, params)).all()
            count = None
            if plan.needs_count:
                if rows:
                    count = rows[0][statement.count_index]
                else:
                    count_statement = compiled.count_statement(sqlite=db.is_sqlite)
                    count = await session.scalar(count_statement, params)
    except Exception as error:
        if is_unavailable(error):
            # The database is gone, not this statement: no second try on the ordinary
            # path; the pipeline answers 503 (and logs the kind, never SQL).
            raise
        # One statement carries the whole page: let the ordinary path, which loads each
        # relation on its own, answer what it can (a failing relation then costs only
        # its own fields, with a masked error each).
        log.exception("the compiled statement failed; answering on the ordinary path")
        return None
    has_next = len(rows) > first
    rows = rows[:first]
    thresholds = None
    if plan.needs_thresholds and rows:
        assert statement.thresholds_index is not None
        thresholds = _thresholds(rows[0][statement.thresholds_index])
    try:
        cursors = [encode(sort.value, row[0]) for row in rows]
        nodes = [_node(plan, statement, row, thresholds, now) for row in rows]
    except _Fallback:
        return None
    connection: dict[str, Any] = {}
    for kind, name, fields in plan.connection:
        if kind == "__typename":
            connection[name] = fields
        elif kind == "totalCount":
            connection[name] = int(count or 0)
        elif kind == "pageInfo":
            info = {
                "hasNextPage": has_next,
                "hasPreviousPage": after_id is not None,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
                "__typename": "PageInfo",
            }
            connection[name] = {n: info[f] for n, f in fields}
        else:
            edges = []
            for cursor, node in zip(cursors, nodes, strict=True):
                edge: dict[str, Any] = {}
                for ename, efield in fields:
                    edge[ename] = (
                        cursor if efield == "cursor" else node if efield == "node" else "OrderEdge"
                    )
                edges.append(edge)
            connection[name] = edges
    return ExecutionResult(data={plan.root: connection})
