"""Building blocks for the push tests: real server processes on one database, and a
small graphql-transport-ws client with bounded waits.

Not a test module and not a conftest (the root conftest is imported by name)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from conftest import AUDIENCE, ISSUER, SECRET

ROOT = Path(__file__).resolve().parents[1]
WAIT = 15.0  # the bound on every wait: a missing message fails the test, fast enough


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``handoff serve`` in a process of its own, on ``database_url``."""

    database_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> Server:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "JWT_SECRET": SECRET,
            "JWT_AUDIENCE": AUDIENCE,
            "JWT_ISSUER": ISSUER,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "INFO",
            "ALERT_SCAN_SECONDS": "0.2",
            "FEED_POLL_SECONDS": "0.5",
            **self.env,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """``kill -9``: no shutdown of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


async def post(base: str, token: str, query: str, **variables: Any) -> Any:
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


class Socket:
    """One graphql-transport-ws connection, acknowledged."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def subscribe(self, sub_id: str, query: str, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": sub_id, "type": "subscribe", "payload": payload}))

    async def receive(self, within: float = WAIT) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        return message

    async def next_data(self, within: float = WAIT) -> dict[str, Any]:
        message = await self.receive(within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def quiet(self) -> None:
        """Nothing is pending for this socket: a ping's answer comes next."""
        await self.ws.send(json.dumps({"type": "ping"}))
        assert await self.receive() == {"type": "pong"}


@asynccontextmanager
async def socket_to(url: str, token: str) -> AsyncIterator[Socket]:
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        socket_ = Socket(ws)
        assert await socket_.receive() == {"type": "connection_ack"}
        yield socket_


@dataclass
class InProcess:
    """The app served by uvicorn inside the test's event loop (one process), with an
    ASGI client for its HTTP side."""

    app: Any
    ws: str
    http: httpx.AsyncClient

    async def post(self, token: str, query: str, **variables: Any) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def listening(self, org: str, count: int) -> None:
        """Wait until ``count`` subscriptions listen on ``org`` (bounded)."""
        async with asyncio.timeout(WAIT):
            while self.app.state.hub.listeners(org) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[InProcess]:
    import uvicorn

    from app.main import stop_background

    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, lifespan="off", ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    try:
        yield InProcess(app, f"ws://127.0.0.1:{port}/graphql", http)
    finally:
        await http.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        await stop_background(app)
