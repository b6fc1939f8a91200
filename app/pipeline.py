"""One request pipeline for every transport: HTTP and WebSocket operations pass the
same steps, in the same order, with the same answers.

1. auth (``app.auth``) — by the transport, once per request or connection;
2. ``prepare``: the request's shape, then the document from the role's schema cache
   (parse with the token limit, depth/alias/directive/repetition limits, validation)
   and the query cost — all before any resolver or SQL runs;
3. ``execute``: admission control (at most ``MAX_CONCURRENT_EXECUTIONS`` operations
   at once per process; at most ``MAX_QUEUED_EXECUTIONS`` waiting, each at most
   ``ADMISSION_TIMEOUT_SECONDS``), then execution with the request's context, within
   ``REQUEST_TIMEOUT_SECONDS``;
4. ``Observation``: the metrics and the one JSON log line per operation.

An operation that cannot be served now — shed by admission, out of time, or the
database unreachable (``db.availability``) — raises ``Unavailable``: every transport
answers it the same way (HTTP 503 with ``Retry-After``, code ``SERVICE_UNAVAILABLE``),
and the log says which without any SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import DocumentNode, OperationType
from starlette.datastructures import State

from db.availability import is_unavailable
from db.engine import StatementCounter, start_counting
from permissions.principal import Principal
from schema.build import RoleSchema, schema_for
from schema.context import Context, make_context
from schema.execute import (
    execution_path,
    format_error,
    operation_name_of,
    operation_type,
    run,
)
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
        committed=getattr(state, "committed", state.relay.wake),
        public_url=state.settings.public_base_url(),
        webhook_secrets=getattr(state, "webhook_secrets", None),
    )


_UNAVAILABLE: Final = {
    "busy": "The server is busy; try again shortly.",
    "timeout": "The request took too long; try again shortly.",
    "database": "The database is unavailable; try again shortly.",
}


class Unavailable(Exception):
    """The operation cannot be served now; the caller may retry after ``retry_after``."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after

    def body(self, request_id: str) -> dict[str, Any]:
        """The response body: one error with a code a client can act on."""
        error = {
            "message": _UNAVAILABLE[self.reason],
            "extensions": {
                "code": "SERVICE_UNAVAILABLE",
                "reason": self.reason,
                "retryAfter": self.retry_after,
                "requestId": request_id,
            },
        }
        return {"errors": [error]}


@contextlib.asynccontextmanager
async def admitted(state: State) -> AsyncIterator[None]:
    """An execution slot, or ``Unavailable("busy")``: when too many operations already
    wait, or none frees up in time. Shedding keeps memory and latency bounded under
    overload instead of queueing without end."""
    settings = state.settings
    slots: asyncio.Semaphore = state.execution_slots
    waiting: int = getattr(state, "admission_waiting", 0)
    if slots.locked() and waiting >= settings.max_queued_executions:
        raise Unavailable("busy", settings.retry_after_seconds)
    state.admission_waiting = waiting + 1
    try:
        async with asyncio.timeout(settings.admission_timeout_seconds):
            await slots.acquire()
    except TimeoutError:
        raise Unavailable("busy", settings.retry_after_seconds) from None
    finally:
        state.admission_waiting -= 1
    try:
        yield
    finally:
        slots.release()


async def execute(
    state: State, principal: Principal, prepared: Prepared, request_id: str
) -> tuple[dict[str, Any], str]:
    """Step 3: admission, then execution; the response body and the outcome. Raises
    ``Unavailable`` when the operation cannot be served now."""
    settings = state.settings
    context = context_for(state, principal, request_id)
    async with admitted(state):
        try:
            async with asyncio.timeout(settings.request_timeout_seconds):
                result = await run(
                    prepared.schema,
                    prepared.document,
                    context=context,
                    variables=prepared.variables,
                    operation_name=prepared.operation_name,
                    compiled=settings.compiled_queries,
                )
        except TimeoutError:
            log.warning("request timed out", extra={"request_id": request_id})
            raise Unavailable("timeout", settings.retry_after_seconds) from None
        except Exception as error:
            if not is_unavailable(error):
                raise
            _log_unavailable(error, request_id)
            raise Unavailable("database", settings.retry_after_seconds) from None
    lost = next((e for e in result.errors or () if is_unavailable(e.original_error)), None)
    if lost is not None:
        # Not the usual masked error with a stack trace: the log names the failure's
        # kind only (never its SQL or parameters), and the caller may simply retry.
        _log_unavailable(lost.original_error, request_id)
        raise Unavailable("database", settings.retry_after_seconds)
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


def _log_unavailable(error: BaseException | None, request_id: str) -> None:
    log.warning(
        "database unavailable",
        extra={"request_id": request_id, "error": type(error).__name__ if error else None},
    )


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
                # "compiled" (schema.compiler) or "ordinary" (graphql-core); "" if refused
                "execution_path": execution_path(),
            },
        )
