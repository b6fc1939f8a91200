"""Migration 0004 (exceptions and note audiences) on data written before it: every order
gets revision 1 and whose move it is, every existing note the new default (the buyer's
alone), the stage CHECK learns CLOSED; and back down, a CLOSED order reads DELIVERED.
(That the head agrees with the models: ``test_migrations.py``.)"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.engine import Database
from db.migrate import alembic_config

REVISION = "0004_exceptions"
T = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _migrate(connection: Connection, to: str, down: bool = False) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(cfg, to)


def _before() -> str:
    """The revision 0004 follows (whatever it is re-chained to)."""
    down = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _seed_old_rows(connection: Connection) -> None:
    """Rows as the code before 0004 wrote them: an ISSUED and a DISPATCHED order, a
    buyer's cancel-style note, a buyer-internal note, a supplier's note, a receipt."""
    run = connection.execute
    run(
        text(
            "INSERT INTO suppliers (id, org, name, created_at) "
            "VALUES ('sup_1', 'org-a', 'Acme', :t)"
        ),
        {"t": T},
    )
    for order_id, number, stage in (("ord_1", "PO-1", "ISSUED"), ("ord_2", "PO-2", "DISPATCHED")):
        run(
            text(
                "INSERT INTO orders (id, org, number, stage, supplier_id, currency, total, "
                "need_by, promise_slips, issued_at, stage_entered_at, version, created_by) "
                "VALUES (:id, 'org-a', :number, :stage, 'sup_1', 'EUR', 100000, :need_by, 0, "
                ":t, :t, 1, 'buyer@org-a')"
            ),
            {"id": order_id, "number": number, "stage": stage, "need_by": date(2026, 4, 1), "t": T},
        )
        run(
            text(
                "INSERT INTO order_lines (order_id, line_no, org, part_number, quantity, "
                "unit_price, dispatched_quantity, received_quantity) "
                "VALUES (:id, 1, 'org-a', 'P-1', 10, 100000, 0, 0)"
            ),
            {"id": order_id},
        )
    events = [
        ("evt_1", 1, "buyer", "client moved the build", False),
        ("evt_2", 2, "buyer", "supplier too expensive", True),
        ("evt_3", 3, "supplier", "material ordered", False),
    ]
    for event_id, seq, role, note, internal in events:
        run(
            text(
                "INSERT INTO order_events (id, org, order_id, seq, at, stage, kind, actor_role, "
                "actor_subject, note, internal, position) VALUES (:id, 'org-a', 'ord_2', :seq, "
                ":t, 'DISPATCHED', 'NOTE', :role, 'someone', :note, :internal, :position)"
            ),
            {
                "id": event_id,
                "seq": seq,
                "t": T,
                "role": role,
                "note": note,
                "internal": internal,
                "position": seq,
            },
        )
    run(
        text(
            "INSERT INTO receipts (id, org, order_id, received_at, actor_subject, note) "
            "VALUES ('rcp_1', 'org-a', 'ord_2', :t, 'buyer@org-a', 'two dented')"
        ),
        {"t": T},
    )


def _rows(connection: Connection, sql: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(text(sql))]


def _upgrade_over_old_rows(connection: Connection) -> dict[str, Any]:
    _migrate(connection, _before(), down=True)
    _seed_old_rows(connection)
    _migrate(connection, "head")
    found = {
        "orders": _rows(connection, "SELECT id, stage, revision, awaiting FROM orders ORDER BY id"),
        "revisions": _rows(
            connection,
            "SELECT order_id, number, actor_role, actor_subject, reason, reason_audience, "
            "changes FROM order_revisions ORDER BY order_id",
        ),
        "events": _rows(connection, "SELECT id, note, note_audience FROM order_events ORDER BY id"),
        "receipts": _rows(connection, "SELECT note, note_audience FROM receipts"),
        "lines": _rows(connection, "SELECT rejected_quantity, cancelled_quantity FROM order_lines"),
        "event_columns": {c["name"] for c in inspect(connection).get_columns("order_events")},
    }
    # the stage CHECK now admits CLOSED, and still nothing made up
    connection.execute(text("UPDATE orders SET stage = 'CLOSED' WHERE id = 'ord_2'"))
    for bad in (
        "UPDATE orders SET stage = 'LOST' WHERE id = 'ord_1'",
        "UPDATE orders SET awaiting = 'GODOT' WHERE id = 'ord_1'",
    ):
        savepoint = connection.begin_nested()
        with pytest.raises(IntegrityError):
            connection.execute(text(bad))
        savepoint.rollback()
    return found


def _changes(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _as_migrations_run(db: Database, fn: Any) -> Any:
    """``fn`` on a connection like ``db.migrate``'s: its own engine, one transaction (on
    SQLite without the app's foreign-key pragma: a table rebuild needs them off)."""
    engine: AsyncEngine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def test_upgrading_over_existing_orders_backfills_revisions_awaiting_and_audiences(
    db: Database,
) -> None:
    # given rows written before 0004, when migrated to head
    found = await _as_migrations_run(db, _upgrade_over_old_rows)

    # then every order is revision 1, as issued; ISSUED ones await the acknowledgement
    assert found["orders"] == [
        {"id": "ord_1", "stage": "ISSUED", "revision": 1, "awaiting": "ACKNOWLEDGEMENT"},
        {"id": "ord_2", "stage": "DISPATCHED", "revision": 1, "awaiting": "NOTHING"},
    ]
    assert [r | {"changes": _changes(r["changes"])} for r in found["revisions"]] == [
        {
            "order_id": order_id,
            "number": 1,
            "actor_role": "buyer",
            "actor_subject": "buyer@org-a",
            "reason": None,
            "reason_audience": "",
            "changes": [],
        }
        for order_id in ("ord_1", "ord_2")
    ]
    # every note kept, and the buyer's alone (a supplier's reaches it by authorship)
    assert found["events"] == [
        {"id": "evt_1", "note": "client moved the build", "note_audience": ""},
        {"id": "evt_2", "note": "supplier too expensive", "note_audience": ""},
        {"id": "evt_3", "note": "material ordered", "note_audience": ""},
    ]
    assert "internal" not in found["event_columns"]
    assert found["receipts"] == [{"note": "two dented", "note_audience": ""}]
    assert found["lines"] == [{"rejected_quantity": 0, "cancelled_quantity": 0}] * 2


def _down_with_a_closed_order(connection: Connection) -> list[dict[str, Any]]:
    connection.execute(
        text(
            "INSERT INTO suppliers (id, org, name, created_at) "
            "VALUES ('sup_1', 'org-a', 'Acme', :t)"
        ),
        {"t": T},
    )
    connection.execute(
        text(
            "INSERT INTO orders (id, org, number, stage, supplier_id, currency, total, need_by, "
            "promise_slips, issued_at, stage_entered_at, version, created_by, revision, "
            "awaiting) VALUES ('ord_9', 'org-a', 'PO-9', 'CLOSED', 'sup_1', 'EUR', 0, :d, 0, "
            ":t, :t, 7, 'b', 1, 'NOTHING')"
        ),
        {"t": T, "d": date(2026, 4, 1)},
    )
    _migrate(connection, _before(), down=True)
    rows = _rows(connection, "SELECT id, stage FROM orders")
    _migrate(connection, "head")
    return rows


async def test_downgrading_reads_a_closed_order_as_delivered(db: Database) -> None:
    rows = await _as_migrations_run(db, _down_with_a_closed_order)

    assert rows == [{"id": "ord_9", "stage": "DELIVERED"}]
