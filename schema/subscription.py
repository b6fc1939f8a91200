"""Subscription root: live order events, redacted exactly like queries.

Each committed event id arrives through the in-process bus; the subscriber loads it
through its own scope (so it never sees another org's, party's or a hidden event),
and the event resolves through the same types and row rules as ``Order.events``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from db.ids import type_of
from db.queries import relations as queries
from schema.context import Info
from schema.types.order_parts import OrderEvent


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every new event the caller may see, on one order or on all of them."
    )
    async def order_events(
        self, info: Info, order_id: strawberry.ID | None = None
    ) -> AsyncGenerator[OrderEvent, None]:
        ctx = info.context
        wanted = str(order_id) if order_id is not None else None
        if wanted is not None and type_of(wanted) != "Order":
            return  # no such order: an empty stream, like an order out of scope
        async with ctx.bus.listen(ctx.scope.org) as queue:
            while True:
                published = await queue.get()
                if published is None:  # too slow to keep up: the stream ends
                    return
                if wanted is not None and published.order_id != wanted:
                    continue
                async with ctx.db.read_session() as session:
                    found = await queries.events_by_ids(
                        session=session, scope=ctx.scope, ids=[published.event_id]
                    )
                row = found.get(published.event_id)
                if row is not None:
                    yield OrderEvent.from_row(row)
