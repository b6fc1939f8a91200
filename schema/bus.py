"""In-process fan-out of committed order events to subscriptions.

Per process: with several workers or servers each sees only its own writes (a
PostgreSQL LISTEN/NOTIFY relay is the next step). Subscribers receive only ids;
each one loads the event through its own scope, so the bus carries nothing a
subscriber could not read anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Published:
    order_id: str
    event_id: str


class EventBus:
    def __init__(self) -> None:
        self._queues: defaultdict[str, set[asyncio.Queue[Published | None]]] = defaultdict(set)

    def publish(self, org: str, events: Iterable[tuple[str, str]]) -> None:
        for order_id, event_id in events:
            for queue in list(self._queues.get(org, ())):
                if queue.qsize() >= QUEUE_LIMIT:  # stopped reading: end its stream
                    self._queues[org].discard(queue)
                    queue.put_nowait(None)  # the one slot kept free for this
                else:
                    queue.put_nowait(Published(order_id, event_id))

    def listeners(self, org: str) -> int:
        return len(self._queues.get(org, ()))

    @contextlib.asynccontextmanager
    async def listen(self, org: str) -> AsyncIterator[asyncio.Queue[Published | None]]:
        queue: asyncio.Queue[Published | None] = asyncio.Queue(maxsize=QUEUE_LIMIT + 1)
        self._queues[org].add(queue)
        try:
            yield queue
        finally:
            self._queues[org].discard(queue)
