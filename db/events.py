"""The audit trail: every change to an order is a new version and one appended event.

``record`` is the only writer of ``order_events``; every command calls it, so each
event gets its per-order sequence number the same way and is noted for announcing
once the transaction commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.feed import next_positions
from db.ids import new_id
from db.models import Order, OrderEvent
from db.notes import BUYER_ALONE, Audience
from db.scope import Scope

_EVENTS = "handoff.new_events"
_ORDERS = "handoff.changed_orders"


def bump(order: Order) -> None:
    """Every change to an order is a new version, even one that only adds an event.

    ``version`` is the mapper's version column: the UPDATE carries
    ``WHERE version = <old>``, so a concurrent writer that got there first makes
    this flush fail (StaleDataError -> CONFLICT) instead of both winning.
    """
    order.version = order.version + 1


async def record(
    session: AsyncSession,
    scope: Scope,
    order: Order,
    now: datetime,
    kind: str,
    *,
    note: str | None = None,
    promised_date: date | None = None,
    audience: Audience = BUYER_ALONE,
    new_version: bool = True,
    actor: tuple[str, str | None] | None = None,
) -> OrderEvent:
    """A change to the order: a new version (unless it shares one) and its event, which
    takes the next position of the org's feed (held until commit: keep what follows
    short).

    ``audience``: who besides the buyer the buyer shared ``note`` with. Who reads a note
    is the policy table's row rules' decision, from the audience and the author.
    ``actor``: (role, subject) when the event is another party's act taking effect
    (default: the caller's)."""
    if new_version:
        bump(order)
    last = await session.scalar(
        select(func.max(OrderEvent.seq)).where(OrderEvent.order_id == order.id)
    )
    position = await next_positions(session, scope.org)
    event = OrderEvent(
        id=new_id("evt"),
        org=scope.org,
        order_id=order.id,
        seq=(last or 0) + 1,
        at=now,
        stage=order.stage,
        kind=kind,
        actor_role=actor[0] if actor else scope.role.value,
        actor_subject=actor[1] if actor else scope.subject,
        note=note,
        promised_date=promised_date,
        note_audience=audience,
        position=position,
    )
    session.add(event)
    session.info.setdefault(_EVENTS, []).append((order.id, event.id))
    session.info.setdefault(_ORDERS, {})[order.id] = order
    return event


def new_events(session: AsyncSession) -> list[tuple[str, str]]:
    """(order id, event id) of every event this session's transaction wrote."""
    events: list[tuple[str, str]] = session.info.get(_EVENTS, [])
    return events


def changed_orders(session: AsyncSession) -> list[Order]:
    """Every order this session's transaction recorded a change to."""
    orders: dict[str, Order] = session.info.get(_ORDERS, {})
    return list(orders.values())
