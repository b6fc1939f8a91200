"""Parse, validate (with limits) and execute one GraphQL request against a role schema.

graphql-core is called directly (not ``Schema.execute``) for three reasons: its
``hide_suggestions`` flag (no "Did you mean" for fields, arguments or enum values),
parse/validation caches keyed by (role, document), and cheap rejection of abusive
documents before any resolver runs.
"""

from __future__ import annotations

import contextvars
import logging
from collections import OrderedDict
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)

from schema.build import RoleSchema
from schema.compiler import PLANS, Compiled, execute_compiled
from schema.errors import PublicError
from schema.fast import is_awaitable
from schema.hints import with_role_hints
from schema.limits import Limits, check_limits

log = logging.getLogger("handoff.graphql")

MASKED_MESSAGE = "Unexpected error."


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
        if "more than" in error.message and "tokens" in error.message:
            return [GraphQLError(f"Query is too large (limit {limits.max_tokens} tokens).")]
        return [error]
    errors = check_limits(document, limits)
    if errors:
        return errors
    rules = specified_rules
    if not limits.introspection:
        rules = (*specified_rules, NoSchemaIntrospectionCustomRule)
    errors = validate(schema.graphql_schema, document, rules, hide_suggestions=True)
    return with_role_hints(schema.role, errors) or document


def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0].operation if len(operations) == 1 else None
    for op in operations:
        if op.name is not None and op.name.value == operation_name:
            return op.operation
    return None


def operation_name_of(document: DocumentNode) -> str | None:
    """The name of the document's only operation, if it has exactly one and it is named."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) == 1 and operations[0].name is not None:
        return operations[0].name.value
    return None


_path: contextvars.ContextVar[str] = contextvars.ContextVar("handoff_execution_path", default="")


def execution_path() -> str:
    """Which path the last ``run`` in this context took: "compiled" or "ordinary"."""
    return _path.get()


async def run(
    schema: RoleSchema,
    document: DocumentNode,
    *,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    compiled: bool = False,
) -> ExecutionResult:
    """Execute ``document``: compiled to SQL when ``compiled`` and the compiler covers
    it (``schema.compiler``), else graphql-core's ``execute`` (the ordinary path)."""
    if compiled:
        plan = PLANS.get(schema.role, schema.graphql_schema, document, operation_name)
        if isinstance(plan, Compiled):
            answer = await execute_compiled(
                plan,
                schema.graphql_schema,
                db=context.db,
                scope=context.scope,
                now=context.now,
                variables=variables,
            )
            if answer is not None:
                _path.set("compiled")
                return answer
        if log.isEnabledFor(logging.DEBUG):
            reason = plan if isinstance(plan, str) else "this request's values"
            log.debug(
                "ordinary execution path",
                extra={"request_id": context.request_id, "fallback_reason": reason},
            )
    _path.set("ordinary")
    result = execute(
        schema.graphql_schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
        is_awaitable=is_awaitable,
        hide_suggestions=True,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The user-facing shape of an error: safe ones verbatim, the rest masked and logged."""
    original = error.original_error
    # Safe: graphql-core's own errors (syntax, validation), ours, and input coercion
    # failures before execution (graphql-core wraps a scalar's ValueError describing
    # the caller's own input in a GraphQLError).
    safe = (
        original is None
        or isinstance(original, PublicError)
        or (error.path is None and isinstance(original, ValueError | GraphQLError))
    )
    if safe:
        formatted: dict[str, Any] = {"message": error.message}
        if error.locations:
            formatted["locations"] = [
                {"line": loc.line, "column": loc.column} for loc in error.locations
            ]
        if error.path:
            formatted["path"] = error.path
        if isinstance(original, PublicError) and original.extensions:
            formatted["extensions"] = dict(original.extensions)  # e.g. a code clients switch on
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
