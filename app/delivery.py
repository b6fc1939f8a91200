"""The webhook delivery worker: turns the feed into deliveries and sends them.

Runs inside ``handoff serve`` (a background task, like the alert scheduler) and as
``handoff worker`` (a process of its own); any number of them may run against one
PostgreSQL. Each pass (``run_once``):

1. materialise: for every endpoint behind its org's feed, read the entries after its
   cursor, render the bodies its owner may receive (``schema.webhook_bodies``) and, in
   one transaction, store them as deliveries and move the cursor (``db.webhook_outbox``);
2. send: claim due deliveries with a lease, POST each one signed (Standard Webhooks)
   to the address the SSRF guard checked (``app.targets``), and settle the attempt.

Bodies are rendered once, when the delivery is made, and stored: every attempt and
every redelivery sends the same bytes under the same ``webhook-id``, so a receiver can
deduplicate, and a body shows the order as it was when the event happened.

No state lives in the process: a worker killed at any point leaves the cursor (nothing
materialised twice or lost) and leases that run out (the delivery is sent again).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.polling import OutboxWorker
from app.targets import RefusedTarget, resolve
from db import feed
from db.clock import Clock
from db.engine import Database
from db.models import DeliveryStatus, WebhookEndpoint
from db.webhook_outbox import (
    Claimed,
    NewDelivery,
    Outcome,
    advance,
    behind,
    claim,
    settle,
    settle_delivered,
)
from db.webhook_secrets import SecretBox, signed_headers
from schema.webhook_bodies import render

log = logging.getLogger("handoff.delivery")

USER_AGENT = "Handoff-Webhooks/1"
FEED_BATCH = 500


@dataclass(frozen=True)
class DeliveryConfig:
    allow_private: bool = False
    timeout_seconds: float = 10.0
    # httpcore's pool does work quadratic in the requests in flight: a few connections
    # kept busy beat many (measured: 8 sent three times as fast as 32 to a local receiver).
    concurrency: int = 8
    batch: int = 200
    poll_seconds: float = 0.5


def retry_after(response: httpx.Response, now: datetime) -> timedelta | None:
    """The receiver's ``Retry-After`` (seconds or an HTTP date), on 429 and 503."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when - now, timedelta(0)) if when.tzinfo else None


