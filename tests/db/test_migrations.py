"""Migrations and models agree, and the chain runs down and up again on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from db.base import Base
from db.engine import Database
from db.migrate import alembic_config


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _down_and_up(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


async def test_the_head_migration_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_migrations_downgrade_to_base_and_upgrade_again(db: Database) -> None:
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_down_and_up)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
