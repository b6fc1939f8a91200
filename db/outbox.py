"""What the webhook and e-mail outboxes (``db.webhook_outbox``, ``db.email_outbox``)
share: a new row's sending state, what settling an attempt writes, the compare-and-set
that moves a feed cursor, and the lease a worker takes on a due row before sending it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DeliveryStatus, EmailMessage, EmailSettings, WebhookDelivery, WebhookEndpoint


def due_now(now: datetime) -> dict[str, Any]:
    """A new outbox row's sending state: pending, not tried yet, due at ``now``."""
    return {
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def attempted(attempts: int, error: str | None) -> dict[str, Any]:
    """What settling an attempt writes whatever its outcome: the count, the error (None:
    none), and the lease given back."""
    return {"attempts": attempts, "last_error": error, "lease_owner": None, "lease_until": None}


async def move_cursor(
    session: AsyncSession,
    model: type[WebhookEndpoint] | type[EmailSettings],
    row: ColumnElement[bool],
    *,
    from_cursor: int,
    to_cursor: int,
) -> bool:
    """Move the cursor of the ``model`` row ``row`` picks from ``from_cursor`` to
    ``to_cursor``, if no one else moved it first (False then: write nothing more)."""
    moved = await session.execute(
        update(model)
        .where(row, model.cursor == from_cursor)
        .values(cursor=to_cursor)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


def sendable(
    model: type[WebhookDelivery] | type[EmailMessage], now: datetime
) -> ColumnElement[bool]:
    """Pending, due by ``now``, and under no live lease."""
    return and_(
        model.status == DeliveryStatus.PENDING,
        model.next_attempt_at <= now,
        or_(model.lease_until.is_(None), model.lease_until <= now),
    )


def take_lease(
    row: WebhookDelivery | EmailMessage, *, worker: str, now: datetime, lease: timedelta
) -> None:
    """``worker`` holds ``row`` until ``now + lease`` (flushed by the caller)."""
    row.lease_owner = worker
    row.lease_until = now + lease
