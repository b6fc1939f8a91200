"""The link the client can watch: tracking links (only a hash of each token is kept)
and shipment progress (status, estimated arrival) for every shipment, own-driver too.

Revision ID: 0006_tracking
Revises: 0003
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_tracking"
down_revision: str | None = "0004_exceptions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("DISPATCHED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "EXCEPTION")


def upgrade() -> None:
    op.create_table(
        "tracking_links",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("org", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_tracking_links_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tracking_links_token_hash")),
    )
    op.create_index(
        "ix_tracking_links_order", "tracking_links", ["order_id", "created_at"], unique=False
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    *STATUSES,
                    name="shipment_status",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("estimated_arrival", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Every shipment so far has only been dispatched.
    op.execute("UPDATE shipments SET status = 'DISPATCHED'")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sa.Enum(
                *STATUSES,
                name="shipment_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        # The enum's CHECK names the column: it goes first (SQLite rebuilds the table).
        batch_op.drop_constraint(op.f("ck_shipments_shipment_status"), type_="check")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("estimated_arrival")
        batch_op.drop_column("status")
    op.drop_index("ix_tracking_links_order", table_name="tracking_links")
    op.drop_table("tracking_links")
