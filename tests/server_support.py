"""A real uvicorn serving an app on 127.0.0.1 (a free port, picked by the OS), for tests
that need a real socket: streamed responses (server-sent events), WebSockets, browsers.
Every wait is bounded; the server is stopped in a ``finally``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from app.main import stop_background

WAIT = 10.0  # seconds: the bound on starting and stopping


@dataclass(frozen=True)
class Served:
    app: Starlette
    base: str  # http://127.0.0.1:<port>
    port: int


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[Served]:
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            lifespan="off",
            ws="websockets-sansio",
            # Open event streams end when the server stops, instead of holding it.
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Served(app, f"http://127.0.0.1:{port}", port)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, WAIT)
        await stop_background(app)
