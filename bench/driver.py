"""Transports the benchmark sends GraphQL requests through.

``InProcess`` calls the real Starlette app as an ASGI callable (routing, token
verification, the document cache, execution, orjson) without a socket, so what it times
is the server's own work. ``Http`` goes over loopback to a running server.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
import orjson

from db.engine import current_counter


class Post(Protocol):
    async def __call__(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, bytes]: ...


class InProcess:
    """POST /graphql straight into the ASGI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        body = orjson.dumps({"query": query, "variables": variables or {}})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", f"Bearer {token}".encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def counted(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, bytes, int]:
        """Also the SQL statements the request issued (the endpoint counts them in this
        task's context)."""
        status, body = await self(token, query, variables)
        counter = current_counter()
        return status, body, counter.count if counter is not None else -1


class Http:
    """POST /graphql to a server over loopback."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url

    async def __call__(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        response = await self.client.post(
            self.url,
            content=orjson.dumps({"query": query, "variables": variables or {}}),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        return response.status_code, response.content
