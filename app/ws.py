"""GraphQL over WebSocket (the graphql-transport-ws protocol).

One connection, one caller: the token in ``connection_init``'s payload (or the upgrade
request's Authorization header) picks the role schema. Any operation may be sent:
queries and mutations run through the same pipeline as HTTP (``app.pipeline``) and
answer with one ``next`` and a ``complete``; subscriptions are served by the hub's
fan-out (``app.hub``) after the same preparation (limits, validation, cost) and
admission for their set-up; each is counted and logged like any operation.

Close codes (with a short reason): 4400 bad message, 4403 forbidden (bad token, or
the token expired while connected — a timer per connection, no polling), 4406
subprotocol, 4408 no ``connection_init`` in time, 4409 a subscription id already in
use, 4429 a second ``connection_init``, 1009 a message over ``MAX_BODY_BYTES`` (the
limit that answers 413 over HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from graphql import GraphQLError, OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.auth import Refusal, authenticate
from app.hub import Member, Overflow
from app.pipeline import (
    Observation,
    Prepared,
    Refused,
    Unavailable,
    admitted,
    execute,
    prepare,
)
from db.availability import is_unavailable
from db.clock import system_clock
from permissions.principal import Principal
from schema.live import live_operation
from schema.subscription import after_position_for

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


class Connection:
    """One socket's state: its caller, its running operations, its expiry timer."""

    def __init__(self, websocket: WebSocket, principal: Principal) -> None:
        self.websocket = websocket
        self.principal = principal
        self.running: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()
        self._expiry: asyncio.TimerHandle | None = None
        self._closing: asyncio.Future[None] | None = None

    async def send(self, frame: bytes) -> None:
        """One frame at a time: operations on one socket send from their own tasks."""
        async with self._send_lock:
            await self.websocket.send_text(frame.decode())

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(orjson.dumps(message))

    def expire_at(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        """Close with 4403 when the token expires (one timer for the connection)."""

        def expire() -> None:
            self._closing = asyncio.ensure_future(self.close(4403, "Forbidden: token expired"))

        self._expiry = loop.call_later(max(seconds, 0.0), expire)

    async def close(self, code: int, reason: str) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self.websocket.application_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await self.websocket.close(code=code, reason=reason)

    async def stop_all(self) -> None:
        """Cancel every running operation and wait for each to finish its clean-up."""
        if self._expiry is not None:
            self._expiry.cancel()
        tasks = list(self.running.values())
        self.running.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def graphql_ws(websocket: WebSocket) -> None:
    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.close(code=4406, reason="Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=PROTOCOL)
    limit = websocket.app.state.settings.max_body_bytes
    try:
        text = await asyncio.wait_for(websocket.receive_text(), INIT_TIMEOUT_SECONDS)
    except (TimeoutError, WebSocketDisconnect):
        await websocket.close(code=4408, reason="Connection initialisation timeout")
        return
    if _too_big(text, limit):
        await websocket.close(code=1009, reason=f"Message too big (limit {limit} bytes)")
        return
    try:
        init = orjson.loads(text)
    except orjson.JSONDecodeError:
        init = None
    if not isinstance(init, dict) or init.get("type") != "connection_init":
        await websocket.close(code=4400, reason="Expected connection_init")
        return
    state = websocket.app.state
    principal = await authenticate(state.verifier, _header(websocket, init.get("payload")))
    if not isinstance(principal, Principal):
        # The same words as HTTP's 401: "token expired" for a genuine token past its exp.
        reason = "token expired" if principal is Refusal.EXPIRED else "invalid token"
        await websocket.close(code=4403, reason=f"Forbidden: {reason}")
        return
    connection = Connection(websocket, principal)
    if principal.expires_at is not None:
        # Tokens are verified against the system clock, so their end is measured on it.
        remaining = (principal.expires_at - system_clock()).total_seconds()
        connection.expire_at(asyncio.get_running_loop(), remaining)
    await connection.send_json({"type": "connection_ack"})
    try:
        await _serve(connection)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the peer went away (or we closed): nothing to answer
    finally:
        await connection.stop_all()


def _too_big(text: str, limit: int) -> bool:
    """The HTTP body limit holds for every message: a socket is not a way around it."""
    return len(text) > limit or len(text.encode()) > limit


async def _serve(connection: Connection) -> None:
    websocket = connection.websocket
    limit = websocket.app.state.settings.max_body_bytes
    while True:
        text = await websocket.receive_text()
        if _too_big(text, limit):
            await connection.close(1009, f"Message too big (limit {limit} bytes)")
            return
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            await connection.close(4400, "Invalid message")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await connection.send_json({"type": "pong"})
        elif kind == "pong":
            continue
        elif kind == "connection_init":
            await connection.close(4429, "Too many initialisation requests")
            return
        elif kind == "subscribe":
            sub_id = message.get("id")
            if not isinstance(sub_id, str) or not sub_id or len(sub_id) > 100:
                await connection.close(4400, "Invalid subscription id")
                return
            if sub_id in connection.running:
                await connection.close(4409, f"Subscriber for {sub_id[:20]} already exists")
                return
            if len(connection.running) >= MAX_SUBSCRIPTIONS:
                await _error(connection, sub_id, [{"message": "Too many subscriptions."}])
                continue
            task = asyncio.create_task(_operation(connection, sub_id, message.get("payload")))
            connection.running[sub_id] = task
            task.add_done_callback(_finisher(connection, sub_id))
        elif kind == "complete":
            stopped = connection.running.pop(str(message.get("id")), None)
            if stopped is not None:
                stopped.cancel()
        else:
            await connection.close(4400, "Unknown message type")
            return


def _finisher(connection: Connection, sub_id: str) -> Callable[[asyncio.Task[None]], None]:
    """Forget a finished operation (unless its id was reused by a newer one)."""

    def finished(task: asyncio.Task[None]) -> None:
        if connection.running.get(sub_id) is task:
            del connection.running[sub_id]

    return finished


async def _error(connection: Connection, sub_id: str, errors: list[dict[str, Any]]) -> None:
    await connection.send_json({"type": "error", "id": sub_id, "payload": errors})


async def _operation(connection: Connection, sub_id: str, payload: Any) -> None:
    """One operation on the socket, through the same pipeline as an HTTP request."""
    state = connection.websocket.app.state
    request_id = uuid.uuid4().hex
    seen = Observation(state, request_id, "ws", principal=connection.principal)
    try:
        params = payload if isinstance(payload, dict) else {}
        seen.operation_name = params.get("operationName")
        prepared = prepare(state, connection.principal, params, request_id)
        if isinstance(prepared, Refused):
            seen.outcome = prepared.outcome
            await _error(connection, sub_id, prepared.errors)
            return
        seen.operation_name = prepared.operation_name
        if prepared.kind is OperationType.SUBSCRIPTION:
            await _subscribe(connection, sub_id, prepared, request_id, seen)
            return
        body, seen.outcome = await execute(state, connection.principal, prepared, request_id)
        await connection.send_json({"type": "next", "id": sub_id, "payload": body})
        await connection.send_json({"type": "complete", "id": sub_id})
    except asyncio.CancelledError:
        raise
    except Overflow:
        seen.outcome = "overflow"
        with contextlib.suppress(Exception):
            await _error(
                connection,
                sub_id,
                [{"message": "Too far behind: subscribe again with after (the last event id)."}],
            )
    except Unavailable as refusal:
        seen.outcome = f"unavailable_{refusal.reason}"
        with contextlib.suppress(Exception):
            await _error(connection, sub_id, refusal.body(request_id)["errors"])
    except (WebSocketDisconnect, RuntimeError):
        seen.outcome = "disconnected"
    except Exception as error:
        if is_unavailable(error):  # e.g. a subscription's replay set-up lost the database
            seen.outcome = "unavailable_database"
            lost = Unavailable("database", state.settings.retry_after_seconds)
            log.warning("database unavailable", extra={"request_id": request_id})
            with contextlib.suppress(Exception):
                await _error(connection, sub_id, lost.body(request_id)["errors"])
            return
        seen.outcome = "exception"
        log.exception("operation failed", extra={"request_id": request_id})
        with contextlib.suppress(Exception):
            await _error(
                connection,
                sub_id,
                [{"message": "Unexpected error.", "extensions": {"requestId": request_id}}],
            )
    finally:
        seen.done()


async def _subscribe(
    connection: Connection, sub_id: str, prepared: Prepared, request_id: str, seen: Observation
) -> None:
    state = connection.websocket.app.state
    principal = connection.principal
    try:
        operation = live_operation(
            prepared.schema, prepared.document, prepared.operation_name, prepared.variables
        )
        async with admitted(state):  # the set-up passes admission like any operation
            after = await after_position_for(state.hub, principal.scope, operation.after)
    except GraphQLError as error:
        seen.outcome = "invalid"
        await _error(connection, sub_id, [{"message": error.message}])
        return
    seen.done()  # the operation is admitted; what follows is the live stream
    seen.outcome = "ok"
    await state.hub.subscribe(
        prepared=prepared,
        principal=principal,
        operation=operation,
        after=after,
        member=Member(sub_id, connection.send),
    )
    await connection.send_json({"type": "complete", "id": sub_id})
