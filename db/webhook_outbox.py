"""The webhook outbox: the event log plus a durable cursor per endpoint.

Deliveries are derived from the feed (``db.feed``), whose entries are written in the
same transaction as the change they record. A worker turns the entries after an
endpoint's ``cursor`` into delivery rows and moves the cursor in ONE transaction
(``advance``, a compare-and-set on the cursor), so a process that dies anywhere
loses nothing and two workers never make the same delivery twice (the CAS, and the
unique (endpoint, position) behind it).

Sending is claimed with a lease (``claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
and settled only by the lease holder (``settle``): two workers never send the same
attempt at once, and a worker that dies mid-send leaves a lease that runs out, after
which the delivery is sent again with the same ``webhook-id`` (at-least-once).

Retries follow ``SCHEDULE`` with jitter, longer when the receiver asks
(``Retry-After``); after the schedule the delivery is FAILED, and an endpoint that has
failed without a success for ``DISABLE_AFTER`` is disabled.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import email_outbox
from db.ids import new_id
from db.models import (
    DeliveryStatus,
    FeedPosition,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from db.outbox import attempted, due_now, move_cursor, sendable, take_lease
from db.rows import copied

log = logging.getLogger("handoff.webhooks")

SCHEDULE: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 57600, 86400)
)
JITTER = 0.2  # each wait is its schedule step times a factor in [1 - JITTER, 1 + JITTER]
MAX_WAIT = timedelta(hours=24)  # no Retry-After makes a delivery wait longer than this
DISABLE_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class NewDelivery:
    position: int
    entry_id: str
    event: WebhookEvent
    body: str


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease on, with what sending it needs."""

    id: str
    org: str
    endpoint_id: str
    url: str
    secret_encrypted: str
    body: str
    attempts: int
    position: int
    created_at: datetime


async def behind(
    session: AsyncSession, *, limit: int = 100, lock: bool = False
) -> list[WebhookEndpoint]:
    """Enabled endpoints whose org's feed has moved past their cursor; with ``lock``,
    only those no other worker is materialising, locked until the transaction ends
    (PostgreSQL: workers split the endpoints instead of rendering the same bodies)."""
    stmt = (
        select(WebhookEndpoint)
        .join(FeedPosition, FeedPosition.org == WebhookEndpoint.org)
        .where(
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.deleted_at.is_(None),
            FeedPosition.position > WebhookEndpoint.cursor,
        )
        .order_by(WebhookEndpoint.cursor)
        .limit(limit)
    )
    if lock:
        stmt = stmt.with_for_update(of=WebhookEndpoint, skip_locked=True)
    return list(await session.scalars(stmt))


async def advance(
    session: AsyncSession,
    *,
    endpoint: WebhookEndpoint,
    from_cursor: int,
    to_cursor: int,
    deliveries: Sequence[NewDelivery],
    now: datetime,
) -> bool:
    """Move ``endpoint``'s cursor from ``from_cursor`` to ``to_cursor`` and add the
    deliveries for the entries in between, if no one else moved it first (False then:
    the caller's transaction writes nothing)."""
    if not await move_cursor(
        session,
        WebhookEndpoint,
        WebhookEndpoint.id == endpoint.id,
        from_cursor=from_cursor,
        to_cursor=to_cursor,
    ):
        return False
    session.add_all(
        WebhookDelivery(
            id=new_id("whd"), org=endpoint.org, endpoint_id=endpoint.id, **asdict(d), **due_now(now)
        )
        for d in deliveries
    )
    await session.flush()
    return True


