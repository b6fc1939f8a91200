"""Giving an order's client a link to watch it, and taking the link back.

A link is a capability: whoever holds its token reads that one order as its client
would (``permissions.tracking``). The token is returned once, by ``create_link``;
the database keeps only its hash. Creating or revoking a link is not a change to the
order (no version, no event): the client's view of the order is the same either way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.commands._order import locked_order
from db.commands.context import Call, Revealed
from db.errors import DomainError, ErrorCode, raise_if
from db.ids import new_id
from db.models import Order, TrackingLink
from db.queries.tracking_links import link_scope, manages_links
from db.scope import Role, Scope
from db.tracking import new_token, token_hash

# Live links per order: enough for every person who should watch, few enough that a
# runaway integration cannot mint tokens without end.
MAX_LIVE_LINKS = 20

TOO_MANY_LINKS = DomainError(
    ErrorCode.VALIDATION,
    f"this order already has {MAX_LIVE_LINKS} live links; revoke one first",
    ("order_id",),
)

NO_SUCH_ORDER = DomainError(ErrorCode.NOT_FOUND, "no such order", ("order_id",))


async def create_link(
    call: Call, *, order_id: str, expires_at: datetime | None
) -> Revealed[TrackingLink]:
    """A new link to ``order_id`` (in the buyer's scope). An order without a client has
    no one to show it to: VALIDATION. ``expires_at`` must lie in the future."""
    order = None
    if manages_links(call.scope):
        order = await locked_order(call, order_id)
    if order is None:
        raise NO_SUCH_ORDER
    errors: list[DomainError | None] = []
    if order.client_id is None:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "this order has no client: a tracking link shows an order to its client",
                ("order_id",),
            )
        )
    if expires_at is not None and expires_at <= call.now:
        errors.append(DomainError(ErrorCode.VALIDATION, "must be in the future", ("expires_at",)))
    live = (
        TrackingLink.order_id == order.id,
        TrackingLink.revoked_at.is_(None),
        or_(TrackingLink.expires_at.is_(None), TrackingLink.expires_at > call.now),
    )
    errors.append(await call.capped(MAX_LIVE_LINKS, TOO_MANY_LINKS, TrackingLink, *live))
    raise_if(errors)
    token = new_token()
    link = await call.insert(
        TrackingLink(
            id=new_id("trk"),
            org=call.scope.org,
            order_id=order.id,
            token_hash=token_hash(token),
            created_at=call.now,
            created_by=call.scope.subject,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    # The only time the token exists in the clear.
    return Revealed(row=link, secret=token)


async def create_link_for_order(
    session: AsyncSession,
    *,
    org: str,
    order_id: str,
    now: datetime,
    expires_at: datetime | None = None,
    created_by: str = "handoff",
) -> Revealed[TrackingLink]:
    """For the system's own use inside a transaction it already holds (the client's
    dispatch e-mail): a link made on the org's behalf, as the buyer would make it.
    Raises ``DomainError``/``DomainErrors`` like ``create_link`` (no client: VALIDATION)."""
    system = Scope(org=org, role=Role.BUYER, subject=created_by)
    return await create_link(Call(session, system, now), order_id=order_id, expires_at=expires_at)


async def revoke_link(call: Call, *, link_id: str) -> TrackingLink:
    """The page stops opening at once, and open live streams end at their next check.
    Revoking a revoked link changes nothing (its first revocation time stays)."""
    link = await call.session.scalar(
        select(TrackingLink)
        .join(Order, Order.id == TrackingLink.order_id)
        .where(link_scope(call.scope), TrackingLink.id == link_id)
        .with_for_update()
    )
    if link is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such tracking link", ("link_id",))
    if link.revoked_at is None:
        link.revoked_at = call.now
    return link
