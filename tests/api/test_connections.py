"""Connections: a read request costs its statements and nothing else on the wire, and
concurrent requests reuse the pool instead of opening server connections.

Counted with SQLAlchemy's pool events (connections opened, checkouts) and, on
PostgreSQL, asyncpg's query logger on every pooled connection. The logger sees the
driver's unprepared messages (BEGIN, ROLLBACK, a pre-ping), not SQLAlchemy's prepared
statements; a transactional session is the control that it is listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, text

from bench.documents import DASHBOARD, PORTAL
from conftest import PG_URL, FixedClock, GraphQL
from db.engine import Database
from db.seed import SeedResult
from worlds.busy import busy_org

CONCURRENT = 8


@dataclass
class Wire:
    """What the pool did: server connections opened, checkouts, and (PostgreSQL) the
    queries asyncpg sent."""

    opened: int = 0
    checkouts: int = 0
    queries: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.opened = self.checkouts = 0
        self.queries.clear()


@pytest.fixture
async def wire(db: Database) -> Wire:
    """Counting from a fresh pool (pool events registered on the engine follow it)."""
    seen = Wire()
    pool_events = db.engine.sync_engine

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        seen.opened += 1
        if PG_URL:
            record.driver_connection.add_query_logger(lambda q: seen.queries.append(q.query))

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.checkouts += 1

    event.listen(pool_events, "connect", on_connect)
    event.listen(pool_events, "checkout", on_checkout)
    await db.engine.dispose()
    return seen


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> SeedResult:
    return await busy_org(db, clock.now)


async def test_concurrent_dashboards_open_no_server_connection_once_the_pool_is_warm(
    seeded: SeedResult, buyer: GraphQL, wire: Wire
) -> None:
    # given: the pool warmed by one round of concurrent requests
    async def round_of_requests() -> None:
        bodies = await asyncio.gather(*(buyer(DASHBOARD, {"first": 20}) for _ in range(CONCURRENT)))
        assert all("errors" not in b for b in bodies), bodies[0]

    await round_of_requests()
    wire.reset()

    # when
    for _ in range(3):
        await round_of_requests()

    # then: every checkout reused a pooled connection
    assert wire.opened == 0
    # one session for the page, its count and the prefetched relations at most
    assert wire.checkouts <= 3 * CONCURRENT * 3


@pytest.mark.skipif(not PG_URL, reason="asyncpg's wire traffic is PostgreSQL's")
async def test_a_read_request_sends_only_its_statements_no_begin_rollback_or_ping(
    seeded: SeedResult, as_role: Callable[..., GraphQL], wire: Wire, db: Database
) -> None:
    # given: a warm pool
    client = as_role("client", client_id=seeded.clients[0])
    buyer = as_role("buyer")
    await buyer(DASHBOARD, {"first": 20})
    await client(PORTAL, {"first": 20})
    for role_gql, document in ((buyer, DASHBOARD), (client, PORTAL)):
        wire.reset()

        # when
        body = await role_gql(document, {"first": 20})

        # then
        assert "errors" not in body, body
        sent = [q.strip().upper() for q in wire.queries]
        assert not [q for q in sent if q.startswith(("BEGIN", "ROLLBACK", "COMMIT"))], sent
        assert not [q for q in sent if q in (";", "SELECT 1")], sent  # pre-ping

    # control: a write session's transaction is on the wire, so the logger listens
    wire.reset()
    async with db.write_session() as session, session.begin():
        await session.execute(text("SELECT 1"))
    assert any(q.strip().upper().startswith("BEGIN") for q in wire.queries), wire.queries
