"""Webhook endpoints and their delivery log, as their owner reads them.

An endpoint belongs to one party: the role and its supplier or client id (the buyer:
the org itself). Every read here is narrowed to the caller's own party
(``endpoint_scope``): a supplier never reaches the buyer's endpoints, nor another
supplier's, and the same holds for the delivery log. The outbox (turning the feed into
deliveries, claiming and settling them) is ``db.webhook_outbox``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from db.queries.page import Page
from db.scope import Role, Scope


@dataclass(frozen=True)
class Owner:
    """Whose endpoints: the party a caller acts for."""

    org: str
    role: Role
    party: str | None


def owner_of(scope: Scope) -> Owner | None:
    """The party ``scope`` acts for; None for a caller that owns no endpoints (a
    tracking link: a capability for one order, not a party)."""
    if scope.order_id is not None:
        return None
    if scope.role is Role.SUPPLIER:
        return Owner(scope.org, scope.role, scope.supplier_id)
    if scope.role is Role.CLIENT:
        return Owner(scope.org, scope.role, scope.client_id)
    return Owner(scope.org, scope.role, None)


def endpoint_scope(scope: Scope, *, deleted: bool = False) -> ColumnElement[bool]:
    """The endpoints ``scope`` may read and change: its own party's, not deleted (with
    ``deleted``: deleted ones too — the payload of the deletion itself)."""
    owner = owner_of(scope)
    if owner is None:
        return false()
    party = (
        WebhookEndpoint.owner_party.is_(None)
        if owner.party is None
        else WebhookEndpoint.owner_party == owner.party
    )
    return and_(
        WebhookEndpoint.org == owner.org,
        WebhookEndpoint.owner_role == owner.role.value,
        party,
        true() if deleted else WebhookEndpoint.deleted_at.is_(None),
    )


def events_of(endpoint: WebhookEndpoint) -> list[WebhookEvent]:
    return [WebhookEvent(e) for e in endpoint.events.split(",") if e]


async def list_endpoints(
    *, session: AsyncSession, scope: Scope, first: int, after_id: str | None
) -> Page[WebhookEndpoint]:
    """The caller's endpoints, newest first (keyset on creation time and id)."""
    stmt = select(WebhookEndpoint).where(endpoint_scope(scope))
    if after_id is not None:
        anchor = await session.scalar(
            select(WebhookEndpoint.created_at).where(
                endpoint_scope(scope), WebhookEndpoint.id == after_id
            )
        )
        if anchor is None:
            return Page(items=[], has_next=False, has_previous=True)
        stmt = stmt.where(
            or_(
                WebhookEndpoint.created_at < anchor,
                and_(WebhookEndpoint.created_at == anchor, WebhookEndpoint.id > after_id),
            )
        )
    stmt = stmt.order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id).limit(first + 1)
    rows = list(await session.scalars(stmt))
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_endpoints(*, session: AsyncSession, scope: Scope) -> int:
    found = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(endpoint_scope(scope))
    )
    return int(found or 0)


async def endpoints_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str], deleted: bool = False
) -> dict[str, WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(
        endpoint_scope(scope, deleted=deleted), WebhookEndpoint.id.in_(list(ids))
    )
    return {e.id: e for e in await session.scalars(stmt)}


def _deliveries_in_scope(scope: Scope) -> ColumnElement[bool]:
    owned = select(WebhookEndpoint.id).where(endpoint_scope(scope))
    return WebhookDelivery.endpoint_id.in_(owned.scalar_subquery()) if owner_of(scope) else false()


async def list_deliveries(
    *,
    session: AsyncSession,
    scope: Scope,
    endpoint_ids: Sequence[str],
    first: int,
    after_id: str | None,
) -> dict[str, Page[WebhookDelivery]]:
    """Each endpoint's deliveries, newest first (the delivery log)."""
    pages: dict[str, Page[WebhookDelivery]] = {}
    for endpoint_id in endpoint_ids:
        stmt = select(WebhookDelivery).where(
            _deliveries_in_scope(scope), WebhookDelivery.endpoint_id == endpoint_id
        )
        if after_id is not None:
            anchor = await session.scalar(
                select(WebhookDelivery.created_at).where(
                    _deliveries_in_scope(scope), WebhookDelivery.id == after_id
                )
            )
            stmt = stmt.where(
                or_(
                    WebhookDelivery.created_at < anchor,
                    and_(WebhookDelivery.created_at == anchor, WebhookDelivery.id > after_id),
                )
                if anchor is not None
                else false()
            )
        stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(first + 1)
        rows = list(await session.scalars(stmt))
        pages[endpoint_id] = Page(
            items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None
        )
    return pages


async def count_deliveries(*, session: AsyncSession, scope: Scope, endpoint_id: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(_deliveries_in_scope(scope), WebhookDelivery.endpoint_id == endpoint_id)
    )
    return int(found or 0)


async def delivery_in_scope(
    *, session: AsyncSession, scope: Scope, delivery_id: str, for_update: bool = False
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(
        _deliveries_in_scope(scope) if owner_of(scope) else false(),
        WebhookDelivery.id == delivery_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    found: WebhookDelivery | None = await session.scalar(stmt)
    return found
