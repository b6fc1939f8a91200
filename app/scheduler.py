"""The alert scheduler: raises time-based alerts when their threshold passes, with no
request at all.

Every process runs the loop; one leads at a time. On PostgreSQL the leader holds a
session advisory lock on a connection of its own: if the process dies, the server
drops the lock with the connection and another process takes over at its next tick.
On SQLite (one process) the process leads. Leading is about economy, not
correctness: raising is idempotent (``db.raised_alerts``), so two leaders at once
still announce each episode once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.polling import log_failure
from db import raised_alerts
from db.clock import Clock
from db.engine import Database

log = logging.getLogger("handoff.scheduler")

LOCK_KEY = "handoff-alert-scheduler"
# A leader scans the whole ledger when it takes the lead and then this often; between,
# each tick looks only at the thresholds that passed since the previous one (plus a
# margin for clocks and slow commits).
FULL_SCAN_SECONDS = 60.0
WINDOW_MARGIN = timedelta(seconds=30)


class AlertScheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        interval_seconds: float,
        raised: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._interval = interval_seconds
        self._raised = raised
        self._lock_connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self.leading = False
        self.scans = 0  # passes run as the leader
        self._last_tick: datetime | None = None
        self._last_full: datetime | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._resign()

    async def tick(self) -> int:
        """One pass, if this process leads: raise what is due; how many were raised."""
        if not await self._lead():
            self._last_tick = self._last_full = None  # a new leader starts with a full scan
            return 0
        self.scans += 1
        now = self._clock()
        since: datetime | None = None  # None: a full scan
        last_tick, last_full = self._last_tick, self._last_full
        recent = last_full is not None and (now - last_full).total_seconds() < FULL_SCAN_SECONDS
        if last_tick is not None and recent:
            since = last_tick - WINDOW_MARGIN
        full = since is None
        total = 0
        while True:
            async with self._db.write_session() as session, session.begin():
                raised = await raised_alerts.scan(session, now, since=since)
            total += raised
            if raised < raised_alerts.SCAN_LIMIT:
                break
        self._last_tick = now
        if full:
            self._last_full = now
        if total:
            self._raised()
        return total

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(log, "the alert scan failed; trying again at the next tick", error)
                await self._resign()
            await asyncio.sleep(self._interval)

    async def _lead(self) -> bool:
        if self._db.is_sqlite:
            self.leading = True
            return True
        if self._lock_connection is not None and not self._lock_connection.closed:
            try:
                await self._lock_connection.execute(text("SELECT 1"))
                await self._lock_connection.commit()  # never idle in a transaction
                return True
            except Exception:  # the lock went with the connection
                await self._resign()
        connection = await self._db.engine.connect()
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": LOCK_KEY}
            )
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()  # it holds nothing: back to the pool
            self.leading = False
            return False
        self._lock_connection = connection
        if not self.leading:
            log.info("this process now raises time-based alerts")
        self.leading = True
        return True

    async def _resign(self) -> None:
        """Give up leading: the lock is a session lock, so the connection is closed for
        good (invalidated), never returned to the pool still holding it."""
        self.leading = False
        connection, self._lock_connection = self._lock_connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()
