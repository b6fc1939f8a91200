"""When the order does not go to plan: revisions, proposals, rejects, short-close, and
note audiences instead of the never-written ``internal`` flag.

* ``orders.revision`` (1 as issued) and ``orders.awaiting`` (whose move it is: every
  ISSUED order awaits the supplier's acknowledgement); stage CLOSED.
* ``order_revisions`` (revision 1 backfilled for every order) and ``order_proposals``.
* Rejects: ``order_lines.rejected_quantity``, ``receipt_lines.rejected_quantity`` and
  ``reject_reason``; short-close: ``order_lines.cancelled_quantity``.
* ``order_events.note_audience`` and ``receipts.note_audience`` replace
  ``order_events.internal``. Existing notes get the new default, the buyer's alone: a
  buyer's cancel reason no longer reaches suppliers and clients. A supplier's notes
  keep reaching the supplier (the row rules read who wrote them), never the client.

Downgrade maps CLOSED orders to DELIVERED (the old schema has no such stage) and drops
revisions, proposals and rejects.

Revision ID: 0004_exceptions
Revises: 0002
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_exceptions"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STAGES = (
    "ISSUED",
    "ACKNOWLEDGED",
    "IN_PRODUCTION",
    "DISPATCHED",
    "DELIVERED",
    "DECLINED",
    "CANCELLED",
)
NEW_STAGES = (*OLD_STAGES, "CLOSED")
AWAITING = ("NOTHING", "ACKNOWLEDGEMENT", "ANSWER")
PROPOSAL_STATUS = ("PENDING", "ACCEPTED", "REJECTED", "LAPSED")
# (table, CHECK constraint name) of the stage columns.
STAGE_CHECKS = (
    ("orders", "ck_orders_order_stage"),
    ("order_events", "ck_order_events_event_stage"),
    ("raised_alerts", "ck_raised_alerts_raised_alert_stage"),
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _stage_checks(stages: Sequence[str]) -> None:
    # SQLite cannot alter a CHECK: batch mode rebuilds the table (copy, drop, rename).
    # Others reference ``orders``, so that needs foreign keys off, as ``db.migrate``
    # runs migrations (SQLite's default); with them on, the drop fails on existing rows.
    for table, name in STAGE_CHECKS:
        # SQLite: batch mode rebuilds the table with the new CHECK; PostgreSQL: ALTERs.
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
            batch_op.create_check_constraint(op.f(name), sa.text(_in("stage", stages)))


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column(
                "awaiting",
                sa.Enum(
                    *AWAITING,
                    name="order_awaiting",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=False,
                server_default="NOTHING",
            )
        )
    op.execute("UPDATE orders SET awaiting = 'ACKNOWLEDGEMENT' WHERE stage = 'ISSUED'")
    _stage_checks(NEW_STAGES)

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        for column in ("rejected_quantity", "cancelled_quantity"):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rejected_quantity", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("reject_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("note_audience", sa.String(length=40), nullable=False, server_default="")
        )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("note_audience", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.drop_column("internal")

    op.create_table(
        "order_revisions",
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_subject", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_audience", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_revisions_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "number", name=op.f("pk_order_revisions")),
    )
    # Revision 1 of every order: the PO as issued.
    op.execute(
        sa.text(
            "INSERT INTO order_revisions (order_id, number, org, at, actor_role, "
            "actor_subject, reason, reason_audience, changes) SELECT id, 1, org, issued_at, "
            "'buyer', created_by, NULL, '', :changes FROM orders"
        ).bindparams(sa.bindparam("changes", [], type_=sa.JSON()))
    )
    op.create_table(
        "order_proposals",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *PROPOSAL_STATUS,
                name="proposal_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_proposals_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_proposals")),
    )
    with op.batch_alter_table("order_proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_proposals_order_status", ["order_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("order_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_order_proposals_order_status")
    op.drop_table("order_proposals")
    op.drop_table("order_revisions")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_column("note_audience")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_column("note_audience")
    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.drop_column("reject_reason")
        batch_op.drop_column("rejected_quantity")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("cancelled_quantity")
        batch_op.drop_column("rejected_quantity")
    op.execute("UPDATE orders SET stage = 'DELIVERED' WHERE stage = 'CLOSED'")
    op.execute("UPDATE order_events SET stage = 'DELIVERED' WHERE stage = 'CLOSED'")
    _stage_checks(OLD_STAGES)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_order_awaiting"), type_="check")
        batch_op.drop_column("awaiting")
        batch_op.drop_column("revision")
