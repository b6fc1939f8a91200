"""The feed: everything pushed to parties, in commit order per org.

Two kinds of entries share one position sequence per org: order events (the audit
trail) and raised alerts (the announced-alert ledger). A position is taken under the
org's ``FeedPosition`` row lock, held to the end of the writing transaction, so
positions follow commit order: a reader that has seen position N has seen every
committed position below N, and "everything after N" is a gap-free replay.

This module holds the queries; what a party may receive of an entry is decided by its
scope (``db.queries.scope``) and the policy table, and produced by executing a
GraphQL document (``schema.live``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FeedPosition, Order, OrderEvent, OrderStage, RaisedAlert
from db.notes import Audience, NoteAudience
from db.rows import copied

NOTIFY_CHANNEL = "handoff_feed"


async def next_positions(session: AsyncSession, org: str, count: int = 1) -> int:
    """Take ``count`` consecutive positions of ``org``'s feed; returns the first.

    Locks the org's position row until the transaction ends (an upsert: the first
    entry of an org creates it)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (
        insert(FeedPosition)
        .values(org=org, position=count)
        .on_conflict_do_update(
            index_elements=[FeedPosition.org],
            set_={"position": FeedPosition.position + count},
        )
        .returning(FeedPosition.position)
    )
    last = int((await session.execute(upsert)).scalar_one())
    return last - count + 1


async def heads(session: AsyncSession, orgs: Sequence[str] | None = None) -> dict[str, int]:
    """The last position each org gave out (committed or not yet: a reader treats it
    as a wake-up hint and reads committed rows only)."""
    stmt = select(FeedPosition.org, FeedPosition.position)
    if orgs is not None:
        stmt = stmt.where(FeedPosition.org.in_(list(orgs)))
    return {org: int(position) for org, position in await session.execute(stmt)}


@dataclass(frozen=True)
class _OrderEntry:
    """What every feed entry carries: its place in the feed, its order and the order's
    parties (for scope)."""

    position: int
    id: str
    org: str
    order_id: str
    supplier_id: str
    client_id: str | None


@dataclass(frozen=True)
class FeedEvent(_OrderEntry):
    """An order event as the feed carries it."""

    seq: int
    at: datetime
    stage: OrderStage
    kind: str
    actor_role: str
    actor_subject: str | None
    note: str | None
    promised_date: date | None
    note_audience: Audience


@dataclass(frozen=True)
class FeedAlert(_OrderEntry):
    """A raised alert as the feed carries it."""

    kind: str
    stage: OrderStage
    since: datetime
    raised_at: datetime
    threshold_hours: float | None
    message: str


FeedEntry = FeedEvent | FeedAlert


def _entry(row: Any) -> FeedEntry:
    if row.entry == "event":
        return copied(FeedEvent, row, read=_READ)
    return copied(FeedAlert, row, read=_READ)


def _none(column: Any, name: str) -> Any:
    """A typed NULL standing for ``column`` in the other branch of the UNION (PostgreSQL
    types an untyped NULL in a subquery as text, which no other type unites with)."""
    return cast(null(), column.type).label(name)


_SHARED = ("position", "id", "org", "order_id")  # on both tables, same meaning
_OWN = {  # each table's own columns; the other branch of the UNION fills them with NULL
    "event": (
        "kind",
        "stage",
        "seq",
        "at",
        "actor_role",
        "actor_subject",
        "note",
        "promised_date",
        "note_audience",
    ),
    "alert": ("kind", "stage", "since", "raised_at", "threshold_hours", "message"),
}
_TABLES: dict[str, Any] = {"event": OrderEvent, "alert": RaisedAlert}
_COLUMN_ORDER = tuple(dict.fromkeys(_OWN["event"] + _OWN["alert"]))


def _branch(entry: str) -> Any:
    table = _TABLES[entry]
    other = _TABLES["alert" if entry == "event" else "event"]
    own = [
        getattr(table, name) if name in _OWN[entry] else _none(getattr(other, name), name)
        for name in _COLUMN_ORDER
    ]
    return (
        select(
            literal(entry).label("entry"),
            *(getattr(table, name) for name in _SHARED),
            Order.supplier_id,
            Order.client_id,
            *own,
        )
        .join(Order, Order.id == table.order_id)
        .where(table.org == bindparam("org"), table.position > bindparam("after"))
        .order_by(table.position)
        .limit(bindparam("limit"))
    )


def _feed_select() -> Any:
    """Events and raised alerts after ``after`` in ONE statement (one snapshot: two
    statements could see a later position of one table and miss an earlier one of the
    other that committed in between). Built once: every relay wake-up runs it, and
    building the UNION's column collections cost more than executing it."""
    branches = [_branch(entry).subquery().select() for entry in _TABLES]
    both = union_all(*branches).subquery()
    return select(both).order_by(both.c.position).limit(bindparam("limit"))


_FEED_SELECT = _feed_select()


async def read(session: AsyncSession, *, org: str, after: int, limit: int = 500) -> list[FeedEntry]:
    """The org's entries with a position above ``after``, in position order (at most
    ``limit``; read again from the last one for more)."""
    rows = await session.execute(_FEED_SELECT, {"org": org, "after": after, "limit": limit})
    return [_entry(r) for r in rows]


def _aware(value: Any) -> datetime:
    """Column types are lost in a UNION: SQLite hands back text, PostgreSQL a datetime."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _audience(value: Any) -> Audience:
    if isinstance(value, frozenset):
        return value
    return frozenset(NoteAudience(v) for v in str(value or "").split(",") if v)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# The entry fields whose values the UNION hands back untyped, and how to read them.
_READ: dict[str, Callable[[Any], object]] = {
    "position": int,
    "stage": OrderStage,
    "at": _aware,
    "since": _aware,
    "raised_at": _aware,
    "promised_date": _date,
    "note_audience": _audience,
}


async def event_position(session: AsyncSession, *, org: str, event_id: str) -> int | None:
    """The feed position of one of ``org``'s events (scope is the caller's to apply)."""
    found = await session.scalar(
        select(OrderEvent.position).where(OrderEvent.org == org, OrderEvent.id == event_id)
    )
    return int(found) if found is not None else None


async def last_position(session: AsyncSession, org: str) -> int:
    """The highest committed position of the org's feed (0 when it is empty)."""
    events = await session.scalar(
        select(func.max(OrderEvent.position)).where(OrderEvent.org == org)
    )
    alerts = await session.scalar(
        select(func.max(RaisedAlert.position)).where(RaisedAlert.org == org)
    )
    return max(int(events or 0), int(alerts or 0))
