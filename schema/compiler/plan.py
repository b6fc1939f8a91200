"""From a validated document and a role to a plan: which order page it asks for, which
columns and relations each node needs, and how each value is written into the response.

The compiler covers one shape, the one the dashboard and the portal send: a query whose
only root field is ``orders`` (arguments ``first``, ``after``, ``orderBy``; no
``filter``), with the connection's ``edges { cursor node }``, ``pageInfo`` and
``totalCount``, and below ``node`` the order's own fields, ``outlook``, ``alerts``,
``supplier``, ``client``, ``lines``, ``shipments`` and ``events``. Fragments are
expanded; a directive, a type condition on another type, an argument it does not know
(``last``/``before``, ``filter``) or any other field raises ``Unsupported`` with the
reason, and the operation runs on the ordinary path.

``events`` may carry a literal ``first`` (its default otherwise), the page the SQL
applies; ``events(after:)`` or a variable page size runs on the ordinary path.

Validation has already cut the document to the role's schema (HIDE); what a role may
see per row (NULL) is the policy table's row rule, whose SQL form the plan records.

Long because the one shape it covers has many parts (connection, edge, node, each
relation and its row rules) and each must refuse what it does not cover in the same place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from sqlalchemy.orm import InstrumentedAttribute

from db import models
from db.base import Base
from permissions.policy import Access, RowRule, entry_for
from permissions.principal import Role
from schema.compiler.covered import ALERT_ATTRIBUTES, ORDER_COLUMNS, PAGE_INFO, RELATIONS
from schema.pagination import MAX_PAGE
from schema.types.order_parts import EVENTS_PAGE


class Unsupported(Exception):
    """The document is outside what the compiler covers; the message says why."""


@dataclass(frozen=True)
class Leaf:
    """A scalar or enum written as ``serialize(value)``; None only where nullable."""

    name: str  # response name
    field: str  # GraphQL field name
    serialize: Callable[[Any], Any]
    nullable: bool


@dataclass(frozen=True)
class Column:
    """A leaf read from a table column (``rule``: the row rule that may null it)."""

    leaf: Leaf
    attribute: InstrumentedAttribute[Any]
    rule: RowRule | None = None


@dataclass(frozen=True)
class Computed:
    """A leaf computed in Python from the order (outlook) or a typename."""

    leaf: Leaf


@dataclass
class Rows:
    """A list relation of the order (lines, shipments, events) or a party (one row)."""

    name: str
    field: str
    model: type[Base]
    many: bool
    nullable: bool
    # In response order: (response name, column) or (response name, constant typename).
    fields: list[tuple[str, Column | str]] = default(default_factory=list)
    limit: int | None = None  # a bounded list (Order.events(first:)): at most this many


@dataclass
class Alerts:
    name: str
    fields: list[tuple[str, Leaf | str]] = default(default_factory=list)  # str: typename


NodeField = Column | Computed | Rows | Alerts | str  # str: __typename


@dataclass
class Plan:
    """What one operation asks of one role's order page."""

    role: Role
    root: str  # the response name of ``orders``
    field_node: FieldNode
    operation: OperationDefinitionNode
    # The connection, in response order: ("edges", name, edge fields),
    # ("pageInfo", name, [(name, field)]), ("totalCount", name, None),
    # ("__typename", name, "OrderConnection").
    connection: list[tuple[str, str, Any]] = default(default_factory=list)
    node: list[tuple[str, NodeField]] = default(default_factory=list)
    needs_thresholds: bool = False
    needs_count: bool = False


ORDERS_ARGUMENTS = frozenset({"first", "after", "orderBy"})


