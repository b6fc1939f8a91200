"""Tracking links as the buyer sees them (``Order.trackingLinks``, ``node(id:)``), with
the relations that load them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.queries import tracking_links as q
from db.tracking import link_url
from schema.context import Info
from schema.relations import batched, by_id, children
from schema.types.common import FromRow, Node


@strawberry.type(
    description=(
        "A link that shows one order to its client, live, as the client's own view of it "
        "(GET /track/{token}); no one needs an account to open it."
    )
)
class TrackingLink(Node, FromRow):
    expires_at: datetime | None = strawberry.field(
        description="After this the page answers 404; null: until revoked."
    )
    revoked_at: datetime | None
    created_at: datetime
    # The token, in the clear, only on the object createTrackingLink returns.
    token: strawberry.Private[str | None] = None

    @strawberry.field(
        description=(
            "The page's address. Complete only in the createTrackingLink payload: the token "
            "is kept as a hash, so later reads show …/track/… without it."
        )
    )
    def url(self, info: Info) -> str:
        return link_url(info.context.public_url, self.token)


children(
    "Order", "trackingLinks", q.links_for_orders, keyword="order_ids", wrap=TrackingLink.from_row
)
by_id("Node", "TrackingLink", batched(q.links_by_ids, "ids"), TrackingLink.from_row)
