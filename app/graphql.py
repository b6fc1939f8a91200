"""The /graphql endpoint: transport rules, authentication, role routing, responses."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.auth import Refusal, authenticate, request_id_from, unauthorized
from db.engine import start_counting
from schema.build import schema_for
from schema.context import make_context
from schema.execute import (
    format_error,
    operation_name_of,
    operation_type,
    query_cost,
    run,
)

log = logging.getLogger("handoff.http")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON, headers=headers)


def _request_error(message: str, status: int = 400) -> Response:
    return _json({"errors": [{"message": message}]}, status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def _params(request: Request, max_body: int) -> dict[str, Any] | Response:
    if request.method == "GET":
        q = request.query_params
        params: dict[str, Any] = {
            "query": q.get("query"),
            "operationName": q.get("operationName"),
            "variables": None,
        }
        if "variables" in q:
            try:
                params["variables"] = orjson.loads(q["variables"])
            except orjson.JSONDecodeError:
                return _request_error("variables must be a JSON object.")
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (JSON, GRAPHQL_RESPONSE):
        # Form posts are what a cross-site request forgery can send; JSON only.
        return _request_error("Content-Type must be application/json.", 415)
    body = await _read_body(request, max_body)
    if body is None:
        return _request_error(f"Request body is too large (limit {max_body} bytes).", 413)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _request_error("Request body is not valid JSON.")
    if isinstance(parsed, list):
        return _request_error("Batched requests are not supported.")
    if not isinstance(parsed, dict):
        return _request_error("Request body must be a JSON object.")
    return parsed


async def graphql_endpoint(request: Request) -> Response:
    state = request.app.state
    settings = state.settings
    if (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
        and settings.graphiql_enabled
    ):
        return HTMLResponse(state.graphiql_html)

    request_id = request_id_from(request.headers)
    started = time.perf_counter()
    outcome = "ok"
    principal = None
    operation_name = None
    counter = start_counting()
    try:
        found = await authenticate(state.verifier, request.headers.get("authorization", ""))
        if isinstance(found, Refusal):
            outcome = "unauthorized"
            return unauthorized(found, request_id)
        principal = found
        params = await _params(request, settings.max_body_bytes)
        if isinstance(params, Response):
            outcome = "bad_request"
            return params
        query = params.get("query")
        variables = params.get("variables")
        operation_name = params.get("operationName")
        if not isinstance(query, str) or not query.strip():
            outcome = "bad_request"
            return _request_error("A query string is required.")
        if variables is not None and not isinstance(variables, dict):
            outcome = "bad_request"
            return _request_error("variables must be a JSON object.")
        if operation_name is not None and not isinstance(operation_name, str):
            outcome = "bad_request"
            return _request_error("operationName must be a string.")

        schema = schema_for(principal.role)
        prepared = state.documents.prepare(schema, query, state.limits)
        if isinstance(prepared, list):
            outcome = "invalid"
            return _json({"errors": [format_error(e, request_id) for e in prepared]})
        operation_name = operation_name or operation_name_of(prepared)
        op = operation_type(prepared, operation_name)
        if op is None:
            outcome = "invalid"
            return _json({"errors": [{"message": "Unknown or ambiguous operation."}]})
        if request.method == "GET" and op is not OperationType.QUERY:
            outcome = "bad_request"
            return _request_error("Only queries may be sent with GET; use POST.", 405)
        cost = query_cost(schema, prepared, operation_name, variables)
        if cost > state.limits.max_cost:
            outcome = "invalid"
            message = (
                f"Query may return too many rows: cost {cost} (limit {state.limits.max_cost}). "
                "Ask for smaller pages, or fewer nested ones."
            )
            return _json({"errors": [{"message": message}]})
        if op is OperationType.SUBSCRIPTION:
            outcome = "bad_request"
            return _request_error("Subscriptions are served over WebSocket.")

        context = make_context(
            principal=principal,
            db=state.db,
            now=state.clock(),
            request_id=request_id,
            bus=state.bus,
        )
        async with state.execution_slots:
            result = await run(
                schema,
                prepared,
                context=context,
                variables=variables,
                operation_name=operation_name,
            )
        payload: dict[str, Any] = {}
        if result.errors:
            outcome = "error"
            payload["errors"] = [format_error(e, request_id) for e in result.errors]
        # A request error (e.g. a variable of the wrong type) never started execution:
        # per the GraphQL spec the response then has no "data" entry at all.
        started_execution = result.data is not None or any(
            e.path is not None for e in result.errors or []
        )
        if started_execution:
            payload["data"] = result.data
        return _json(payload, headers={"X-Request-Id": request_id})
    except Exception:
        outcome = "exception"
        log.exception("request failed", extra={"request_id": request_id})
        return _json(
            {"errors": [{"message": "Unexpected error.", "extensions": {"requestId": request_id}}]},
            500,
        )
    finally:
        state.metrics.observe(
            operation_name if isinstance(operation_name, str) else None,
            outcome,
            time.perf_counter() - started,
        )
        log.info(
            "graphql request",
            extra={
                "request_id": request_id,
                "role": principal.role.value if principal else None,
                "org": principal.org if principal else None,
                "operation": operation_name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "sql_statements": counter.count,
                "outcome": outcome,
            },
        )
