"""The tools the fast-path tests share (their world is ``worlds/fast_path.py``):
selection sets of every field a role's schema offers, and a runner that executes one
document with the role's fast executor or with graphql-core's ordinary one.

Not ``conftest.py``: pytest imports that file as the module ``conftest``, so helpers in
it could not be imported next to the root conftest's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    execute,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    parse,
    validate,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from db.engine import Database
from permissions.principal import Principal, Role
from schema.build import RoleSchema, schema_for
from schema.context import make_context
from schema.execute import run

# -- selection sets ------------------------------------------------------------------------


def every_field(schema: GraphQLSchema, type_name: str, depth: int, page: int = 3) -> str:
    """``{ ... }`` selecting every field of ``type_name`` in ``schema``, inline, down to
    ``depth`` object levels (leaves only at the last). Fields with required arguments
    are left out; connections below take ``first: page``."""
    gql_type = schema.get_type(type_name)
    assert isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
    if isinstance(gql_type, GraphQLUnionType):
        return "{ __typename }"
    parts = ["__typename"]
    for name, field in gql_type.fields.items():
        if any(is_required_argument(a) for a in field.args.values()):
            continue
        named = get_named_type(field.type)
        # Connections take small pages; a bounded list (Order.events) its largest.
        size = page if named.name.endswith("Connection") else 100
        args = f"(first: {size})" if "first" in field.args else ""
        if is_leaf_type(named):
            parts.append(name + args)
        elif depth > 1:
            parts.append(f"{name}{args} {every_field(schema, named.name, depth - 1, page)}")
    return "{ " + " ".join(parts) + " }"


def order_page_document(role: Role, first: int = 50, depth: int = 6) -> str:
    """``orders(first:)`` with every field the role's schema offers below it."""
    schema = schema_for(role)._schema
    return (
        f"query Orders {{ orders(first: {first}) {every_field(schema, 'OrderConnection', depth)} }}"
    )


# -- running a document both ways ----------------------------------------------------------


@dataclass(frozen=True)
class Runner:
    """Executes documents as one role, each run with a fresh request context."""

    db: Database
    now: datetime
    principal: Principal

    @property
    def schema(self) -> RoleSchema:
        return schema_for(self.principal.role)

    def _context(self, request_id: str) -> Any:
        return make_context(
            principal=self.principal, db=self.db, now=self.now, request_id=request_id
        )

    def _document(self, query: str) -> Any:
        document = parse(query)
        assert validate(self.schema._schema, document) == []
        return document

    async def fast(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        """The role schema's own executor, exactly as the endpoint runs it."""
        context = self._context("fast")
        return await run(
            self.schema,
            self._document(query),
            context=context,
            variables=variables,
            operation_name=None,
        )

    async def ordinary(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> ExecutionResult:
        """graphql-core's ordinary path: Strawberry's execution context, no plain leaves."""
        result = execute(
            self.schema._schema,
            self._document(query),
            context_value=self._context("ordinary"),
            variable_values=variables,
            executor_class=StrawberryGraphQLCoreExecutionContext,
            hide_suggestions=True,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        return result


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def leaked(value: Any, canaries: dict[str, str]) -> dict[str, str]:
    """The canaries found in the JSON of ``value``, case-insensitively."""
    text = as_json(value).lower()
    return {name: c for name, c in canaries.items() if c.lower() in text}