async def claim(
    session: AsyncSession, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take the lease on up to ``limit`` due deliveries (oldest due first)."""
    due = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            sendable(WebhookDelivery, now),
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.deleted_at.is_(None),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.position)
        .limit(limit)
        # Rows another worker is claiming are skipped, not waited for (PostgreSQL;
        # SQLite has one writer at a time and ignores the clause).
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed: list[Claimed] = []
    for delivery, endpoint in await session.execute(due):
        take_lease(delivery, worker=worker, now=now, lease=lease)
        claimed.append(copied(Claimed, delivery, endpoint))
    await session.flush()
    return claimed


def next_wait(
    attempts: int, *, retry_after: timedelta | None, rng: random.Random
) -> timedelta | None:
    """How long after failed attempt number ``attempts`` (1-based) to try again; None:
    the schedule is spent."""
    if attempts > len(SCHEDULE):
        return None
    step = SCHEDULE[attempts - 1]
    wait = step * rng.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, MAX_WAIT)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    delivered: bool
    response_code: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None


def _delivered(now: datetime) -> dict[str, object]:
    return {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt_at": None}


async def settle(
    session: AsyncSession,
    *,
    claimed: Claimed,
    worker: str,
    now: datetime,
    outcome: Outcome,
    rng: random.Random,
) -> DeliveryStatus | None:
    """Record the attempt, if this worker still holds the lease (None: it does not, and
    nothing is written). Returns the delivery's new status."""
    attempts = claimed.attempts + 1
    values = attempted(attempts, outcome.error) | {"last_response_code": outcome.response_code}
    if outcome.delivered:
        status = DeliveryStatus.DELIVERED
        values |= _delivered(now)
    else:
        wait = next_wait(attempts, retry_after=outcome.retry_after, rng=rng)
        status = DeliveryStatus.FAILED if wait is None else DeliveryStatus.PENDING
        values |= {"status": status, "next_attempt_at": None if wait is None else now + wait}
    done = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claimed.id,
            WebhookDelivery.lease_owner == worker,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await _endpoint_health(session, claimed.endpoint_id, now, ok=outcome.delivered)
    return status


async def settle_delivered(
    session: AsyncSession,
    *,
    claimed: Sequence[Claimed],
    worker: str,
    now: datetime,
    code: dict[str, int | None],
) -> int:
    """Record a batch of successful attempts in two statements (the common case);
    returns how many this worker still held the lease on."""
    if not claimed:
        return 0
    ids = [c.id for c in claimed]
    attempts = {c.id: c.attempts + 1 for c in claimed}
    done = 0
    # One UPDATE per distinct (attempts, code): almost always one.
    groups: dict[tuple[int, int | None], list[str]] = {}
    for id_ in ids:
        groups.setdefault((attempts[id_], code.get(id_)), []).append(id_)
    for (count, response_code), members in groups.items():
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(members),
                WebhookDelivery.lease_owner == worker,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(**attempted(count, None), last_response_code=response_code, **_delivered(now))
            .execution_options(synchronize_session=False)
        )
        done += int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id.in_({c.endpoint_id for c in claimed}),
            WebhookEndpoint.failing_since.is_not(None),
        )
        .values(failing_since=None)
        .execution_options(synchronize_session=False)
    )
    return done


async def _endpoint_health(
    session: AsyncSession, endpoint_id: str, now: datetime, *, ok: bool
) -> None:
    if ok:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
        return
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=now)
        .execution_options(synchronize_session=False)
    )
    disabled = await session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.enabled.is_(True),
            and_(
                WebhookEndpoint.failing_since.is_not(None),
                WebhookEndpoint.failing_since <= now - DISABLE_AFTER,
            ),
        )
        .values(
            enabled=False,
            disabled_reason=(
                f"disabled at {now.isoformat()}: no delivery succeeded for "
                f"{DISABLE_AFTER.days} days; redeliver one to enable it again"
            ),
        )
        .execution_options(synchronize_session=False)
    )
    if disabled.rowcount:  # type: ignore[attr-defined]
        # Its owner reads it as WebhookEndpoint.enabled = false, and hears of it by
        # e-mail where the org sends e-mail and the owner has an address.
        endpoint = await session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
        told = endpoint is not None and await email_outbox.endpoint_disabled(
            session, endpoint=endpoint, now=now
        )
        log.warning(
            "webhook endpoint disabled after days of failures",
            extra={"endpoint": endpoint_id, "owner_emailed": told},
        )


async def disabled_since(session: AsyncSession, endpoint_id: str) -> str | None:
    """The reason an endpoint was disabled, if it was (for logs and tests)."""
    reason: str | None = await session.scalar(
        select(WebhookEndpoint.disabled_reason).where(WebhookEndpoint.id == endpoint_id)
    )
    return reason
