"""The feed: a commit-ordered position per org on events and raised alerts, the
announced-alert ledger, and the NOTIFY that wakes every process's relay (PostgreSQL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = (
    "ISSUED",
    "ACKNOWLEDGED",
    "IN_PRODUCTION",
    "DISPATCHED",
    "DELIVERED",
    "DECLINED",
    "CANCELLED",
)

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION handoff_feed_notify() RETURNS trigger AS $$
BEGIN
  -- Ids only: the org and the position. Delivered at commit, never before.
  PERFORM pg_notify('handoff_feed', NEW.org || ' ' || NEW.position);
  RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "feed_positions",
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org", name=op.f("pk_feed_positions")),
    )
    op.create_table(
        "raised_alerts",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                *STAGES,
                name="raised_alert_stage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("threshold_hours", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_raised_alerts_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raised_alerts")),
        sa.UniqueConstraint("org", "position", name=op.f("uq_raised_alerts_org_position")),
    )
    op.create_index(
        "ix_raised_alerts_open", "raised_alerts", ["order_id", "kind", "cleared_at"], unique=False
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
    # Existing events join the feed in the order they happened, per org.
    op.execute(
        """
        UPDATE order_events SET position = (
          SELECT ranked.n FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY org ORDER BY at, order_id, seq) AS n
            FROM order_events
          ) AS ranked WHERE ranked.id = order_events.id
        )
        """
    )
    op.execute(
        """
        INSERT INTO feed_positions (org, position)
        SELECT org, MAX(position) FROM order_events GROUP BY org
        """
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.alter_column("position", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_order_events_org_position"), ["org", "position"]
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_stage_entered", ["stage", "stage_entered_at"], unique=False
        )
        batch_op.create_index("ix_orders_stage_promised", ["stage", "promised_date"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        for table in ("order_events", "raised_alerts"):
            op.execute(
                f"CREATE TRIGGER {table}_feed_notify AFTER INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION handoff_feed_notify()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("order_events", "raised_alerts"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_feed_notify ON {table}")
        op.execute("DROP FUNCTION IF EXISTS handoff_feed_notify()")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_stage_promised")
        batch_op.drop_index("ix_orders_stage_entered")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_order_events_org_position"), type_="unique")
        batch_op.drop_column("position")
    op.drop_index("ix_raised_alerts_open", table_name="raised_alerts")
    op.drop_table("raised_alerts")
    op.drop_table("feed_positions")
