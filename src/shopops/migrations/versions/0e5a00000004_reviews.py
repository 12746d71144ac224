"""reviews: reviews of order lines (moderation, 晒单有奖 reward, follow-up, reply) and the
review request each delivered order opens

Revision ID: 0e5a00000004
Revises: 0e5a00000003
Create Date: 2026-12-02 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopops.db

revision: str = "0e5a00000004"
down_revision: str | None = "0e5a00000003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = shopops.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("precheck", sa.JSON(), nullable=False),
        sa.Column("reject_reason", sa.String(length=200), nullable=False),
        sa.Column("moderated_by", sa.String(length=100), nullable=False),
        sa.Column("reward_points", sa.Integer(), nullable=False),
        sa.Column("reward_reversed", sa.Integer(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("follow_up_photos", sa.JSON(), nullable=False),
        sa.Column("followed_up_at", UTC, nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("replied_by", sa.String(length=100), nullable=False),
        sa.Column("replied_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("moderated_at", UTC, nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_review_rating_range")),
        sa.CheckConstraint("photo_count BETWEEN 0 AND 9", name=op.f("ck_review_photo_count_range")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_review_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_review_order_id_sales_order")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_line.id"], name=op.f("fk_review_order_line_id_order_line")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_review_product_id_product")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["sku.id"], name=op.f("fk_review_sku_id_sku")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_review_order_line_id")),
    )
    op.create_index(op.f("ix_review_customer_id"), "review", ["customer_id"], unique=False)
    op.create_index(op.f("ix_review_order_id"), "review", ["order_id"], unique=False)
    op.create_index("ix_review_product_status", "review", ["product_id", "status"], unique=False)
    op.create_index("ix_review_status_created", "review", ["status", "created_at"], unique=False)
    op.create_table(
        "review_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("reviewed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_review_request_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_order.id"], name=op.f("fk_review_request_order_id_sales_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_request")),
        sa.UniqueConstraint("order_id", name=op.f("uq_review_request_order_id")),
    )
    op.create_index(
        op.f("ix_review_request_customer_id"), "review_request", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_review_request_customer_id"), table_name="review_request")
    op.drop_table("review_request")
    op.drop_index("ix_review_status_created", table_name="review")
    op.drop_index("ix_review_product_status", table_name="review")
    op.drop_index(op.f("ix_review_order_id"), table_name="review")
    op.drop_index(op.f("ix_review_customer_id"), table_name="review")
    op.drop_table("review")