def plan_for(
    role: Role, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan:
    """The plan of ``document``'s operation for ``role``, or ``Unsupported``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        raise Unsupported("not exactly one operation")
    operation = operations[0]
    if operation.operation is not OperationType.QUERY:
        raise Unsupported("not a query")
    if operation.directives:
        raise Unsupported("operation directives")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    collect = _Collector(fragments)
    query_type = schema.query_type
    assert query_type is not None
    roots = collect(query_type.name, [operation.selection_set])
    if len(roots) != 1:
        raise Unsupported("more than one root field")
    [(root, (field_name, nodes))] = roots.items()
    if field_name != "orders" or len(nodes) != 1:
        raise Unsupported(f"root field {field_name}")
    [orders] = nodes
    for argument in orders.arguments or ():
        if argument.name.value not in ORDERS_ARGUMENTS:
            raise Unsupported(f"orders({argument.name.value}:)")
    plan = Plan(role=role, root=root, field_node=orders, operation=operation)
    types = _Types(schema)
    for name, (fname, fnodes) in collect("OrderConnection", _sets(nodes)).items():
        if fname == "__typename":
            plan.connection.append(("__typename", name, "OrderConnection"))
        elif fname == "totalCount":
            plan.connection.append(("totalCount", name, None))
            plan.needs_count = True
        elif fname == "pageInfo":
            info = collect("PageInfo", _sets(fnodes))
            fields = [(n, f) for n, (f, _) in info.items()]
            if any(f not in (*PAGE_INFO, "__typename") for _, f in fields):
                raise Unsupported("pageInfo field")
            plan.connection.append(("pageInfo", name, fields))
        elif fname == "edges":
            edge = collect("OrderEdge", _sets(fnodes))
            edge_fields: list[tuple[str, str]] = []
            for ename, (efield, enodes) in edge.items():
                if efield == "node":
                    if plan.node:
                        raise Unsupported("node selected twice")
                    _plan_node(plan, role, types, collect, enodes)
                elif efield not in ("cursor", "__typename"):
                    raise Unsupported(f"edge field {efield}")
                edge_fields.append((ename, efield))
            plan.connection.append(("edges", name, edge_fields))
        else:
            raise Unsupported(f"connection field {fname}")
    return plan


def _sets(nodes: Iterable[FieldNode]) -> list[SelectionSetNode]:
    return [n.selection_set for n in nodes if n.selection_set is not None]


class _Collector:
    """graphql-core's field collection for the compiler's purposes: response name ->
    (field name, its nodes) in first-seen order, through fragments of the same type."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments

    def __call__(
        self, type_name: str, sets: Iterable[SelectionSetNode]
    ) -> dict[str, tuple[str, list[FieldNode]]]:
        out: dict[str, tuple[str, list[FieldNode]]] = {}
        self._walk(type_name, sets, out)
        return out

    def _walk(
        self,
        type_name: str,
        sets: Iterable[SelectionSetNode],
        out: dict[str, tuple[str, list[FieldNode]]],
    ) -> None:
        for selection_set in sets:
            for selection in selection_set.selections:
                if selection.directives:
                    raise Unsupported("directives")
                if isinstance(selection, FieldNode):
                    name = selection.alias.value if selection.alias else selection.name.value
                    found = out.setdefault(name, (selection.name.value, []))
                    found[1].append(selection)
                    continue
                if isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    inner = selection.selection_set
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments[selection.name.value]
                    condition = fragment.type_condition
                    inner = fragment.selection_set
                else:  # pragma: no cover - graphql-core has no other selection
                    raise Unsupported("selection")
                if condition is not None and condition.name.value != type_name:
                    raise Unsupported("fragment on another type")
                self._walk(type_name, [inner], out)


class _Types:
    """The role schema's serialisers and nullability, by (type, field)."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def leaf(self, type_name: str, name: str, field_name: str) -> Leaf:
        gql_type = self.schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        gql_field = gql_type.fields[field_name]
        named = get_named_type(gql_field.type)
        if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
            raise Unsupported(f"{type_name}.{field_name} is not a leaf")
        return Leaf(
            name, field_name, named.serialize, not isinstance(gql_field.type, GraphQLNonNull)
        )

    def nullable(self, type_name: str, field_name: str) -> bool:
        gql_type = self.schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        return not isinstance(gql_type.fields[field_name].type, GraphQLNonNull)


def _rule(role: Role, type_name: str, field_name: str) -> RowRule | None:
    entry = entry_for(role, type_name, field_name)
    if isinstance(entry, RowRule):
        if entry.sql is None:
            raise Unsupported(f"{type_name}.{field_name}: row rule without a SQL form")
        return entry
    if entry is not Access.ALLOW:  # validation keeps hidden fields out; be sure
        raise Unsupported(f"{type_name}.{field_name} is not allowed")
    return None


def _plan_node(
    plan: Plan, role: Role, types: _Types, collect: _Collector, nodes: list[FieldNode]
) -> None:
    order_type = types.schema.type_map["Order"]
    assert isinstance(order_type, GraphQLObjectType)
    for name, (fname, fnodes) in collect("Order", _sets(nodes)).items():
        limit = None
        if fname == "events":
            limit = _events_limit(fnodes)
        elif fname != "__typename" and order_type.fields[fname].args:
            # e.g. a page or a cap on a relation: the compiler would not apply it
            raise Unsupported(f"Order.{fname} takes arguments")
        if fname == "__typename":
            plan.node.append((name, "Order"))
        elif fname in ORDER_COLUMNS:
            _rule_free(role, "Order", fname)
            column = getattr(models.Order, ORDER_COLUMNS[fname])
            plan.node.append((name, Column(types.leaf("Order", name, fname), column)))
        elif fname == "outlook":
            _rule_free(role, "Order", fname)
            plan.node.append((name, Computed(types.leaf("Order", name, fname))))
            plan.needs_thresholds = True
        elif fname == "alerts":
            _rule_free(role, "Order", fname)
            alerts = Alerts(name)
            for aname, (afield, _) in collect("Alert", _sets(fnodes)).items():
                if afield == "__typename":
                    alerts.fields.append((aname, "Alert"))
                elif afield in ALERT_ATTRIBUTES:
                    _rule_free(role, "Alert", afield)
                    alerts.fields.append((aname, types.leaf("Alert", aname, afield)))
                else:
                    raise Unsupported(f"Alert.{afield}")
            plan.node.append((name, alerts))
            plan.needs_thresholds = True
        elif fname in RELATIONS:
            _rule_free(role, "Order", fname)
            type_name, model, columns, many = RELATIONS[fname]
            rows = Rows(name, fname, model, many, types.nullable("Order", fname), limit=limit)
            for rname, (rfield, _) in collect(type_name, _sets(fnodes)).items():
                if rfield == "__typename":
                    rows.fields.append((rname, type_name))
                elif rfield in columns:
                    rule = _rule(role, type_name, rfield)
                    attribute = columns[rfield]
                    column_attr = getattr(model, attribute) if attribute != "line_total" else None
                    rows.fields.append(
                        (
                            rname,
                            Column(
                                types.leaf(type_name, rname, rfield),
                                column_attr,  # type: ignore[arg-type]  # None: lineTotal
                                rule,
                            ),
                        )
                    )
                else:
                    raise Unsupported(f"{type_name}.{rfield}")
            plan.node.append((name, rows))
        else:
            raise Unsupported(f"Order.{fname}")


def _events_limit(nodes: list[FieldNode]) -> int:
    """``Order.events``' page: its default, or a literal ``first`` within range; a
    variable, ``after`` or anything out of range runs on the ordinary path."""
    sizes = set()
    for node in nodes:
        given = {a.name.value: a.value for a in node.arguments or ()}
        if set(given) - {"first"}:
            raise Unsupported("Order.events(after:)")
        value = given.get("first")
        if value is None:
            sizes.add(EVENTS_PAGE)
        elif isinstance(value, IntValueNode) and 0 <= int(value.value) <= MAX_PAGE:
            sizes.add(int(value.value))
        else:
            raise Unsupported("Order.events(first:) not a literal page size")
    if len(sizes) != 1:
        raise Unsupported("Order.events with two page sizes")
    return sizes.pop()


def _rule_free(role: Role, type_name: str, field_name: str) -> None:
    if _rule(role, type_name, field_name) is not None:
        raise Unsupported(f"{type_name}.{field_name} has a row rule the compiler does not apply")
