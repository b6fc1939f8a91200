"""The fast path of execution: plain leaf fields without graphql-core's per-field machinery.

Most of a dashboard response is plain leaves (numbers, names, dates) copied from rows.
graphql-core resolves each through a resolve-info object, Strawberry's resolver wrapper
and the generic completion dispatch. For a field Strawberry itself calls *basic* (no
resolver, no extension, no permission; ``getattr`` on the source) whose type is a
scalar or enum, the result is ``coerce_output_value(getattr(source, attribute))``, which
is what this executor computes directly. Anything unusual (null in a non-null field, a
serialiser that fails) falls back to the ordinary path, so errors, paths and masking
are exactly graphql-core's. A field with a row rule (NULL per row) takes the ordinary
path, with its permission check, in every role whose policy entry is that rule; only
where the policy table says plain ALLOW is it a plain leaf.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import CoroutineType
from typing import Any, ClassVar, NamedTuple, TypeGuard

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
)
from graphql.pyutils import is_awaitable as graphql_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from permissions.fields import RowPolicyExtension
from permissions.policy import Access, entry_for
from permissions.principal import Role

SLOW = object()  # "take the ordinary path"


class PlainLeaf(NamedTuple):
    attribute: str
    leaf: GraphQLScalarType | GraphQLEnumType
    nullable: bool
    # Enums: member -> serialised name, filled on first use (serialising a member is
    # pure, and Python's enum attribute access is slow on this path).
    names: dict[Any, Any] | None

    def value_of(self, source: Any) -> Any:
        """The serialised value, or ``SLOW`` for anything the ordinary path must report
        (null in a non-null field, a value the scalar refuses)."""
        try:
            value = getattr(source, self.attribute)
            if value is None:
                return None if self.nullable else SLOW
            names = self.names
            if names is not None and value in names:
                return names[value]
            out = self.leaf.coerce_output_value(value)
        except Exception:
            return SLOW
        if out is None or out is Undefined:
            return SLOW
        if names is not None:
            names[value] = out
        return out


_NEVER_AWAITABLE = frozenset(
    {str, int, float, bool, type(None), list, dict, Decimal, datetime, date}
)


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's check, without its ``hasattr`` for the values that dominate."""
    kind = type(value)
    if kind is CoroutineType:
        return True
    if kind in _NEVER_AWAITABLE:
        return False
    return graphql_is_awaitable(value)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Executes plain leaves inline; set ``plain`` per schema (``with_plain_leaves``)."""

    plain: ClassVar[Mapping[tuple[str, str], PlainLeaf]] = {}

    def execute_fields(  # type: ignore[no-untyped-def]
        self, parent_type, source_value, path, grouped_field_set, position_context
    ):
        """Plain leaves in one tight loop (no path, resolve info or resolver call per
        field); the other fields through graphql-core, merged back in selection order."""
        plain = self.plain
        type_name = parent_type.name
        fast: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = plain.get((type_name, field_details_list[0].node.name.value))
            if leaf is not None:
                out = leaf.value_of(source_value)
                if out is not SLOW:
                    fast[response_name] = out
                    continue
            rest[response_name] = field_details_list
        if not rest:
            return fast
        if not fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        order = list(grouped_field_set)
        if isinstance(others, dict):
            return _in_order(order, fast, others)

        async def merged() -> dict[str, Any]:
            return _in_order(order, fast, await others)

        return merged()

    def complete_iterable_value(  # type: ignore[no-untyped-def]
        self, item_type, field_details_list, info, path, items, position_context
    ):
        """A list of objects whose selected fields are all plain leaves (order lines,
        events, shipments, alerts) becomes a list of dicts in one loop, skipping six
        levels of per-item completion. Any item the fast path cannot answer exactly
        sends the whole list down the ordinary path."""
        plan = self._plain_object(item_type, field_details_list)
        if plan is not None and isinstance(items, list):
            completed = _plain_objects(plan, items, info)
            if completed is not None:
                return completed
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_object(self, item_type: Any, field_details_list: Any) -> _Plan | None:
        """How to complete list items of ``item_type`` when every selected field is a
        plain leaf; memoised per execution like graphql-core's ``collect_subfields``."""
        key = (item_type, id(field_details_list))
        cache: dict[Any, Any] = self.__dict__.setdefault("_plain_objects", {})
        if key in cache:
            return cache[key][1]  # type: ignore[no-any-return]
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        plan = None
        if isinstance(object_type, GraphQLObjectType):
            grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
            fields = [
                (name, self.plain.get((object_type.name, details[0].node.name.value)))
                for name, details in grouped.items()
            ]
            if not defer_usages and fields and all(leaf is not None for _, leaf in fields):
                plan = _Plan(object_type, [(n, leaf) for n, leaf in fields if leaf is not None])
        # keep field_details_list alive with its plan, so its id cannot be reused
        cache[key] = (field_details_list, plan)
        return plan


class _Plan(NamedTuple):
    object_type: GraphQLObjectType
    fields: list[tuple[str, PlainLeaf]]


