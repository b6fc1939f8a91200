"""Parse, validate (with limits) and execute one GraphQL request against a role schema.

graphql-core is called directly (not ``Schema.execute``) for three reasons: its
``hide_suggestions`` flag (no "Did you mean" for fields, arguments or enum values),
parse/validation caches keyed by (role, document), and cheap rejection of abusive
documents before any resolver runs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Visitor, visit

from schema.build import RoleSchema
from schema.errors import PublicError

log = logging.getLogger("handoff.graphql")

MASKED_MESSAGE = "Unexpected error."


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_directives: int = 50
    introspection: bool = True


class _Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.aliases = 0
        self.directives = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def enter_directive(self, *_: Any) -> None:
        self.directives += 1


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is None:
                deepest = max(deepest, 1)
            else:
                deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                deepest = max(deepest, _depth(fragment.selection_set, fragments, visiting | {name}))
    return deepest


def check_limits(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Depth, alias and directive limits; the token limit is enforced by the parser."""
    counter = _Counter()
    visit(document, counter)
    errors: list[GraphQLError] = []
    if counter.aliases > limits.max_aliases:
        errors.append(GraphQLError(f"Query uses too many aliases (limit {limits.max_aliases})."))
    if counter.directives > limits.max_directives:
        errors.append(
            GraphQLError(f"Query uses too many directives (limit {limits.max_directives}).")
        )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth = _depth(definition.selection_set, fragments, frozenset())
            if depth > limits.max_depth:
                errors.append(
                    GraphQLError(f"Query is too deep: {depth} levels (limit {limits.max_depth}).")
                )
    return errors


class DocumentCache:
    """LRU of parsed-and-validated documents per (role, query text)."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str], DocumentNode | list[GraphQLError]] = (
            OrderedDict()
        )

    def prepare(
        self, schema: RoleSchema, query: str, limits: Limits
    ) -> DocumentNode | list[GraphQLError]:
        key = (schema.role.value, query)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        result = _prepare(schema, query, limits)
        self._entries[key] = result
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return result


def _prepare(schema: RoleSchema, query: str, limits: Limits) -> DocumentNode | list[GraphQLError]:
    try:
        document = parse(query, max_tokens=limits.max_tokens, no_location=False)
    except GraphQLError as error:
        if "token limit" in error.message:
            return [GraphQLError(f"Query is too large (limit {limits.max_tokens} tokens).")]
        return [error]
    errors = check_limits(document, limits)
    if errors:
        return errors
    rules = specified_rules
    if not limits.introspection:
        rules = (*specified_rules, NoSchemaIntrospectionCustomRule)
    errors = validate(schema._schema, document, rules, hide_suggestions=True)
    return errors or document


def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0].operation if len(operations) == 1 else None
    for op in operations:
        if op.name is not None and op.name.value == operation_name:
            return op.operation
    return None


async def run(
    schema: RoleSchema,
    document: DocumentNode,
    *,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    result = execute(
        schema._schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
        hide_suggestions=True,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The user-facing shape of an error: safe ones verbatim, the rest masked and logged."""
    original = error.original_error
    # Safe: graphql-core's own errors (syntax, validation), ours, and input coercion
    # failures before execution (a scalar's ValueError describing the caller's input).
    safe = (
        original is None
        or isinstance(original, PublicError)
        or (error.path is None and isinstance(original, ValueError))
    )
    if safe:
        formatted: dict[str, Any] = {"message": error.message}
        if error.locations:
            formatted["locations"] = [
                {"line": loc.line, "column": loc.column} for loc in error.locations
            ]
        if error.path:
            formatted["path"] = error.path
        return formatted
    log.error(
        "unexpected error in resolver",
        exc_info=original,
        extra={"request_id": request_id, "path": error.path},
    )
    masked: dict[str, Any] = {"message": MASKED_MESSAGE, "extensions": {"requestId": request_id}}
    if error.path:
        masked["path"] = error.path
    return masked
