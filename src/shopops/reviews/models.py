"""Review tables: a review per order line (with its follow-up and the shop's reply), and the
review request each delivered order opens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow
from shopops.reviews.rules import ReviewStatus

__all__ = ["Review", "ReviewRequest", "ReviewStatus"]


class Review(Base):
    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    # One review per order line: the unique key settles two submissions at once.
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("sku.id"))
    rating: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept apart from `photos` so summaries group by it without reading JSON.
    photo_count: Mapped[int] = mapped_column(Integer, default=0)
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default=ReviewStatus.PENDING)
    # What the automatic pre-check found ({"flags": [...], "banned": [...]}).
    precheck: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    moderated_by: Mapped[str] = mapped_column(String(100), default="")
    # 晒单有奖 points credited, and how many were taken back after a rejection.
    reward_points: Mapped[int] = mapped_column(Integer, default=0)
    reward_reversed: Mapped[int] = mapped_column(Integer, default=0)
    follow_up: Mapped[str] = mapped_column(Text, default="")
    follow_up_photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_by: Mapped[str] = mapped_column(String(100), default="")
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("photo_count BETWEEN 0 AND 9", name="photo_count_range"),
        # The product summary and the moderation queue read by these.
        Index("ix_review_product_status", "product_id", "status"),
        Index("ix_review_status_created", "status", "created_at"),
    )


class ReviewRequest(Base):
    """评价邀请: opened when an order is delivered, closed by its first review."""

    __tablename__ = "review_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
