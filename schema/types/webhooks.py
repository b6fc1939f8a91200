"""Webhook endpoints and their delivery log, as their owner sees them
(``Query.webhookEndpoints``, ``node(id:)``)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import strawberry

from db import models
from db import webhooks as q
from db.scope import Role
from permissions.policy import is_hidden
from schema.context import Info
from schema.cursors import decode, encode
from schema.pagination import Connection, page_connection, page_size
from schema.relations import batched, by_id
from schema.types.common import FromRow, Node, copy_fields

ROOT_FIELDS = {
    models.WebhookEvent.ORDER_EVENT: "orderEvents",
    models.WebhookEvent.ALERT_RAISED: "alertRaised",
}


@cache
def allowed_events(role: Role) -> frozenset[models.WebhookEvent]:
    """The events ``role`` may subscribe an endpoint to: those whose subscription is in
    its schema (the policy table's ``Subscription.*`` rows)."""
    return frozenset(
        e for e in models.WebhookEvent if not is_hidden(role, "Subscription", ROOT_FIELDS[e])
    )


@strawberry.type(description="One feed entry for one endpoint, and where its delivery stands.")
class WebhookDelivery(FromRow):
    id: strawberry.ID = strawberry.field(
        description="Also the webhook-id header: the same on every attempt, for deduplication."
    )
    event: models.WebhookEvent
    status: models.DeliveryStatus
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_response_code: int | None = strawberry.field(
        description="The receiver's HTTP status at the last attempt; null: no response."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next; null once DELIVERED or FAILED."
    )
    created_at: datetime


@strawberry.type(
    description=(
        "Where the caller's party wants its events POSTed, signed per Standard Webhooks. "
        "Each body is what the caller's own subscription would receive."
    )
)
class WebhookEndpoint(Node):
    url: str
    events: list[models.WebhookEvent]
    enabled: bool = strawberry.field(
        description="False once deleted, or after days of failed deliveries (redeliver one "
        "to enable it again)."
    )
    description: str | None
    created_at: datetime
    failing_since: datetime | None = strawberry.field(
        description="Deliveries have failed since then, without a success; null: healthy."
    )
    disabled_reason: str | None = strawberry.field(
        description="Why Handoff disabled the endpoint (days of failures); null otherwise."
    )
    # The secret in the clear, only on the payload of the mutation that made it.
    secret: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return copy_fields(cls, row, events=q.events_of(row))

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        size = page_size(first)
        after_id = decode(after, "WHD") if after is not None else None
        ctx = info.context
        endpoint_id = str(self.id)
        pages = await ctx.loaders.session_run(
            lambda s: q.list_deliveries(
                session=s,
                scope=ctx.scope,
                endpoint_ids=[endpoint_id],
                first=size,
                after_id=after_id,
            )
        )
        page = pages[endpoint_id]

        async def count() -> int:
            return await ctx.loaders.session_run(
                lambda s: q.count_deliveries(session=s, scope=ctx.scope, endpoint_id=endpoint_id)
            )

        return page_connection(
            page,
            [WebhookDelivery.from_row(r) for r in page.items],
            [encode("WHD", r.id) for r in page.items],
            count,
        )


async def endpoint_connection(
    info: Info, *, first: int | None, after: str | None
) -> Connection[WebhookEndpoint]:
    size = page_size(first)
    after_id = decode(after, "WHE") if after is not None else None
    ctx = info.context
    page = await ctx.loaders.session_run(
        lambda s: q.list_endpoints(session=s, scope=ctx.scope, first=size, after_id=after_id)
    )

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: q.count_endpoints(session=s, scope=ctx.scope)
        )

    return page_connection(
        page,
        [WebhookEndpoint.from_row(r) for r in page.items],
        [encode("WHE", r.id) for r in page.items],
        count,
    )


by_id("Node", "WebhookEndpoint", batched(q.endpoints_by_ids, "ids"), WebhookEndpoint.from_row)
