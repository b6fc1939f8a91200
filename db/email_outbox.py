"""The e-mail outbox: the feed plus a durable cursor per org, like webhooks'.

A worker reads the org's entries after ``EmailSettings.cursor``, turns those that
someone should hear of by e-mail into ``EmailMessage`` rows and moves the cursor in
one transaction (``advance``, a compare-and-set), then claims due messages with a
lease and settles each attempt (``claim``, ``settle``), so a process that dies loses
no message and two workers never send the same one at once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TypedDict, Unpack

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db import feed
from db.ids import new_id
from db.models import (
    Client,
    DeliveryStatus,
    EmailMessage,
    EmailSettings,
    FeedPosition,
    Order,
    Supplier,
    WebhookEndpoint,
)
from db.outbox import attempted, due_now, move_cursor, sendable, take_lease
from db.rows import copied

ATTEMPTS = 6  # then FAILED: 5 s, 30 s, 2 min, 10 min, 30 min apart (with jitter)
WAITS = tuple(timedelta(seconds=s) for s in (5, 30, 120, 600, 1800))
# An org's settings until someone changes them: everything on, no buyer address.
NEW_ORG_SETTINGS: dict[str, object] = {
    "enabled": True,
    "purchase_orders": True,
    "alerts": True,
    "dispatches": True,
    "buyer_email": None,
}


class SettingsChange(TypedDict, total=False):
    """What ``configure`` may change; None, like absent, leaves a setting as it is (an
    empty ``buyer_email`` clears it)."""

    enabled: bool | None
    purchase_orders: bool | None
    alerts: bool | None
    dispatches: bool | None
    buyer_email: str | None


@dataclass(frozen=True)
class NewMessage:
    kind: str
    position: int
    recipient: str
    subject: str
    text_body: str
    html_body: str


@dataclass(frozen=True)
class ClaimedMessage:
    id: str
    recipient: str
    subject: str
    text_body: str
    html_body: str
    attempts: int


async def ensure_settings(session: AsyncSession) -> None:
    """Every org with a feed gets its settings row, on, from the feed's current end
    (what was committed before e-mail was configured is not mailed)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    missing = select(
        FeedPosition.org,
        FeedPosition.position,
    ).where(~FeedPosition.org.in_(select(EmailSettings.org)))
    for org, position in (await session.execute(missing)).all():
        await session.execute(
            insert(EmailSettings)
            .values(
                org=org,
                **NEW_ORG_SETTINGS,
                cursor=await feed.last_position(session, org) if position else 0,
            )
            .on_conflict_do_nothing(index_elements=[EmailSettings.org])
        )


async def behind(session: AsyncSession) -> list[EmailSettings]:
    stmt = (
        select(EmailSettings)
        .join(FeedPosition, FeedPosition.org == EmailSettings.org)
        .where(FeedPosition.position > EmailSettings.cursor)
    )
    return list(await session.scalars(stmt))


async def contacts(
    session: AsyncSession, *, org: str, order_ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None, str, str | None]]:
    """Per order: (supplier contact, client contact, supplier id, client id)."""
    stmt = (
        select(
            Order.id,
            Supplier.contact_email,
            Client.contact_email,
            Order.supplier_id,
            Order.client_id,
        )
        .join(Supplier, Supplier.id == Order.supplier_id)
        .outerjoin(Client, Client.id == Order.client_id)
        .where(Order.org == org, Order.id.in_(list(order_ids)))
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in await session.execute(stmt)}


async def advance(
    session: AsyncSession,
    *,
    org: str,
    from_cursor: int,
    to_cursor: int,
    messages: Sequence[NewMessage],
    now: datetime,
) -> bool:
    if not await move_cursor(
        session,
        EmailSettings,
        EmailSettings.org == org,
        from_cursor=from_cursor,
        to_cursor=to_cursor,
    ):
        return False
    session.add_all(_pending(org, m, now) for m in messages)
    await session.flush()
    return True


def _pending(org: str, m: NewMessage, now: datetime) -> EmailMessage:
    return EmailMessage(id=new_id("eml"), org=org, **asdict(m), **due_now(now))


async def endpoint_disabled(
    session: AsyncSession, *, endpoint: WebhookEndpoint, now: datetime
) -> bool:
    """Tell an endpoint's owner that it was disabled, by e-mail to the owner's own
    contact (the buyer's alert address, the supplier's or client's contact e-mail), in
    the transaction that disables it. The message names only the owner's own endpoint.
    False when the org's e-mail is off or the owner has no address."""
    settings = await session.get(EmailSettings, endpoint.org)
    if settings is None or not settings.enabled:
        return False
    recipient: str | None = None
    if endpoint.owner_role == "buyer":
        recipient = settings.buyer_email
    elif endpoint.owner_role in ("supplier", "client") and endpoint.owner_party:
        party = Supplier if endpoint.owner_role == "supplier" else Client
        recipient = await session.scalar(
            select(party.contact_email).where(
                party.id == endpoint.owner_party, party.org == endpoint.org
            )
        )
    if not recipient:
        return False
    reason = endpoint.disabled_reason or "deliveries kept failing"
    text = (
        f"Handoff stopped sending webhooks to {endpoint.url} ({endpoint.id}): {reason}.\n\n"
        "Fix the receiver, then redeliver one of its deliveries (redeliverWebhook): the "
        "endpoint is enabled again and the deliveries it missed are still in its log.\n"
    )
    html = "<p>" + escape(text).replace("\n\n", "</p><p>").replace("\n", "") + "</p>"
    message = NewMessage(
        kind="WEBHOOK_DISABLED",
        position=endpoint.cursor,
        recipient=recipient,
        subject=" ".join(f"Webhook endpoint disabled: {endpoint.url}".split())[:200],
        text_body=text,
        html_body=html,
    )
    session.add(_pending(endpoint.org, message, now))
    return True


async def claim(
    session: AsyncSession, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedMessage]:
    due = (
        select(EmailMessage)
        .where(sendable(EmailMessage, now))
        .order_by(EmailMessage.next_attempt_at, EmailMessage.position)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for message in await session.scalars(due):
        take_lease(message, worker=worker, now=now, lease=lease)
        claimed.append(copied(ClaimedMessage, message))
    await session.flush()
    return claimed


async def settle(
    session: AsyncSession,
    *,
    claimed: ClaimedMessage,
    worker: str,
    now: datetime,
    error: str | None,
    rng: random.Random,
) -> None:
    attempts = claimed.attempts + 1
    values = attempted(attempts, error)
    if error is None:
        values |= {"status": DeliveryStatus.DELIVERED, "sent_at": now, "next_attempt_at": None}
    elif attempts >= ATTEMPTS:
        values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        wait = WAITS[attempts - 1] * rng.uniform(0.8, 1.2)
        values |= {"next_attempt_at": now + wait}
    await session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == claimed.id, EmailMessage.lease_owner == worker)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def configure(
    session: AsyncSession,
    *,
    org: str,
    **changes: Unpack[SettingsChange],
) -> EmailSettings:
    """Change an org's e-mail settings (the row is made, from now on, if missing)."""
    found = await session.get(EmailSettings, org, with_for_update=True)
    if found is None:
        found = EmailSettings(
            org=org, **NEW_ORG_SETTINGS, cursor=await feed.last_position(session, org)
        )
        session.add(found)
    for name, value in changes.items():
        if value is not None:
            setattr(found, name, value or None if name == "buyer_email" else value)
    await session.flush()
    return found
