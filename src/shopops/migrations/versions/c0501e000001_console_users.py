"""console users: web console accounts with an argon2 password hash, role and locale

Revision ID: c0501e000001
Revises: abe750d03a15
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopops.db

revision: str = "c0501e000001"
down_revision: str | None = "abe750d03a15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("console_user")
