"""Subscription root: the feed, as one subscriber reads it.

These resolvers are the plain path (graphql-core's ``subscribe``, one subscriber):
they read the process's feed (``Context.live``) and keep what ``schema.live.visible``
lets the caller see. The server's WebSocket fan-out does not call them: it groups
subscribers by audience and document and projects each entry once per group with the
same ``visible`` and ``project`` (``app.hub``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from db.ids import type_of
from db.scope import Scope
from schema.context import Info, LiveSource
from schema.errors import PublicError
from schema.live import LiveOperation, source_of, visible
from schema.types.alerts import Alert
from schema.types.order_parts import OrderEvent


async def after_position_for(
    live: LiveSource | None, scope: Scope, after: str | None
) -> int | None:
    """The feed position of ``after`` (an OrderEvent id the caller may see). A missing,
    hidden or malformed id is the same error, so it tells nothing about other events."""
    if after is None:
        return None
    position = None
    if live is not None and type_of(after) == "OrderEvent":
        position = await live.position_of(scope, after)
    if position is None:
        raise PublicError("after is not an event you can see.")
    return position


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Every new event the caller may see, on one order or all of them. With "
            "after (an OrderEvent id), first replays the events that came later."
        )
    )
    async def order_events(
        self, info: Info, order_id: strawberry.ID | None = None, after: strawberry.ID | None = None
    ) -> AsyncGenerator[OrderEvent, None]:
        ctx = info.context
        operation = LiveOperation(
            "orderEvents",
            order_id=str(order_id) if order_id is not None else None,
            after=str(after) if after is not None else None,
        )
        start = await after_position_for(ctx.live, ctx.scope, operation.after)
        if ctx.live is None:
            return
        async for entry in ctx.live.entries(ctx.scope.org, after=start):
            if visible(ctx.scope, entry, operation):
                source = source_of(entry, ctx.now)
                assert isinstance(source, OrderEvent)
                yield source

    @strawberry.subscription(
        description="Alerts as they are raised: a threshold passed, a promise passed or slipped."
    )
    async def alert_raised(self, info: Info) -> AsyncGenerator[Alert, None]:
        ctx = info.context
        if ctx.live is None:
            return
        operation = LiveOperation("alertRaised")
        async for entry in ctx.live.entries(ctx.scope.org, after=None):
            if visible(ctx.scope, entry, operation):
                source = source_of(entry, ctx.now)
                assert isinstance(source, Alert)
                yield source