def _plain_objects(plan: _Plan, items: list[Any], info: Any) -> list[dict[str, Any]] | None:
    """Each item as {response name: value}; None if any item needs the ordinary path."""
    is_type_of = plan.object_type.is_type_of
    completed: list[dict[str, Any]] = []
    for item in items:
        if item is None or (is_type_of is not None and not is_type_of(item, info)):
            return None
        values: dict[str, Any] = {}
        for response_name, leaf in plan.fields:
            value = leaf.value_of(item)
            if value is SLOW:
                return None
            values[response_name] = value
        completed.append(values)
    return completed


def _in_order(order: list[str], fast: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    return {
        name: fast[name] if name in fast else others[name]
        for name in order
        if name in fast or name in others
    }


def _plain_for(
    role: Role, type_name: str, field_name: str, field: StrawberryField, gql_field: GraphQLField
) -> bool:
    """Whether resolving ``field`` is exactly ``getattr(source, python_name)`` for ``role``:
    a basic field (Strawberry's own default resolver), or one whose only extension is
    the row policy of a key the policy table simply ALLOWs to this role."""
    if field.base_resolver is not None or field.permission_classes or gql_field.args:
        return False
    if field.is_basic_field:
        return bool(getattr(gql_field.resolve, "_is_default", False))
    return bool(field.extensions) and all(
        isinstance(e, RowPolicyExtension)
        and e.key == f"{type_name}.{field_name}"
        and entry_for(role, type_name, field_name) is Access.ALLOW
        for e in field.extensions
    )


def plain_leaves(
    role: Role,
    graphql_schema: GraphQLSchema,
    definition_of: Mapping[str, StrawberryObjectDefinition],
    graphql_name: Any,
) -> dict[tuple[str, str], PlainLeaf]:
    """(type, field) of every plain scalar/enum field of every object type."""
    found: dict[tuple[str, str], PlainLeaf] = {}
    for type_name, field_name, field, gql_field in _object_fields(
        graphql_schema, definition_of, graphql_name
    ):
        if not _plain_for(role, type_name, field_name, field, gql_field):
            continue
        nullable = not isinstance(gql_field.type, GraphQLNonNull)
        leaf = get_nullable_type(gql_field.type)
        if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
            names: dict[Any, Any] | None = {} if isinstance(leaf, GraphQLEnumType) else None
            found[(type_name, field_name)] = PlainLeaf(field.python_name, leaf, nullable, names)
    return found


def _object_fields(
    graphql_schema: GraphQLSchema,
    definition_of: Mapping[str, StrawberryObjectDefinition],
    graphql_name: Any,
    *,
    only: Callable[[StrawberryObjectDefinition], bool] = lambda _: True,
) -> Iterator[tuple[str, str, StrawberryField, GraphQLField]]:
    """(type name, field name, Strawberry field, GraphQL field) of every object type's
    fields that has a Strawberry definition (``only`` those definitions it accepts)."""
    for type_name, gql_type in graphql_schema.type_map.items():
        definition = definition_of.get(type_name)
        if not isinstance(gql_type, GraphQLObjectType) or definition is None:
            continue
        if not only(definition):
            continue
        by_name = {graphql_name(f): f for f in definition.fields}
        for field_name, gql_field in gql_type.fields.items():
            field = by_name.get(field_name)
            if field is not None:
                yield type_name, field_name, field, gql_field


def serve_prefetched(
    graphql_schema: GraphQLSchema,
    definition_of: Mapping[str, StrawberryObjectDefinition],
    graphql_name: Any,
) -> None:
    """Let relation fields answer from ``source.prefetched`` before Strawberry's resolver
    wrapper runs (an Info object, argument parsing and the extension chain, per order
    and field).

    Only resolver fields without arguments, extensions or permissions, on types whose
    instances carry a ``prefetched`` dict. What the dict holds under a field's Python
    name is exactly what its resolver would return (``schema.prefetch`` fills it); a
    field not prefetched goes to its resolver as before.
    """

    def carries_prefetched(definition: StrawberryObjectDefinition) -> bool:
        return "prefetched" in getattr(definition.origin, "__dataclass_fields__", {})

    for _, _, field, gql_field in _object_fields(
        graphql_schema, definition_of, graphql_name, only=carries_prefetched
    ):
        if (
            field.base_resolver is None
            or field.extensions
            or field.permission_classes
            or gql_field.args
            or gql_field.resolve is None
        ):
            continue
        gql_field.resolve = _prefetched_first(field.python_name, gql_field.resolve)


def _prefetched_first(key: str, resolve: Any) -> Any:
    def resolve_prefetched(source: Any, info: Any, **kwargs: Any) -> Any:
        found = source.prefetched.get(key, SLOW)
        return resolve(source, info, **kwargs) if found is SLOW else found

    return resolve_prefetched


def with_plain_leaves(
    name: str, plain: Mapping[tuple[str, str], PlainLeaf]
) -> type[FastExecutionContext]:
    return type(name, (FastExecutionContext,), {"plain": dict(plain)})
