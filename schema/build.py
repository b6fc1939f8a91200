"""One Strawberry schema per role, cut from the same types by the policy table.

HIDE is structural: a hidden field, input field, enum value or root field is not
in the role's schema at all, so it is absent from introspection and SDL and
selecting it fails exactly like a field that never existed. Types no visible
field reaches (``Supplier`` for a client) drop out of that role's schema.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLEnumType, GraphQLSchema, print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from permissions.policy import is_hidden
from permissions.principal import Role
from schema.descriptions import apply_descriptions
from schema.fast import plain_leaves, serve_plain_leaves, serve_prefetched
from schema.mutations import Mutation
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES
from schema.subscription import Subscription

SDL_DIR = Path(__file__).parent / "sdl"


class RoleSchema(strawberry.Schema):
    """A Strawberry schema filtered to what ``role`` may see."""

    def __init__(self, role: Role, **kwargs: Any) -> None:
        self.role = role  # read by get_fields, which runs inside super().__init__
        super().__init__(**kwargs)
        _drop_hidden_enum_values(self._schema, role)
        apply_descriptions(self._schema, role)
        definitions = {
            name: d
            for name in self._schema.type_map
            if isinstance(d := self.get_type_by_name(name), StrawberryObjectDefinition)
        }
        serve_prefetched(self._schema, definitions, self.config.name_converter.from_field)
        self.plain_leaves = plain_leaves(
            role, self._schema, definitions, self.config.name_converter.from_field
        )
        serve_plain_leaves(self._schema, self.plain_leaves)

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """graphql-core's schema for this role (Strawberry keeps it as ``_schema``)."""
        return self._schema

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        # The GraphQL name: a generic's specialisation (``Connection[Order]``) is
        # ``OrderConnection`` in the schema and in the policy table.
        type_name = self.config.name_converter.from_object(type_definition)
        name_of = self.config.name_converter.from_field
        return [
            f for f in type_definition.fields if not is_hidden(self.role, type_name, name_of(f))
        ]


def _drop_hidden_enum_values(schema: GraphQLSchema, role: Role) -> None:
    for gql_type in schema.type_map.values():
        if isinstance(gql_type, GraphQLEnumType) and not gql_type.name.startswith("__"):
            for value in [v for v in gql_type.values if is_hidden(role, gql_type.name, v)]:
                del gql_type.values[value]


def _has_visible(role: Role, root: type) -> bool:
    definition: StrawberryObjectDefinition = root.__strawberry_definition__  # type: ignore[attr-defined]
    converter = StrawberryConfig().name_converter
    return any(
        not is_hidden(role, definition.name, converter.from_field(f)) for f in definition.fields
    )


@cache
def schema_for(role: Role) -> RoleSchema:
    """The (cached) schema of ``role``; built once per process."""
    return RoleSchema(
        role,
        query=Query,
        mutation=Mutation if _has_visible(role, Mutation) else None,
        subscription=Subscription if _has_visible(role, Subscription) else None,
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=True),
        scalar_overrides=SCALAR_OVERRIDES,
    )


def sdl_for(role: Role) -> str:
    """The role's SDL as graphql-core prints it (enum values already filtered)."""
    return print_schema(schema_for(role).graphql_schema) + "\n"


def sdl_path(role: Role) -> Path:
    return SDL_DIR / f"{role.value}.graphql"
