"""Domain commands as the benchmarks' writers run them: straight through
``run_command`` (no HTTP, no idempotency key), noting when each event committed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from db.clock import system_clock
from db.commands import supplier as supplier_commands
from db.commands.context import Call, OrderRef
from db.engine import Database
from db.models import Order
from db.unit_of_work import run_command
from permissions.principal import Principal, Role


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database ``url`` names if it is missing (SQLite: nothing)."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


async def _no_load(_session: Any, _id: str) -> None:
    return None


async def run_as(
    db: Database,
    principal: Principal,
    operation: str,
    command: Callable[[AsyncSession], Awaitable[Any]],
    *,
    on_commit: Callable[[list[tuple[str, str]]], None] | None = None,
) -> None:
    """Run ``command`` in one write transaction as ``principal`` (the result is not read)."""
    await run_command(
        db=db,
        scope=principal.scope,
        now=system_clock(),
        operation=operation,
        idempotency_key=None,
        command=command,
        load=_no_load,
        on_commit=on_commit,
    )


async def add_milestone(
    db: Database, order: Order, *, org: str, subject: str, note: str
) -> dict[str, int]:
    """Add a milestone to ``order`` as its supplier; the events it committed, each with
    the time (ns) the commit returned."""
    principal = Principal(Role.SUPPLIER, org, subject, supplier_id=order.supplier_id)
    noted: list[tuple[str, str]] = []

    async def milestone(session: AsyncSession) -> Order:
        return await supplier_commands.add_milestone(
            Call(session, principal.scope, system_clock()), OrderRef(order.id), note=note
        )

    await run_as(db, principal, "addMilestone", milestone, on_commit=noted.extend)
    committed = time.time_ns()
    return {event_id: committed for _, event_id in noted}
