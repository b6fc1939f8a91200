"""A hint for the buyer who selects another role's operation.

The buyer owns the data, so telling it that ``acknowledgeOrder`` exists for suppliers
gives nothing away; clients and suppliers get the plain "Cannot query field" of a
field that never existed, with no hint and no suggestion. Which roles an operation
belongs to comes from the policy table, never from a list kept here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graphql import GraphQLError

from permissions.policy import Access, access
from permissions.principal import Role

_UNKNOWN_ROOT_FIELD = re.compile(
    r"Cannot query field '(?P<field>\w+)' on type '(?P<type>Query|Mutation|Subscription)'\."
)
_KIND = {"Query": "query", "Mutation": "operation", "Subscription": "subscription"}


def owners(type_name: str, field: str) -> list[Role]:
    """The roles the policy table lets see ``type_name.field``."""
    return [role for role in Role if access(role, type_name, field) is not Access.HIDE]


def _hint(type_name: str, field: str) -> str | None:
    roles = owners(type_name, field)
    if not roles or Role.BUYER in roles:
        return None  # unknown to everyone, or not hidden from the buyer after all
    names = " or ".join(r.value for r in roles)
    tokens = " or ".join(f"a {r.value}'s" for r in roles)
    return f"{field} is a {names} {_KIND[type_name]}: it needs {tokens} token."


def with_role_hints(role: Role, errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """``errors`` with a hint appended where a buyer selected another role's root field;
    for any other role, ``errors`` unchanged."""
    if role is not Role.BUYER:
        return list(errors)
    hinted: list[GraphQLError] = []
    for error in errors:
        match = _UNKNOWN_ROOT_FIELD.fullmatch(error.message)
        hint = match and _hint(match["type"], match["field"])
        if hint:
            error = GraphQLError(
                f"{error.message} {hint}",
                error.nodes,
                error.source,
                error.positions,
                error.path,
                error.original_error,
            )
        hinted.append(error)
    return hinted
