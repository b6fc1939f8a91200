"""The subscriber swarm of the fan-out benchmark: one process holding many sockets.

Reads a JSON list of ``{"url", "token", "name"}`` on stdin's first line, opens one
graphql-transport-ws socket per entry and subscribes to ``orderEvents``, prints
``ready N`` once every subscription is sent, records ``(event id, receive time ns)``
per subscriber, and when stdin closes prints the records as one JSON object.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

DOCUMENT = "subscription { orderEvents { id kind at order { number stage } } }"
EVENT_ID = re.compile(rb'"orderEvents":\{"id":"(evt_[a-z2-7]{20})"')


async def _subscriber(
    entry: dict[str, str], records: dict[str, list[tuple[str, int]]], ready: asyncio.Event
) -> None:
    name = entry["name"]
    seen = records.setdefault(name, [])
    ws: ClientConnection
    async with connect(
        entry["url"],
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_queue=None,
        open_timeout=60,
        ping_interval=None,
    ) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {entry['token']}"}}
        await ws.send(orjson.dumps(init).decode())
        await ws.recv()  # connection_ack
        subscribe = {"id": "s", "type": "subscribe", "payload": {"query": DOCUMENT}}
        await ws.send(orjson.dumps(subscribe).decode())
        ready.set()
        async for frame in ws:
            received = time.time_ns()
            raw = frame.encode() if isinstance(frame, str) else frame
            found = EVENT_ID.search(raw)
            if found is not None:
                seen.append((found.group(1).decode(), received))
            elif b'"type":"error"' in raw or b'"errors"' in raw:
                seen.append(("error:" + raw[:200].decode(errors="replace"), received))


async def main() -> None:
    entries: list[dict[str, Any]] = orjson.loads(sys.stdin.readline())
    records: dict[str, list[tuple[str, int]]] = {}
    events = [asyncio.Event() for _ in entries]
    tasks = []
    for entry, ready in zip(entries, events, strict=True):
        tasks.append(asyncio.create_task(_subscriber(entry, records, ready)))
        await asyncio.sleep(0.002)  # do not stampede the servers' accept queues
    for ready in events:
        await ready.wait()
    print(f"ready {len(entries)}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sys.stdout.write(orjson.dumps(records).decode() + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
