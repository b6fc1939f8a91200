"""The relay: this process's reader of the feed.

One per process. For each org someone here listens to, it keeps a cursor (the last
position it handed on) and reads what came after it — once, for every listener in
the process — whenever it is woken:

* by PostgreSQL: a trigger NOTIFYs ``handoff_feed`` with the org and position in the
  transaction that writes the entry, delivered at commit to every process's LISTEN
  connection (``_listen``); a lost connection is re-opened and every org read again
  from its cursor, so nothing committed in the gap is lost;
* by this process, right after its own commits (``wake``);
* by a poll of the orgs' heads (``poll_seconds``): SQLite has no NOTIFY, and on
  PostgreSQL it is the safety net.

The log is the truth; wake-ups are hints. Positions follow commit order per org, so
"everything after my cursor" is gap-free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import make_url

from app.polling import log_failure
from db import feed
from db.engine import Database
from db.feed import FeedEntry

log = logging.getLogger("handoff.relay")

Dispatch = Callable[[str, list[FeedEntry]], Awaitable[None]]
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
BATCH = 500


class Relay:
    def __init__(self, db: Database, dispatch: Dispatch, *, poll_seconds: float) -> None:
        self._db = db
        self._dispatch = dispatch
        self._poll_seconds = poll_seconds
        self._cursors: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._woken = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()
        self.reads = 0  # feed reads, for the fan-out benchmark

    async def start(self) -> None:
        """Start reading (idempotent; the first ``watch`` starts it too)."""
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._read_loop(), name="relay-read"))
        self._tasks.append(asyncio.create_task(self._poll_loop(), name="relay-poll"))
        if not self._db.is_sqlite:
            self._tasks.append(asyncio.create_task(self._listen(), name="relay-listen"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def listening(self) -> None:
        """Wait until the LISTEN connection is up (immediately on SQLite)."""
        if self._db.is_sqlite:
            return
        await self._listening.wait()

    async def watch(self, org: str) -> None:
        """Start following ``org`` (from its current end) if not yet followed."""
        await self.start()
        if org in self._cursors:
            return
        async with self._db.read_session() as session:
            head = await feed.last_position(session, org)
        self._cursors.setdefault(org, head)

    def unwatch(self, org: str) -> None:
        self._cursors.pop(org, None)
        self._dirty.discard(org)

    def wake(self, org: str) -> None:
        """Something was committed for ``org``: read it now."""
        if org in self._cursors:
            self._dirty.add(org)
            self._woken.set()

    def wake_all(self) -> None:
        self._dirty.update(self._cursors)
        self._woken.set()

    async def _read_loop(self) -> None:
        while True:
            await self._woken.wait()
            self._woken.clear()
            while self._dirty:
                org = self._dirty.pop()
                try:
                    await self._read(org)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log_failure(log, "reading the feed failed; retrying", error, org=org)
                    self._dirty.add(org)
                    await asyncio.sleep(RECONNECT_SECONDS[1])

    async def _read(self, org: str) -> None:
        while org in self._cursors:
            after = self._cursors[org]
            async with self._db.read_session() as session:
                entries = await feed.read(session, org=org, after=after, limit=BATCH)
            self.reads += 1
            if not entries:
                return
            if org not in self._cursors:  # unwatched meanwhile
                return
            # Handed on first, then the cursor moves: a dispatch that fails is read and
            # handed on again (listeners drop positions they already have).
            await self._dispatch(org, entries)
            if org in self._cursors:
                self._cursors[org] = max(self._cursors[org], entries[-1].position)
            if len(entries) < BATCH:
                return

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            if not self._cursors:
                continue
            try:
                async with self._db.read_session() as session:
                    heads = await feed.heads(session, list(self._cursors))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "polling the feed's heads failed", error)
                continue
            for org, head in heads.items():
                if head > self._cursors.get(org, head):
                    self._dirty.add(org)
            if self._dirty:
                self._woken.set()

    async def _listen(self) -> None:
        import asyncpg

        url = make_url(self._db.url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        attempt = 0
        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await asyncpg.connect(dsn)
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(feed.NOTIFY_CHANNEL, self._on_notify)
                attempt = 0
                # Whatever was committed while no one listened is read now.
                self.wake_all()
                self._listening.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5.0)
                    if not lost.is_set() and connection.is_closed():
                        lost.set()
                log.warning("the feed's LISTEN connection was lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "cannot LISTEN for the feed; retrying", error)
            finally:
                self._listening.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        org, _, position = payload.rpartition(" ")
        cursor = self._cursors.get(org)
        if cursor is not None and (not position.isdigit() or int(position) > cursor):
            self._dirty.add(org)
            self._woken.set()
