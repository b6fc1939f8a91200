"""Reading server-sent events from a real server: one message at a time, every wait
bounded, comments (heartbeats) reported too so a test can tell "nothing happened"."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

WAIT = 10.0


@dataclass(frozen=True)
class Message:
    event: str  # "update", "gone", or "comment" for a heartbeat
    data: str = ""
    id: str | None = None


class EventStream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.raw = bytearray()  # every byte received, for leak searches
        self._lines = self._read_lines()

    async def _read_lines(self) -> AsyncIterator[str]:
        pending = b""
        async for chunk in self.response.aiter_raw():
            self.raw += chunk
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                yield line.decode()

    async def next(self, wait: float = WAIT) -> Message:
        """The next message (an event, or a comment line)."""
        async with asyncio.timeout(wait):
            event, data, id_ = "message", [], None
            async for line in self._lines:
                if line.startswith(":"):
                    return Message("comment", line[1:].strip())
                if line == "":
                    if data or event != "message":
                        return Message(event, "\n".join(data), id_)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)
                elif name == "id":
                    id_ = value
            raise EOFError("the stream ended")

    async def next_event(self, wait: float = WAIT) -> Message:
        """The next event, skipping heartbeats."""
        async with asyncio.timeout(wait):
            while True:
                message = await self.next(wait)
                if message.event != "comment":
                    return message


@contextlib.asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[EventStream]:
    async with http.stream("GET", path, headers=headers or {}) as response:
        yield EventStream(response)
