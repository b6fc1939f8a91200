"""The unit of work: one write transaction per command, with idempotent replay.

Every write in Handoff goes through ``run_command``: it opens the transaction, replays
an earlier result for a repeated idempotency key, runs the command, records the key,
reloads the result through the caller's scope and commits. Whatever goes wrong comes
back as typed domain errors (with domain field names) and nothing is written. After
the commit, ``on_commit`` receives the events the transaction appended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from db import idempotency, raised_alerts
from db.engine import Database
from db.errors import DomainError, DomainErrors, ErrorCode
from db.events import changed_orders, new_events
from db.scope import Scope

R = TypeVar("R")


class HasId(Protocol):
    @property
    def id(self) -> str: ...


@dataclass(frozen=True)
class Committed(Generic[R]):
    """The command's result, reloaded through the caller's scope (``None`` when a replay
    names a result the caller can no longer see)."""

    value: R | None
    replayed: bool = False


@dataclass(frozen=True)
class Refused:
    """Nothing was written; these are the reasons."""

    errors: list[DomainError]


Outcome = Committed[R] | Refused

CONCURRENT_CHANGE = DomainError(
    ErrorCode.CONFLICT,
    "the order was changed at the same time; reload it and try again",
    ("order_id",),
)


async def run_command(
    *,
    db: Database,
    scope: Scope,
    now: datetime,
    operation: str,
    idempotency_key: str | None,
    command: Callable[[AsyncSession], Awaitable[HasId]],
    load: Callable[[AsyncSession, str], Awaitable[R | None]],
    on_commit: Callable[[list[tuple[str, str]]], None] | None = None,
) -> Outcome[R]:
    """Run ``command`` in one write transaction.

    A repeated ``idempotency_key`` (per caller) replays the first call's result and
    writes nothing. A lost compare-and-set on an order's version is a CONFLICT. A race on
    a unique key (PostgreSQL) is settled by the constraint: the loser runs once more,
    and then replays the winner's result or reports the duplicate.
    """
    for attempt in range(2):
        try:
            async with db.write_session() as session, session.begin():
                if idempotency_key is not None:
                    record = await idempotency.replay(
                        session=session, scope=scope, key=idempotency_key, operation=operation
                    )
                    if record is not None:
                        found = await load(session, record.result_id) if record.result_id else None
                        return Committed(found, replayed=True)
                result = await command(session)
                # What the command wrote, written: the alerts read it, and a lost
                # compare-and-set on the version surfaces here.
                await session.flush()
                # Alerts the change raised or ended, in the same transaction.
                await raised_alerts.sync(session, changed_orders(session), now)
                if idempotency_key is not None:
                    idempotency.remember(
                        session=session,
                        scope=scope,
                        key=idempotency_key,
                        operation=operation,
                        result_id=result.id,
                        now=now,
                    )
                    await session.flush()
                loaded = await load(session, result.id)
            if on_commit is not None:
                on_commit(new_events(session))
            return Committed(loaded)
        except DomainErrors as errors:
            return Refused(errors.errors)
        except DomainError as error:
            return Refused([error])
        except StaleDataError:
            return Refused([CONCURRENT_CHANGE])
        except IntegrityError:
            # A race lost to a concurrent writer (same idempotency key, same invoice
            # number): run once more, and the checks now see the winner's rows.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


async def run_settings(
    *, db: Database, command: Callable[[AsyncSession], Awaitable[R]]
) -> Committed[R] | Refused:
    """An org settings change: one transaction; naturally idempotent, so no key record."""
    try:
        async with db.write_session() as session, session.begin():
            return Committed(await command(session))
    except DomainErrors as errors:
        return Refused(errors.errors)