class DeliveryWorker(OutboxWorker):
    loop_name = "webhook-delivery"
    logger = log
    failure = "a webhook delivery pass failed; trying again"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        config: DeliveryConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(db, clock, poll_seconds=config.poll_seconds, rng=rng)
        self._box = box
        self._config = config
        self._http = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(config.timeout_seconds),
            limits=httpx.Limits(
                max_connections=config.concurrency, max_keepalive_connections=config.concurrency
            ),
            transport=transport,
            headers={"user-agent": USER_AGENT},
        )
        self._secrets: dict[str, str] = {}
        self.sent = 0  # attempts made by this worker (metrics, bench)

    # --- the loop ----------------------------------------------------------------------

    async def stop(self) -> None:
        await super().stop()
        await self._http.aclose()

    def wake(self, _org: str | None = None) -> None:
        """Something was committed: look now rather than at the next poll."""
        self._loop.wake()

    async def run_once(self) -> int:
        """One pass: materialise what is behind, send what is due. Returns the
        deliveries made plus the attempts sent (0: nothing to do)."""
        made = await self.materialise()
        sent = await self.send_due()
        return made + sent

    # --- 1. the feed into deliveries ---------------------------------------------------

    async def materialise(self) -> int:
        """The feed is read once per org (from its furthest-behind endpoint), each
        endpoint takes what lies after its own cursor, and one transaction stores every
        endpoint's deliveries and cursor."""
        if self._db.is_sqlite:
            # One writer at a time: no write transaction is held while rendering.
            async with self._db.read_session() as session:
                endpoints = await behind(session)
            return await self._materialise(endpoints, None)
        async with self._db.write_session() as session, session.begin():
            return await self._materialise(await behind(session, lock=True), session)

    async def _materialise(
        self, endpoints: list[WebhookEndpoint], locked: AsyncSession | None
    ) -> int:
        total = 0
        by_org: dict[str, list[WebhookEndpoint]] = {}
        for endpoint in endpoints:
            by_org.setdefault(endpoint.org, []).append(endpoint)
        for org, group in by_org.items():
            async with self._db.read_session() as reading:
                entries = await feed.read(
                    reading, org=org, after=min(e.cursor for e in group), limit=FEED_BATCH
                )
            if not entries:
                continue
            now = self._clock()
            last = entries[-1].position
            rendered = await asyncio.gather(
                *(
                    render(
                        db=self._db,
                        endpoint=endpoint,
                        entries=[e for e in entries if e.position > endpoint.cursor],
                        now=now,
                    )
                    for endpoint in group
                )
            )
            async with contextlib.AsyncExitStack() as stack:
                session: AsyncSession
                if locked is None:
                    session = await stack.enter_async_context(self._db.write_session())
                    await stack.enter_async_context(session.begin())
                else:
                    session = locked
                for endpoint, bodies in zip(group, rendered, strict=True):
                    if endpoint.cursor >= last:
                        continue
                    new = [
                        NewDelivery(b.entry.position, b.entry.id, b.event, b.body) for b in bodies
                    ]
                    # A cursor another worker moved first: nothing is written for it.
                    if await advance(
                        session,
                        endpoint=endpoint,
                        from_cursor=endpoint.cursor,
                        to_cursor=last,
                        deliveries=new,
                        now=now,
                    ):
                        total += len(new)
        return total

    # --- 2. sending ------------------------------------------------------------------

    async def send_due(self) -> int:
        now = self._clock()
        # Longer than any attempt can take (httpx's timeout bounds each phase: connect,
        # write, read, pool), so a lease runs out only when its holder is gone.
        lease = timedelta(seconds=self._config.timeout_seconds * 4 + 5)
        async with self._db.write_session() as session, session.begin():
            claimed = await claim(
                session, worker=self.worker_id, now=now, lease=lease, limit=self._config.batch
            )
        if not claimed:
            return 0
        slots = asyncio.Semaphore(self._config.concurrency)

        async def one(item: Claimed) -> Outcome:
            async with slots:
                try:
                    return await self.attempt(item)
                except Exception as error:  # one delivery's fault never stalls the batch
                    log.exception("a webhook delivery attempt failed", extra={"id": item.id})
                    return Outcome(delivered=False, error=f"{type(error).__name__}"[:500])

        outcomes = await asyncio.gather(*(one(c) for c in claimed))
        await self._settle(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def attempt(self, item: Claimed) -> Outcome:
        """POST one delivery; what came of it (never raises for the receiver's faults)."""
        try:
            secret = self._secret(item.secret_encrypted)
        except ValueError as error:
            return Outcome(delivered=False, error=str(error))
        try:
            target = await resolve(item.url, allow_private=self._config.allow_private)
        except RefusedTarget as error:
            return Outcome(delivered=False, error=f"refused: {error}")
        now = self._clock()
        body = item.body.encode()
        headers = signed_headers(secret, item.id, int(now.timestamp()), body)
        headers["host"] = target.host_header
        extensions = {"sni_hostname": target.sni} if target.sni else {}
        self.sent += 1
        try:
            response = await self._http.post(
                target.url, content=body, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            return Outcome(delivered=False, error="timed out")
        except httpx.HTTPError as error:
            return Outcome(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(delivered=True, response_code=code)
        problem = "redirects are not followed" if 300 <= code < 400 else f"HTTP {code}"
        return Outcome(
            delivered=False,
            response_code=code,
            error=problem,
            retry_after=retry_after(response, now),
        )

    async def _settle(self, done: list[tuple[Claimed, Outcome]]) -> None:
        """Record a batch of attempts in one transaction."""
        now = self._clock()
        delivered = [item for item, outcome in done if outcome.delivered]
        codes = {item.id: outcome.response_code for item, outcome in done}
        failed = [(item, outcome) for item, outcome in done if not outcome.delivered]
        async with self._db.write_session() as session, session.begin():
            held = await settle_delivered(
                session, claimed=delivered, worker=self.worker_id, now=now, code=codes
            )
            statuses = [
                await settle(
                    session,
                    claimed=item,
                    worker=self.worker_id,
                    now=now,
                    outcome=outcome,
                    rng=self._rng,
                )
                for item, outcome in failed
            ]
        if held < len(delivered):
            log.warning("lost the lease on %d webhook deliveries", len(delivered) - held)
        for (item, outcome), status in zip(failed, statuses, strict=True):
            self._log(item, outcome, status)

    def _log(self, item: Claimed, outcome: Outcome, status: DeliveryStatus | None) -> None:
        if status is None:
            log.warning("lost the lease on a webhook delivery", extra={"delivery": item.id})
        elif status is DeliveryStatus.FAILED:
            log.warning(
                "webhook delivery failed for good",
                extra={"delivery": item.id, "endpoint": item.endpoint_id, "error": outcome.error},
            )
        elif not outcome.delivered:
            log.info(
                "webhook delivery will be retried",
                extra={"delivery": item.id, "endpoint": item.endpoint_id, "error": outcome.error},
            )

    def _secret(self, sealed: str) -> str:
        found = self._secrets.get(sealed)
        if found is None:
            found = self._secrets[sealed] = self._box.open(sealed)
        return found
