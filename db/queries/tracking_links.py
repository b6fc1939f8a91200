"""Tracking links: the buyer's list of them, and the one unscoped lookup — by the
token's hash, which is the credential itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order, TrackingLink
from db.queries.scope import order_scope
from db.rows import copied
from db.scope import Role, Scope


def manages_links(scope: Scope) -> bool:
    """Links are the buyer's to give out and to see: a party (client, supplier, or a link
    itself) never reads them, whatever a schema would let through."""
    return scope.role is Role.BUYER and scope.client_id is None and scope.supplier_id is None


def link_scope(scope: Scope) -> ColumnElement[bool]:
    """The links a caller may read: those on orders in scope, for the buyer only."""
    if not manages_links(scope):
        return false()
    return and_(order_scope(scope), TrackingLink.org == scope.org)


async def links_for_orders(
    *, session: AsyncSession, scope: Scope, order_ids: Sequence[str]
) -> defaultdict[str, list[TrackingLink]]:
    """Each order's links, newest first."""
    stmt = (
        select(TrackingLink)
        .join(Order, Order.id == TrackingLink.order_id)
        .where(link_scope(scope), TrackingLink.order_id.in_(order_ids))
        .order_by(TrackingLink.order_id, TrackingLink.created_at.desc(), TrackingLink.id)
    )
    grouped: defaultdict[str, list[TrackingLink]] = defaultdict(list)
    for link in await session.scalars(stmt):
        grouped[link.order_id].append(link)
    return grouped


async def links_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, TrackingLink]:
    stmt = (
        select(TrackingLink)
        .join(Order, Order.id == TrackingLink.order_id)
        .where(link_scope(scope), TrackingLink.id.in_(list(set(ids))))
    )
    return {link.id: link for link in await session.scalars(stmt)}


@dataclass(frozen=True)
class LinkTarget:
    """A link found by its token's hash, with what its page needs to know."""

    id: str
    org: str
    order_id: str
    client_id: str | None
    expires_at: datetime | None
    revoked_at: datetime | None


async def link_by_token_hash(session: AsyncSession, digest: str) -> LinkTarget | None:
    """The link whose token hashes to ``digest``, live or not (one statement, whatever
    the outcome: the caller decides liveness without another query)."""
    row = (
        await session.execute(
            select(
                TrackingLink.id,
                TrackingLink.org,
                TrackingLink.order_id,
                Order.client_id,
                TrackingLink.expires_at,
                TrackingLink.revoked_at,
            )
            .join(Order, Order.id == TrackingLink.order_id)
            .where(TrackingLink.token_hash == digest, Order.org == TrackingLink.org)
        )
    ).first()
    if row is None:
        return None
    return copied(LinkTarget, row)
