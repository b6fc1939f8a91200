"""The /graphql endpoint: transport rules, authentication, role routing, responses."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from app.auth import Refusal, authenticate, request_id_from, unauthorized
from app.pipeline import Observation, Refused, Unavailable, execute, prepare
from db.availability import is_unavailable
from schema.execute import execution_path

log = logging.getLogger("handoff.http")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON, headers=headers)


def _request_error(message: str, status: int = 400) -> Response:
    return _json({"errors": [{"message": message}]}, status)


UNAUTHORIZED = {"errors": [{"message": "Authentication required."}]}


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
    seen = Observation(state, request_id, "http")
    try:
        found = await authenticate(state.verifier, request.headers.get("authorization", ""))
        if isinstance(found, Refusal):
            seen.outcome = "unauthorized"
            return unauthorized(found, request_id)
        seen.principal = found
        params = await _params(request, settings.max_body_bytes)
        if isinstance(params, Response):
            seen.outcome = "bad_request"
            return params
        seen.operation_name = params.get("operationName")
        prepared = prepare(state, seen.principal, params, request_id)
        if isinstance(prepared, Refused):
            seen.outcome = prepared.outcome
            return _json({"errors": prepared.errors}, prepared.status)
        seen.operation_name = prepared.operation_name
        if request.method == "GET" and prepared.kind is not OperationType.QUERY:
            seen.outcome = "bad_request"
            return _request_error("Only queries may be sent with GET; use POST.", 405)
        if prepared.kind is OperationType.SUBSCRIPTION:
            seen.outcome = "bad_request"
            return _request_error("Subscriptions are served over WebSocket.")
        payload, seen.outcome = await execute(state, seen.principal, prepared, request_id)
        headers = {"X-Request-Id": request_id, "X-Execution-Path": execution_path()}
        return _json(payload, headers=headers)
    except Unavailable as refusal:
        seen.outcome = f"unavailable_{refusal.reason}"
        headers = {"Retry-After": str(refusal.retry_after), "X-Request-Id": request_id}
        return _json(refusal.body(request_id), 503, headers)
    except Exception as error:
        if is_unavailable(error):
            seen.outcome = "unavailable_database"
            lost = Unavailable("database", settings.retry_after_seconds)
            log.warning("database unavailable", extra={"request_id": request_id})
            headers = {"Retry-After": str(lost.retry_after), "X-Request-Id": request_id}
            return _json(lost.body(request_id), 503, headers)
        seen.outcome = "exception"
        log.exception("request failed", extra={"request_id": request_id})
        return _json(
            {"errors": [{"message": "Unexpected error.", "extensions": {"requestId": request_id}}]},
            500,
        )
    finally:
        seen.done()
