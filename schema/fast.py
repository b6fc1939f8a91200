"""Cheaper resolvers for the ordinary execution path, through graphql-core's public API.

graphql-core calls ``GraphQLField.resolve`` (a public, documented attribute) for every
field. Strawberry puts its resolver wrapper there (an Info object, argument parsing,
the extension chain), which is what most of a page's fields do not need:

* a *plain leaf* (no resolver, no argument, no permission; a row-rule extension only
  where the policy table simply ALLOWs the field to the role) resolves to
  ``getattr(source, python_name)``; graphql-core completes and serialises it as usual,
  so errors, paths and masking are its own;
* a relation a page prefetched (``schema.prefetch``) answers from ``source.prefetched``.

No ``ExecutionContext`` subclass and no private graphql-core name: the executor is
graphql-core's own ``execute`` with Strawberry's execution context
(``tests/architecture/test_public_graphql.py`` keeps it so). A field with a row rule
(NULL per row) keeps Strawberry's resolver, with its permission check, in every role
whose policy entry is that rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import CoroutineType
from typing import Any, TypeGuard

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_nullable_type,
)
from graphql.pyutils import is_awaitable as graphql_is_awaitable
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from permissions.fields import RowPolicyExtension
from permissions.policy import Access, entry_for
from permissions.principal import Role

SLOW = object()  # "not prefetched: call the resolver"

_NEVER_AWAITABLE = frozenset(
    {str, int, float, bool, type(None), list, dict, Decimal, datetime, date}
)


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's check (``execute(is_awaitable=...)``, a public parameter), without
    its ``hasattr`` for the values that dominate."""
    kind = type(value)
    if kind is CoroutineType:
        return True
    if kind in _NEVER_AWAITABLE:
        return False
    return graphql_is_awaitable(value)


def _plain_for(
    role: Role, type_name: str, field_name: str, field: StrawberryField, gql_field: GraphQLField
) -> bool:
    """Whether resolving ``field`` is exactly ``getattr(source, python_name)`` for ``role``:
    a basic field (Strawberry's own default resolver), or one whose only extension is
    the row policy of a key the policy table simply ALLOWs to this role."""
    if field.base_resolver is not None or field.permission_classes or gql_field.args:
        return False
    if field.is_basic_field:
        return True
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
) -> dict[tuple[str, str], str]:
    """(type, field) -> Python attribute of every plain scalar/enum field."""
    found: dict[tuple[str, str], str] = {}
    for type_name, field_name, field, gql_field in _object_fields(
        graphql_schema, definition_of, graphql_name
    ):
        if not _plain_for(role, type_name, field_name, field, gql_field):
            continue
        if isinstance(get_nullable_type(gql_field.type), GraphQLScalarType | GraphQLEnumType):
            found[(type_name, field_name)] = field.python_name
    return found


def serve_plain_leaves(graphql_schema: GraphQLSchema, plain: Mapping[tuple[str, str], str]) -> None:
    """Resolve each plain leaf by attribute access (graphql-core completes the value)."""
    for (type_name, field_name), attribute in plain.items():
        gql_type = graphql_schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        gql_type.fields[field_name].resolve = _attribute(attribute)


def _attribute(name: str) -> Callable[..., Any]:
    def resolve_attribute(source: Any, info: Any) -> Any:
        return getattr(source, name)

    return resolve_attribute


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
