"""A tracking link as a caller: the client of its order, narrowed to that one order.

The page a link opens is whatever this principal may read through the client role's
schema — the policy table's client column and row rules, and a row scope that admits
one order (``Scope.order_id``) — so a link can never show more than the order's own
client would see, and nothing of its other orders.
"""

from __future__ import annotations

from db.queries.tracking_links import LinkTarget
from permissions.principal import Principal, Role


def link_principal(link: LinkTarget) -> Principal | None:
    """The principal a live link acts as; None for a link on an order without a client
    (creation refuses those, so it does not happen; and if it did, no page)."""
    if link.client_id is None:
        return None
    return Principal(
        role=Role.CLIENT,
        org=link.org,
        subject=f"tracking-link:{link.id}",
        client_id=link.client_id,
        order_id=link.order_id,
        expires_at=link.expires_at,
    )
