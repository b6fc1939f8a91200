"""GraphQL over WebSocket (the graphql-transport-ws protocol), one role schema per
connection, chosen by the token in ``connection_init`` (or the upgrade request's
Authorization header). Subscriptions only; queries and mutations go over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from typing import Any

from graphql import ExecutionResult, OperationType, subscribe
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.auth import principal_from
from permissions.principal import Principal
from schema.build import schema_for
from schema.context import make_context
from schema.execute import format_error, operation_name_of, operation_type

log = logging.getLogger("handoff.ws")

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT_SECONDS = 10
MAX_SUBSCRIPTIONS = 20


def _header(websocket: WebSocket, payload: Any) -> str:
    """connection_init's Authorization, else the upgrade request's header."""
    if isinstance(payload, dict):
        for key in ("Authorization", "authorization"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return websocket.headers.get("authorization", "")


async def graphql_ws(websocket: WebSocket) -> None:
    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.close(code=4406)  # Subprotocol not acceptable
        return
    await websocket.accept(subprotocol=PROTOCOL)
    try:
        init = await asyncio.wait_for(websocket.receive_json(), INIT_TIMEOUT_SECONDS)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        await websocket.close(code=4408)  # Connection initialisation timeout
        return
    if not isinstance(init, dict) or init.get("type") != "connection_init":
        await websocket.close(code=4400)
        return
    principal = await principal_from(
        websocket.app.state.verifier, _header(websocket, init.get("payload"))
    )
    if principal is None:
        await websocket.close(code=4403)  # Forbidden, no detail
        return
    await websocket.send_json({"type": "connection_ack"})
    running: dict[str, asyncio.Task[None]] = {}
    try:
        while True:
            message = await websocket.receive_json()
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "ping":
                await websocket.send_json({"type": "pong"})
            elif kind == "subscribe":
                sub_id = message.get("id")
                if not isinstance(sub_id, str) or not sub_id or len(sub_id) > 100:
                    await websocket.close(code=4400)
                    return
                if sub_id in running:
                    await websocket.close(code=4409)  # Subscriber already exists
                    return
                if len(running) >= MAX_SUBSCRIPTIONS:
                    await _send_error(websocket, sub_id, "Too many subscriptions.")
                    continue
                running[sub_id] = asyncio.create_task(
                    _run(websocket, principal, sub_id, message.get("payload"), running)
                )
            elif kind == "complete":
                task = running.pop(str(message.get("id")), None)
                if task is not None:
                    task.cancel()
            elif kind == "pong":
                continue
            else:
                await websocket.close(code=4400)
                return
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        for task in running.values():
            task.cancel()
        for task in running.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _send_error(websocket: WebSocket, sub_id: str, message: str) -> None:
    await websocket.send_json({"type": "error", "id": sub_id, "payload": [{"message": message}]})


async def _run(
    websocket: WebSocket,
    principal: Principal,
    sub_id: str,
    payload: Any,
    running: dict[str, asyncio.Task[None]],
) -> None:
    state = websocket.app.state
    request_id = uuid.uuid4().hex
    try:
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            await _send_error(websocket, sub_id, "A query string is required.")
            return
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            await _send_error(websocket, sub_id, "variables must be a JSON object.")
            return
        schema = schema_for(principal.role)
        prepared = state.documents.prepare(schema, payload["query"], state.limits)
        if isinstance(prepared, list):
            await websocket.send_json(
                {
                    "type": "error",
                    "id": sub_id,
                    "payload": [format_error(e, request_id) for e in prepared],
                }
            )
            return
        name = payload.get("operationName") or operation_name_of(prepared)
        if operation_type(prepared, name) is not OperationType.SUBSCRIPTION:
            await _send_error(websocket, sub_id, "Only subscriptions are served over WebSocket.")
            return
        context = make_context(
            principal=principal,
            db=state.db,
            now=state.clock(),
            request_id=request_id,
            bus=state.bus,
        )
        stream = subscribe(
            schema._schema,
            prepared,
            context_value=context,
            variable_values=variables,
            operation_name=name,
            executor_class=schema.execution_context_class,
            hide_suggestions=True,
        )
        if inspect.isawaitable(stream):
            stream = await stream
        if isinstance(stream, ExecutionResult):
            await websocket.send_json(
                {
                    "type": "error",
                    "id": sub_id,
                    "payload": [format_error(e, request_id) for e in stream.errors or []],
                }
            )
            return
        async for result in stream:
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [format_error(e, request_id) for e in result.errors]
            await websocket.send_json({"type": "next", "id": sub_id, "payload": body})
        await websocket.send_json({"type": "complete", "id": sub_id})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("subscription failed", extra={"request_id": request_id})
        with contextlib.suppress(Exception):
            await websocket.send_json(
                {
                    "type": "error",
                    "id": sub_id,
                    "payload": [
                        {"message": "Unexpected error.", "extensions": {"requestId": request_id}}
                    ],
                }
            )
    finally:
        running.pop(sub_id, None)
