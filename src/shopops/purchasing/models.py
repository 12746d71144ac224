"""Purchasing tables: suppliers, what each supplies at what cost, purchase orders with their
lines, and receipts (each receipt line splits units into accepted and rejected)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db import Base, UTCDateTime, utcnow
from shopops.purchasing.rules import PoStatus

__all__ = [
    "PoStatus",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseReceipt",
    "PurchaseReceiptLine",
    "Supplier",
    "SupplierSku",
]


class Supplier(Base):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(100), default="")
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    # Vendor-managed inventory (VMI): the supplier watches our stock and ships on its own.
    vmi: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )


class SupplierSku(Base):
    """A SKU a supplier supplies, at its agreed unit cost (fen)."""

    __tablename__ = "supplier_sku"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), index=True)
    unit_cost: Mapped[int] = mapped_column(Integer)
    # The supplier a new purchase order of this SKU goes to when none is named.
    preferred: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        UniqueConstraint("supplier_id", "sku_id"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )


class PurchaseOrder(Base):
    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(20), default=PoStatus.DRAFT, index=True)
    expected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", order_by="PurchaseOrderLine.sku_id"
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("order_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        # The database itself refuses receiving more than was ordered.
        CheckConstraint(
            "accepted >= 0 AND rejected >= 0 AND accepted + rejected <= quantity",
            name="received_within_ordered",
        ),
    )


class PurchaseReceipt(Base):
    """One delivery against a purchase order (an order may arrive in several)."""

    __tablename__ = "purchase_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")


class PurchaseReceiptLine(Base):
    __tablename__ = "purchase_receipt_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("purchase_receipt.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_line.id"), index=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "accepted >= 0 AND rejected >= 0 AND accepted + rejected > 0",
            name="units_positive",
        ),
        Index("ix_purchase_receipt_line_receipt_line", "receipt_id", "line_id", unique=True),
    )
