"""What every command is called with, as two small values instead of a repeated block of
keyword arguments.

``Call`` is the caller's side of one unit of work: the open write transaction, the
caller's scope (who, in which org, allowed which actions) and the clock. Every command
takes it first; the GraphQL adapter (``schema.mutations.base``) builds it once per
mutation, tests and scripts build their own. A command adds and changes rows; the unit
of work (``db.unit_of_work.run_command``) flushes what it wrote, so commands end with
``return`` (``Call.insert`` flushes at once, for rows that others point to).

``OrderRef`` names the existing order a lifecycle command acts on and the version the
caller last read (``None``: no compare-and-set). Commands that make or act on
something else (a party, a link, an endpoint) take their ids as keyword arguments.

``Revealed`` is a row just made with its secret in the clear (a tracking link's token,
a webhook endpoint's signing secret): the one moment the secret exists unhashed or
unsealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DomainError
from db.events import record
from db.models import Order, OrderEvent, TrackingLink, WebhookEndpoint
from db.notes import Audience
from db.scope import Scope

Row = TypeVar("Row")
# The rows that come with a secret: a tracking link (its token), a webhook endpoint (its
# signing secret).
WithSecret = TypeVar("WithSecret", TrackingLink, WebhookEndpoint)


class EventDetails(TypedDict, total=False):
    """What an order event may carry besides its kind (``db.events.record`` says how)."""

    note: str | None
    promised_date: date | None
    audience: Audience
    new_version: bool
    actor: tuple[str, str | None] | None


@dataclass(frozen=True)
class Call:
    """One command's transaction, caller and clock."""

    session: AsyncSession
    scope: Scope
    now: datetime

    async def insert(self, row: Row) -> Row:
        """Add a new row and flush it, so the rows that point to it can be written."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def capped(
        self, limit: int, error: DomainError, model: type[Any], *where: ColumnElement[bool]
    ) -> DomainError | None:
        """``error`` when ``limit`` rows of ``model`` match ``where`` already, else
        ``None``: the caps on new rows (live links per order, endpoints per party,
        milestones per hour)."""
        found = await self.session.scalar(select(func.count()).select_from(model).where(*where))
        return error if (found or 0) >= limit else None

    async def record(self, order: Order, kind: str, **details: Unpack[EventDetails]) -> OrderEvent:
        """``db.events.record`` by this caller, now."""
        return await record(self.session, self.scope, order, self.now, kind, **details)


@dataclass(frozen=True)
class OrderRef:
    """The order a lifecycle command acts on, and the version its caller last read."""

    order_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class Revealed(Generic[WithSecret]):
    """A row and its secret in the clear: only in the command that made the secret."""

    row: WithSecret
    secret: str

    @property
    def id(self) -> str:
        return self.row.id
