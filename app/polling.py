"""A pass run again and again in a background task: the loop of the outbox workers
(webhook delivery, e-mail). The work and its durable state live in ``db``; this only
decides when the next pass runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

from db.availability import is_unavailable
from db.clock import Clock
from db.engine import Database


def log_failure(log: logging.Logger, message: str, error: BaseException, **extra: object) -> None:
    """Background work that raised. An outage (``db.availability``) is one warning line,
    ``message: database unavailable`` — no SQL, parameters or stack trace, however long
    it lasts; anything else is logged whole, to be looked at."""
    if is_unavailable(error):
        log.warning("%s: database unavailable", message, extra=extra)
    else:
        log.error(message, exc_info=error, extra=extra)


@dataclass
class PollingLoop:
    """Runs ``once`` (which returns how much it did) again at once while it finds work,
    otherwise after ``poll_seconds`` or as soon as ``wake()`` is called. A pass that
    raises is logged on ``log`` with ``failure`` and the loop goes on."""

    name: str
    once: Callable[[], Awaitable[int]]
    _: KW_ONLY
    poll_seconds: float
    log: logging.Logger
    failure: str
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _woken: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Something was committed: look now rather than at the next poll."""
        self._woken.set()

    async def _run(self) -> None:
        while True:
            busy = False
            try:
                busy = await self.once() > 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log_failure(self.log, self.failure, error)
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
                self._woken.clear()


class OutboxWorker:
    """What an outbox's worker (``db.outbox``: webhook deliveries, e-mail) is besides
    its pass, ``run_once``: a database and a clock, the name it takes leases under
    (``worker_id``), the jitter of its retries, and its loop (named ``loop_name``;
    a pass that raises is logged on ``logger`` with ``failure``)."""

    loop_name: ClassVar[str]
    logger: ClassVar[logging.Logger]
    failure: ClassVar[str]

    def __init__(
        self, db: Database, clock: Clock, *, poll_seconds: float, rng: random.Random | None
    ) -> None:
        self._db = db
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self.worker_id = uuid.uuid4().hex[:12]
        self._loop = PollingLoop(
            self.loop_name,
            self.run_once,
            poll_seconds=poll_seconds,
            log=self.logger,
            failure=self.failure,
        )

    async def run_once(self) -> int:
        """One pass; returns how much it did (0: nothing to do)."""
        raise NotImplementedError

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
