"""purchasing: suppliers, the SKUs they supply at what cost, purchase orders with lines, and
receipts (accepted and rejected units)

Revision ID: f0a400000001
Revises: 0e5a00000003
Create Date: 2026-12-02 18:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopops.db

revision: str = "f0a400000001"
down_revision: str | None = "0e5a00000003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("contact_email", sa.String(length=100), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("vmi", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_supplier_lead_time_not_negative")),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_supplier_rating_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("code", name=op.f("uq_supplier_code")),
    )
    op.create_table(
        "supplier_sku",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Integer(), nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_supplier_sku_unit_cost_not_negative")),
        sa.ForeignKeyConstraint(["sku_id"], ["sku.id"], name=op.f("fk_supplier_sku_sku_id_sku")),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_supplier_sku_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_sku")),
        sa.UniqueConstraint(
            "supplier_id", "sku_id", name=op.f("uq_supplier_sku_supplier_id_sku_id")
        ),
    )
    op.create_index(op.f("ix_supplier_sku_sku_id"), "supplier_sku", ["sku_id"], unique=False)
    op.create_table(
        "purchase_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("expected_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", shopops.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.id"], name=op.f("fk_purchase_order_supplier_id_supplier")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouse.id"],
            name=op.f("fk_purchase_order_warehouse_id_warehouse"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order")),
        sa.UniqueConstraint("number", name=op.f("uq_purchase_order_number")),
    )
    op.create_index(op.f("ix_purchase_order_status"), "purchase_order", ["status"], unique=False)
    op.create_index(
        op.f("ix_purchase_order_supplier_id"), "purchase_order", ["supplier_id"], unique=False
    )
    op.create_table(
        "purchase_order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_order_line_quantity_positive")),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_purchase_order_line_unit_cost_not_negative")
        ),
        sa.CheckConstraint(
            "accepted >= 0 AND rejected >= 0 AND accepted + rejected <= quantity",
            name=op.f("ck_purchase_order_line_received_within_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
            name=op.f("fk_purchase_order_line_order_id_purchase_order"),
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["sku.id"], name=op.f("fk_purchase_order_line_sku_id_sku")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_line")),
        sa.UniqueConstraint(
            "order_id", "sku_id", name=op.f("uq_purchase_order_line_order_id_sku_id")
        ),
    )
    op.create_index(
        op.f("ix_purchase_order_line_sku_id"), "purchase_order_line", ["sku_id"], unique=False
    )
    op.create_table(
        "purchase_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("received_at", shopops.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
            name=op.f("fk_purchase_receipt_order_id_purchase_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_receipt")),
    )
    op.create_index(
        op.f("ix_purchase_receipt_order_id"), "purchase_receipt", ["order_id"], unique=False
    )
    op.create_table(
        "purchase_receipt_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "accepted >= 0 AND rejected >= 0 AND accepted + rejected > 0",
            name=op.f("ck_purchase_receipt_line_units_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["purchase_order_line.id"],
            name=op.f("fk_purchase_receipt_line_line_id_purchase_order_line"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["purchase_receipt.id"],
            name=op.f("fk_purchase_receipt_line_receipt_id_purchase_receipt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_receipt_line")),
    )
    op.create_index(
        op.f("ix_purchase_receipt_line_line_id"),
        "purchase_receipt_line",
        ["line_id"],
        unique=False,
    )
    op.create_index(
        "ix_purchase_receipt_line_receipt_line",
        "purchase_receipt_line",
        ["receipt_id", "line_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_receipt_line_receipt_line", table_name="purchase_receipt_line")
    op.drop_index(op.f("ix_purchase_receipt_line_line_id"), table_name="purchase_receipt_line")
    op.drop_table("purchase_receipt_line")
    op.drop_index(op.f("ix_purchase_receipt_order_id"), table_name="purchase_receipt")
    op.drop_table("purchase_receipt")
    op.drop_index(op.f("ix_purchase_order_line_sku_id"), table_name="purchase_order_line")
    op.drop_table("purchase_order_line")
    op.drop_index(op.f("ix_purchase_order_supplier_id"), table_name="purchase_order")
    op.drop_index(op.f("ix_purchase_order_status"), table_name="purchase_order")
    op.drop_table("purchase_order")
    op.drop_index(op.f("ix_supplier_sku_sku_id"), table_name="supplier_sku")
    op.drop_table("supplier_sku")
    op.drop_table("supplier")
