"""The rules of the watchable link, without I/O: tokens and their hashes, when a link is
live, and when the goods are expected.

Tokens are 192 bits from ``secrets`` in URL-safe base64 (32 characters). Only their
SHA-256 is stored, and a link is found by that hash: an equality lookup on a unique
index. Comparing in constant time is not needed there: what a timing difference could
reveal is how much of a *hash* matched, and choosing inputs to approach a stored hash
means inverting SHA-256. A wrong token costs the same statement whether or not its
hash is near one on file.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from db.models import OrderStage, ShipmentStatus

TOKEN_BYTES = 24  # 192 bits; the contract asks for at least 128
TOKEN_MAX_LENGTH = 200  # longer path segments are hashed too, but can never match


def new_token() -> str:
    """A fresh, unguessable link token (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The only form of a token the database keeps (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_path(token: str) -> str:
    return f"/track/{token}"


def link_url(base_url: str, token: str | None) -> str:
    """The page's address; without the token (a later read: only its hash is kept) the
    token's place shows an ellipsis, so the result can never be mistaken for a link."""
    return base_url.rstrip("/") + link_path(token if token is not None else "…")


@dataclass(frozen=True)
class LinkState:
    """What decides whether a link still opens its page."""

    expires_at: datetime | None
    revoked_at: datetime | None
    client_id: str | None


def is_live(link: LinkState, now: datetime) -> bool:
    """Not revoked, not expired, and its order still has a client to show it to.

    Every condition is evaluated (no short-circuit), so a revoked, an expired and a
    live link cost the same few comparisons.
    """
    not_revoked = link.revoked_at is None
    not_expired = link.expires_at is None or now < link.expires_at
    has_client = link.client_id is not None
    return not_revoked & not_expired & has_client


CLOSED_STAGES = frozenset(
    {OrderStage.DELIVERED, OrderStage.CANCELLED, OrderStage.DECLINED, OrderStage.CLOSED}
)


def estimated_delivery(
    *,
    stage: OrderStage,
    promised_date: date | None,
    shipments: Iterable[tuple[ShipmentStatus, date | None]],
    all_dispatched: bool,
) -> date | None:
    """When the rest of the order should arrive: the latest estimate of a shipment still
    on its way; the promised date where something is not yet shipped or a shipment on
    its way has no estimate; the later of the two when both apply. None once the order
    is delivered or closed, or when nothing gives a date."""
    if stage in CLOSED_STAGES:
        return None
    candidates: list[date] = []
    needs_promise = not all_dispatched
    for status, arrival in shipments:
        if status is ShipmentStatus.DELIVERED:
            continue
        if arrival is None:
            needs_promise = True
        else:
            candidates.append(arrival)
    if needs_promise and promised_date is not None:
        candidates.append(promised_date)
    return max(candidates) if candidates else None
