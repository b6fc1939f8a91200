"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite allows one writer at a time. Writes go through a dedicated engine whose
transactions start with ``BEGIN IMMEDIATE`` on a single pooled connection, so
writers queue in-process instead of failing with "database is locked". Reads use
their own pool in autocommit (each read session issues one statement, so no
BEGIN round trip) and, thanks to WAL, never wait for a writer.

PostgreSQL: one pool, sized by the caller (``DB_POOL_SIZE`` / ``DB_MAX_OVERFLOW``), no
pre-ping (a ping is a round trip per checkout; a connection the server dropped fails
its statement once and is discarded by the pool, like any disconnect). Read sessions
run in asyncpg's autocommit mode: each statement is its own snapshot and no
BEGIN/ROLLBACK pair goes over the wire. Writes keep ordinary transactions.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass
class StatementCounter:
    """Counts SQL statements issued while it is the current counter."""

    count: int = 0
    statements: list[str] = field(default_factory=list)


_current_counter: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "handoff_statement_counter", default=None
)


def start_counting() -> StatementCounter:
    """Count statements in this context and in tasks created from it from now on."""
    counter = StatementCounter()
    _current_counter.set(counter)
    return counter


def current_counter() -> StatementCounter | None:
    """The counter statements in this context are counted on, if any (the bench reads
    it to count a request's statements)."""
    return _current_counter.get()


def _count_statement(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    counter = _current_counter.get()
    if counter is not None:
        counter.count += 1
        counter.statements.append(statement)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Database:
    """The read and write paths to one database."""

    url: str
    engine: AsyncEngine
    write_engine: AsyncEngine
    read_session: async_sessionmaker[AsyncSession]
    write_session: async_sessionmaker[AsyncSession]

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()


DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 10


def connect(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
) -> Database:
    """Create the engines for ``url``; no I/O happens until first use.

    ``pool_size`` connections stay open; up to ``max_overflow`` more are opened under a
    burst and closed again when returned (connection churn: size the pool for the
    steady load, ``MAX_CONCURRENT_EXECUTIONS`` times the sessions one request holds)."""
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        write_engine = create_async_engine(
            url, echo=echo, pool_size=1, max_overflow=0, pool_timeout=60
        )
        _sqlite_pragmas(engine, immediate=False)
        _sqlite_pragmas(write_engine, immediate=True)
        read_engine = engine
    else:
        # LIFO: the most recently used connection goes out again, so a request finds its
        # statements already prepared there (asyncpg's cache is per connection) and idle
        # connections stay idle.
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=False,
            pool_use_lifo=True,
        )
        write_engine = engine
        # Same pool; connections checked out through it run without a transaction.
        read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    for eng in {id(engine): engine, id(write_engine): write_engine}.values():
        event.listen(eng.sync_engine, "before_cursor_execute", _count_statement)
    return Database(
        url=url,
        engine=engine,
        write_engine=write_engine,
        read_session=async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False),
        write_session=async_sessionmaker(write_engine, expire_on_commit=False, autoflush=False),
    )
