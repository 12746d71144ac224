"""Catalog tables: categories (a tree), brands, products and their SKUs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.catalog.rules import ListingStatus, ProductRole, ProductTier
from shopops.db import Base, UTCDateTime, utcnow

__all__ = [
    "Brand",
    "Category",
    "ListingStatus",
    "Product",
    "ProductRole",
    "ProductTier",
    "Sku",
]


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Brand(Base):
    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=ProductRole.LONG_TAIL)
    tier: Mapped[str] = mapped_column(String(20), default=ProductTier.BASIC)
    status: Mapped[str] = mapped_column(String(20), default=ListingStatus.DRAFT, index=True)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")

    # The storefront's default list: listed products, newest first.
    __table_args__ = (Index("ix_product_status_created", "status", "created_at"),)


class Sku(Base):
    __tablename__ = "sku"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # Variant attributes such as {"colour": "黑色", "capacity": "20000mAh"}.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    list_price: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer)
    weight_grams: Mapped[int] = mapped_column(Integer, default=200)
    active: Mapped[bool] = mapped_column(default=True)

    product: Mapped[Product] = relationship(back_populates="skus")

    __table_args__ = (
        CheckConstraint("list_price >= 0", name="list_price_not_negative"),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
        Index("ix_sku_product_active", "product_id", "active"),
    )
