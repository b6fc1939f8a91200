"""One request pipeline for every transport: HTTP and WebSocket operations pass the
same steps, in the same order, with the same answers.

1. auth (``app.auth``) — by the transport, once per request or connection;
2. ``prepare``: the request's shape, then the document from the role's schema cache
   (parse with the token limit, depth/alias/directive/repetition limits, validation)
   and the query cost — all before any resolver or SQL runs;
3. ``execute``: admission control (at most ``MAX_CONCURRENT_EXECUTIONS`` operations
   at once per process), then execution with the request's context;
4. ``Observation``: the metrics and the one JSON log line per operation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, OperationType
from starlette.datastructures import State

from db.engine import StatementCounter, start_counting
from permissions.principal import Principal
from schema.build import RoleSchema, schema_for
from schema.context import Context, make_context
from schema.execute import format_error, operation_name_of, operation_type, run
from schema.limits import nul_input, query_cost

log = logging.getLogger("handoff.http")


@dataclass(frozen=True)
class Prepared:
    """A validated operation within every limit, ready to execute."""

    schema: RoleSchema
    document: DocumentNode
    operation_name: str | None
    kind: OperationType
    variables: dict[str, Any] | None


@dataclass(frozen=True)
class Refused:
    """Refused before execution: what the caller gets, and how it is counted."""

    outcome: str  # "bad_request" or "invalid"
    errors: list[dict[str, Any]]
    status: int = 200


def refused(message: str, *, outcome: str = "bad_request", status: int = 400) -> Refused:
    return Refused(outcome=outcome, errors=[{"message": message}], status=status)


def prepare(
    state: State, principal: Principal, params: Mapping[str, Any], request_id: str
) -> Prepared | Refused:
    """Steps 2: the request's shape, the document's limits and validity, the cost."""
    query = params.get("query")
    variables = params.get("variables")
    operation_name = params.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return refused("A query string is required.")
    if variables is not None and not isinstance(variables, dict):
        return refused("variables must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        return refused("operationName must be a string.")
    schema = schema_for(principal.role)
    document = state.documents.prepare(schema, query, state.limits)
    if isinstance(document, list):
        return Refused("invalid", [format_error(e, request_id) for e in document])
    operation_name = operation_name or operation_name_of(document)
    kind = operation_type(document, operation_name)
    if kind is None:
        return Refused("invalid", [{"message": "Unknown or ambiguous operation."}])
    nul = nul_input(document, variables)
    if nul is not None:
        return Refused("invalid", [dict(nul.formatted)])
    cost = query_cost(schema, document, operation_name, variables)
    if cost > state.limits.max_cost:
        message = (
            f"Query may return too many rows: cost {cost} (limit {state.limits.max_cost}). "
            "Ask for smaller pages, or fewer nested ones."
        )
        return Refused("invalid", [{"message": message}])
    return Prepared(schema, document, operation_name, kind, variables)


def context_for(state: State, principal: Principal, request_id: str) -> Context:
    """The request's context: its caller, one instant from the clock, the feed."""
    return make_context(
        principal=principal,
        db=state.db,
        now=state.clock(),
        request_id=request_id,
        live=state.hub,
        committed=state.relay.wake,
        public_url=state.settings.public_base_url(),
    )


async def execute(
    state: State, principal: Principal, prepared: Prepared, request_id: str
) -> tuple[dict[str, Any], str]:
    """Step 3: admission, then execution; the response body and the outcome."""
    context = context_for(state, principal, request_id)
    async with state.execution_slots:
        result = await run(
            prepared.schema,
            prepared.document,
            context=context,
            variables=prepared.variables,
            operation_name=prepared.operation_name,
        )
    payload: dict[str, Any] = {}
    outcome = "ok"
    if result.errors:
        outcome = "error"
        payload["errors"] = [format_error(e, request_id) for e in result.errors]
    # A request error (e.g. a variable of the wrong type) never started execution:
    # per the GraphQL spec the response then has no "data" entry at all.
    started = result.data is not None or any(e.path is not None for e in result.errors or [])
    if started:
        payload["data"] = result.data
    return payload, outcome


@dataclass
class Observation:
    """Step 4: one operation's metrics and its log line, whatever the transport."""

    state: State
    request_id: str
    transport: str
    principal: Principal | None = None
    operation_name: str | None = None
    outcome: str = "ok"
    started: float = field(default_factory=time.perf_counter)
    counter: StatementCounter = field(default_factory=start_counting)
    _done: bool = False

    def done(self) -> None:
        """Count and log the operation (once: a subscription is done when admitted)."""
        if self._done:
            return
        self._done = True
        elapsed = time.perf_counter() - self.started
        name = self.operation_name if isinstance(self.operation_name, str) else None
        self.state.metrics.observe(name, self.outcome, elapsed)
        p = self.principal
        log.info(
            "graphql request",
            extra={
                "request_id": self.request_id,
                "transport": self.transport,
                "role": p.role.value if p else None,
                "org": p.org if p else None,
                "operation": name,
                "duration_ms": round(elapsed * 1000, 2),
                "sql_statements": self.counter.count,
                "outcome": self.outcome,
            },
        )
