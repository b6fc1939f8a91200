"""Shared fixtures: a clean real database per test (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), the ASGI app over httpx, a fixed clock and tokens."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.main import create_app
from app.settings import Settings
from db.base import Base
from db.engine import Database, connect
from db.migrate import upgrade
from permissions.tokens import issue_token

SECRET = "test-secret-that-is-long-enough-0123456789abcdef"
AUDIENCE = "handoff"
ISSUER = "handoff-dev"
PG_URL = os.environ.get("TEST_DATABASE_URL")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class FixedClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the head migration: a SQLite file to copy, or, on PostgreSQL, a
    database of this session's own on the TEST_DATABASE_URL server (so concurrent runs
    never share tables), dropped at the end."""
    if PG_URL:
        base = make_url(PG_URL)
        name = f"{base.database}_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(PG_URL, f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        try:
            asyncio.run(upgrade(url))
            yield url
        finally:
            asyncio.run(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    yield str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    if PG_URL:
        return migrated_template
    target = tmp_path / "handoff.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = connect(database_url)
    if PG_URL:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        jwt_secret=SECRET,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        environment="development",
    )


@pytest.fixture
async def client(
    settings: Settings, db: Database, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://handoff.test") as c:
        yield c


def make_token(
    role: str,
    *,
    org: str = "org-a",
    subject: str | None = None,
    client_id: str | None = None,
    supplier_id: str | None = None,
) -> str:
    return issue_token(
        secret=SECRET,
        audience=AUDIENCE,
        issuer=ISSUER,
        org=org,
        role=role,
        subject=subject or f"{role}-user@{org}",
        client_id=client_id,
        supplier_id=supplier_id,
        ttl_seconds=3600,
    )


@dataclass
class GraphQL:
    """Posts GraphQL documents with a token; returns the decoded JSON body."""

    http: httpx.AsyncClient
    token: str | None

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.raw(query, variables)
        return response.json()

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


@pytest.fixture
def as_role(client: httpx.AsyncClient) -> Callable[..., GraphQL]:
    def factory(role: str, **claims: Any) -> GraphQL:
        return GraphQL(client, make_token(role, **claims))

    return factory


@pytest.fixture
def buyer(as_role: Callable[..., GraphQL]) -> GraphQL:
    return as_role("buyer")
