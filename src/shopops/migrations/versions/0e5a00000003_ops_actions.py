"""ops actions: automatic actions of alert rules (draft promotions, image flags, purchase
suggestions) with their status

Revision ID: 0e5a00000003
Revises: 0e5a00000002
Create Date: 2026-12-02 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopops.db

revision: str = "0e5a00000003"
down_revision: str | None = "0e5a00000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("ref_type", sa.String(length=24), nullable=True),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("summary_zh", sa.String(length=500), nullable=False),
        sa.Column("summary_en", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["ops_alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ops_action_alert_id"), "ops_action", ["alert_id"], unique=False)
    op.create_index(op.f("ix_ops_action_status"), "ops_action", ["status"], unique=False)
    op.create_index("ix_ops_action_kind_target", "ops_action", ["kind", "target"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ops_action_kind_target", table_name="ops_action")
    op.drop_index(op.f("ix_ops_action_status"), table_name="ops_action")
    op.drop_index(op.f("ix_ops_action_alert_id"), table_name="ops_action")
    op.drop_table("ops_action")
