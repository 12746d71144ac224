"""Pricing tables: price lists (member price per tier, channel price), the price history,
repricing proposals, and flash sales (秒杀) with their stock pools and per-customer quotas.

The list price itself lives on the catalog's SKU; pricing changes it through
`catalog.service.update_sku` and writes the history row next to it.

Flash-sale counters move only through conditional UPDATEs in the order's transaction
(`sold + q <= pool`, `quantity + q <= limit`), and CHECK constraints back them up, so a burst
of buyers can neither oversell the pool nor pass a customer's limit.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db import Base, UTCDateTime, utcnow


class PriceListKind(StrEnum):
    MEMBER = "member"  # a price for customers of one membership tier
    CHANNEL = "channel"  # a price for one sales channel (douyin, wechat…)


class PriceList(Base):
    __tablename__ = "price_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    # The tier code (member lists) or the channel (channel lists) it applies to.
    target: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list", order_by="PriceListItem.sku_id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("kind IN ('member', 'channel')", name="kind_known"),
        Index("ix_price_list_kind_target", "kind", "target"),
    )


class PriceListItem(Base):
    __tablename__ = "price_list_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), index=True)
    price: Mapped[int] = mapped_column(Integer)

    price_list: Mapped[PriceList] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("price_list_id", "sku_id"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class PriceChange(Base):
    """One change of a price: the list price (`price_list_id` None) or a price-list price
    (`new_price` None: removed from the list). Append-only."""

    __tablename__ = "price_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"))
    old_price: Mapped[int | None] = mapped_column(Integer)
    new_price: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer, default=0)
    # The API key's name (or "api_key:<id>"), "system", or "repricing:<proposal id>".
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # Set when an operator overrode the margin band on purpose.
    outside_band: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_price_change_sku_changed", "sku_id", "changed_at"),)


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPLIED = "applied"
    DISMISSED = "dismissed"


class RepriceProposalRow(Base):
    """A dynamic repricing proposal, kept so an operator can review and apply it later."""

    __tablename__ = "reprice_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), index=True)
    current_price: Mapped[int] = mapped_column(Integer)
    proposed_price: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer)
    band_low: Mapped[int] = mapped_column(Integer)
    band_high: Mapped[int] = mapped_column(Integer)
    # The inputs (competitor prices, available, daily sales) and reasons ({code, text}).
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PROPOSED)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class FlashSaleStatus(StrEnum):
    ACTIVE = "active"  # scheduled or running: its window says which
    ENDED = "ended"  # ended early by an operator


class FlashSale(Base):
    __tablename__ = "flash_sale"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    per_customer_limit: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=FlashSaleStatus.ACTIVE)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[FlashSaleItem]] = relationship(
        back_populates="flash_sale", order_by="FlashSaleItem.id"
    )

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
        CheckConstraint("per_customer_limit >= 1", name="limit_positive"),
        Index("ix_flash_sale_status_ends", "status", "ends_at"),
    )


class FlashSaleItem(Base):
    """One SKU of a flash sale: its flash price and its pool (`sold` never passes `pool`)."""

    __tablename__ = "flash_sale_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    flash_sale_id: Mapped[int] = mapped_column(ForeignKey("flash_sale.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"), index=True)
    list_price: Mapped[int] = mapped_column(Integer)
    flash_price: Mapped[int] = mapped_column(Integer)
    pool: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)

    flash_sale: Mapped[FlashSale] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("flash_sale_id", "sku_id"),
        CheckConstraint("flash_price > 0", name="flash_price_positive"),
        CheckConstraint("pool > 0", name="pool_positive"),
        CheckConstraint("sold >= 0 AND sold <= pool", name="sold_within_pool"),
    )


class FlashSaleQuota(Base):
    """How many units of one flash SKU a customer holds (one row per sale, customer and SKU;
    the unique key makes concurrent first purchases meet on one row)."""

    __tablename__ = "flash_sale_quota"

    id: Mapped[int] = mapped_column(primary_key=True)
    flash_sale_id: Mapped[int] = mapped_column(ForeignKey("flash_sale.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    limit_quantity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("flash_sale_id", "customer_id", "sku_id"),
        CheckConstraint(
            "quantity >= 0 AND quantity <= limit_quantity", name="quantity_within_limit"
        ),
    )


class FlashSalePurchase(Base):
    """Units an order took from a pool; `returned_at` is set when the order is cancelled and
    the units go back to the pool."""

    __tablename__ = "flash_sale_purchase"

    id: Mapped[int] = mapped_column(primary_key=True)
    flash_sale_id: Mapped[int] = mapped_column(ForeignKey("flash_sale.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("flash_sale_item.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    purchased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
