"""Which order events a write transaction produced, for announcing after commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "handoff.new_events"


def note_event(session: AsyncSession, order_id: str, event_id: str) -> None:
    session.info.setdefault(_KEY, []).append((order_id, event_id))


def new_events(session: AsyncSession) -> list[tuple[str, str]]:
    """(order id, event id) of every event this session's transaction wrote."""
    events: list[tuple[str, str]] = session.info.get(_KEY, [])
    return events
