"""Inventory tables: warehouses, stock per SKU and warehouse, the ledger, reservations."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class MovementReason(StrEnum):
    RECEIPT = "receipt"
    RESERVATION = "reservation"
    SALE = "sale"
    RELEASE = "release"
    RETURN = "return"
    ADJUSTMENT = "adjustment"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"


class Warehouse(Base):
    __tablename__ = "warehouse"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    # Lower ships first when several warehouses can fill a line.
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(default=True)


class StockLevel(Base):
    """On hand and reserved units of one SKU in one warehouse; available = on_hand − reserved."""

    __tablename__ = "stock_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("sku_id", "warehouse_id"),
        # The database itself refuses an oversell, whatever the code above it does.
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )


class StockPolicy(Base):
    """Per-SKU settings: the safety-stock warning line (安全库存)."""

    __tablename__ = "stock_policy"

    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), primary_key=True)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),)


class StockMovement(Base):
    """The append-only ledger: every change of on_hand or reserved, with its reason."""

    __tablename__ = "stock_movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    reason: Mapped[str] = mapped_column(String(20))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    ref_type: Mapped[str] = mapped_column(String(32), default="")
    ref_id: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_stock_movement_sku_wh", "sku_id", "warehouse_id"),)


class Reservation(Base):
    """Units held for an order until it is paid (committed) or cancelled/expired (released)."""

    __tablename__ = "reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref_type: Mapped[str] = mapped_column(String(32), default="order")
    ref_id: Mapped[str] = mapped_column(String(64))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=ReservationStatus.ACTIVE)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_reservation_ref", "ref_type", "ref_id"),
        Index("ix_reservation_status_expiry", "status", "expires_at"),
    )
