"""A pass run again and again in a background task: the loop of the outbox workers
(webhook delivery, e-mail). The work and its durable state live in ``db``; this only
decides when the next pass runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class PollingLoop:
    """Runs ``once`` (which returns how much it did) again at once while it finds work,
    otherwise after ``poll_seconds`` or as soon as ``wake()`` is called. A pass that
    raises is logged on ``log`` with ``failure`` and the loop goes on."""

    def __init__(
        self,
        name: str,
        once: Callable[[], Awaitable[int]],
        *,
        poll_seconds: float,
        log: logging.Logger,
        failure: str,
    ) -> None:
        self._name = name
        self._once = once
        self._poll = poll_seconds
        self._log = log
        self._failure = failure
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

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
                busy = await self._once() > 0
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception(self._failure)
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._poll)
                self._woken.clear()
