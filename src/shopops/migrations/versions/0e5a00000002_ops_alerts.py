"""ops alerts: rules as data, alerts with their life cycle and history, notification log, goals

Revision ID: 0e5a00000002
Revises: c0501e000001
Create Date: 2026-12-02 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopops.db

revision: str = "0e5a00000002"
down_revision: str | None = "c0501e000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "ops_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("metric", sa.String(length=80), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("base", sa.Float(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("message_zh", sa.String(length=500), nullable=False),
        sa.Column("message_en", sa.String(length=500), nullable=False),
        sa.Column("playbook_zh", sa.String(length=500), nullable=False),
        sa.Column("playbook_en", sa.String(length=500), nullable=False),
        sa.Column("attribution", sa.JSON(), nullable=True),
        sa.Column("opened_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["rule_id"], ["ops_alert_rule.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ops_alert_key_day", "ops_alert", ["key", "day"], unique=True)
    op.create_index(op.f("ix_ops_alert_rule_id"), "ops_alert", ["rule_id"], unique=False)
    op.create_index(op.f("ix_ops_alert_status"), "ops_alert", ["status"], unique=False)
    op.create_table(
        "ops_alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["ops_alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_ops_alert_event_alert_id"), "ops_alert_event", ["alert_id"], unique=False
    )
    op.create_table(
        "ops_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=60), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["ops_alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ops_delivery_alert_id"), "ops_delivery", ["alert_id"], unique=False)
    op.create_index(op.f("ix_ops_delivery_status"), "ops_delivery", ["status"], unique=False)
    op.create_table(
        "ops_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("metric", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("member", sa.String(length=100), nullable=True),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("ops_goal")
    op.drop_index(op.f("ix_ops_delivery_status"), table_name="ops_delivery")
    op.drop_index(op.f("ix_ops_delivery_alert_id"), table_name="ops_delivery")
    op.drop_table("ops_delivery")
    op.drop_index(op.f("ix_ops_alert_event_alert_id"), table_name="ops_alert_event")
    op.drop_table("ops_alert_event")
    op.drop_index(op.f("ix_ops_alert_status"), table_name="ops_alert")
    op.drop_index(op.f("ix_ops_alert_rule_id"), table_name="ops_alert")
    op.drop_index("ix_ops_alert_key_day", table_name="ops_alert")
    op.drop_table("ops_alert")
    op.drop_table("ops_alert_rule")
