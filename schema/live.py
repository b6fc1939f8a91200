"""Live operations: what a subscriber receives of the feed, produced the one way
everything else is — by executing its GraphQL document against its role schema.

A subscription operation names one root field (``orderEvents`` or ``alertRaised``)
with its arguments. ``visible`` decides whether a feed entry reaches a caller (its
scope, the policy table's row content, the operation's arguments); ``source_of``
turns the entry into the GraphQL object the root field yields; ``project`` executes
the document with that object as the root value (graphql-core's public subscription
executor), so the payload passes the same types, row rules and scoped relations as
a query. The same three serve the plain Strawberry resolvers (one subscriber), the
process's multiplexed fan-out (one execution per audience and document) and the
delivery of webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    Executor,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute_subscription_event,
    get_argument_values,
    get_variable_values,
)

from db.feed import FeedEntry, FeedEvent
from db.queries.scope import order_in_scope
from db.scope import Scope
from permissions.policy import is_hidden
from schema.fast import is_awaitable
from schema.types.alerts import Alert
from schema.types.order_parts import OrderEvent

if TYPE_CHECKING:
    from schema.build import RoleSchema

ROOT_FIELDS = ("orderEvents", "alertRaised")


@dataclass(frozen=True)
class LiveOperation:
    """The root field of a subscription operation and its (coerced) arguments."""

    field: str
    order_id: str | None = None
    after: str | None = None


def live_operation(
    schema: RoleSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> LiveOperation:
    """The operation's root field and arguments; raises GraphQLError for anything that
    is not one known subscription field (validation has already run)."""
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        raise GraphQLError("Expected one subscription operation.")
    root_type = schema._schema.subscription_type
    fields = [s for s in operations[0].selection_set.selections if isinstance(s, FieldNode)]
    if root_type is None or len(fields) != 1 or fields[0].name.value not in ROOT_FIELDS:
        raise GraphQLError("A subscription selects exactly one root field.")
    node = fields[0]
    coerced = get_variable_values(
        schema._schema,
        operations[0].variable_definitions or (),
        dict(variables or {}),
        hide_suggestions=True,
    )
    if isinstance(coerced, list):
        raise coerced[0]
    definition = root_type.fields[node.name.value]
    args = get_argument_values(definition, node, coerced, hide_suggestions=True)
    order_id = args.get("orderId")
    after = args.get("after")
    return LiveOperation(
        field=node.name.value,
        order_id=str(order_id) if order_id is not None else None,
        after=str(after) if after is not None else None,
    )


def visible(scope: Scope, entry: FeedEntry, operation: LiveOperation) -> bool:
    """Whether ``entry`` reaches a caller with ``scope`` through ``operation``."""
    if not order_in_scope(
        scope,
        org=entry.org,
        order_id=entry.order_id,
        supplier_id=entry.supplier_id,
        client_id=entry.client_id,
    ):
        return False
    if isinstance(entry, FeedEvent):
        readable = scope.content.reads_event(entry.kind, entry.note_audience)
        if operation.field != "orderEvents" or not readable:
            return False
        return operation.order_id is None or operation.order_id == entry.order_id
    return operation.field == "alertRaised" and not is_hidden(
        scope.role, "Subscription", "alertRaised"
    )


def source_of(entry: FeedEntry, now: datetime) -> OrderEvent | Alert:
    """The object the root field yields for ``entry``."""
    if isinstance(entry, FeedEvent):
        return OrderEvent.from_row(entry)
    return Alert.from_feed(entry, now)


def executor_for(
    schema: RoleSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    context: Any,
) -> Executor[Any] | ExecutionResult:
    """The subscription document, ready to execute for source objects with ``context``
    (a request's loaders: sources executed together share its batches)."""
    executor = schema.execution_context_class.build(
        schema._schema,
        document,
        context_value=context,
        raw_variable_values=dict(variables or {}),
        operation_name=operation_name,
        is_awaitable=is_awaitable,
        hide_suggestions=True,
    )
    if isinstance(executor, list):
        return ExecutionResult(data=None, errors=executor)
    return executor


async def execute_for(executor: Executor[Any] | ExecutionResult, source: Any) -> ExecutionResult:
    """One execution of the document with ``source`` as what the root field returns
    (graphql-core's public per-event executor)."""
    if isinstance(executor, ExecutionResult):
        return executor
    result = execute_subscription_event(executor.build_per_event_executor(source))
    if is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result


async def project(
    schema: RoleSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    context: Any,
    source: OrderEvent | Alert,
) -> ExecutionResult:
    """Execute the subscription document for one source object."""
    executor = executor_for(
        schema, document, operation_name=operation_name, variables=variables, context=context
    )
    return await execute_for(executor, source)
