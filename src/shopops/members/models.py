"""Customer tables: customers, their saved addresses, membership tiers and the points ledger
(F-12, F-13)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    gender: Mapped[str] = mapped_column(String(10), default=Gender.UNKNOWN)
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    # Age band such as "18-24", "25-34"; kept when the birthday is unknown.
    age_band: Mapped[str] = mapped_column(String(10), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    acquisition_channel: Mapped[str] = mapped_column(String(32), default="direct", index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Segment tags (operator-set or computed by analytics) that promotions can target.
    # Server defaults fill the rows that existed before these columns (migration 0579951897ff).
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Membership counters, kept by the members' event subscribers so that checkout reads the
    # whole profile with the customer row (no extra statement).
    tier_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    growth_value: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    paid_orders: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    total_paid: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), default=0, server_default=text("0")
    )
    # Always the sum of this customer's points entries; a CHECK keeps it from going negative.
    points_balance: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Referral (裂变): who referred this customer (attribution); the reward is granted once.
    referred_by: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    referral_rewarded: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (CheckConstraint("points_balance >= 0", name="ck_customer_points_nonneg"),)


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    recipient: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    district: Mapped[str] = mapped_column(String(50), default="")
    detail: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    is_default: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_address_customer", "customer_id", "is_default"),
        # At most one default per customer, even when two requests change it at once.
        Index(
            "uq_address_one_default",
            "customer_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )


class MembershipTier(Base):
    """A member tier: reached at `threshold` growth value, with its privileges."""

    __tablename__ = "membership_tier"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    threshold: Mapped[int] = mapped_column(unique=True)
    # Tier discount in basis points of the items (500 = 5% off), applied by promotions.
    discount_bp: Mapped[int] = mapped_column(default=0)
    free_shipping: Mapped[bool] = mapped_column(default=False)
    priority_shipping: Mapped[bool] = mapped_column(default=False)
    # Points granted on the birthday (0 = no birthday gift).
    birthday_points: Mapped[int] = mapped_column(default=0)
    member_day_offers: Mapped[bool] = mapped_column(default=False)
    # Points earned per yuan are multiplied by this (100 = ×1.0).
    points_multiplier_pct: Mapped[int] = mapped_column(default=100)


class PointsKind(StrEnum):
    EARN = "earn"  # a paid order
    REVIEW = "review"
    SIGN_IN = "sign_in"
    REFERRAL = "referral"
    BIRTHDAY = "birthday"
    ADJUST = "adjust"  # an operator's correction, either sign
    REDEEM = "redeem"  # spent at checkout
    RETURN = "return"  # redeemed points given back (order cancelled or refunded)
    REVERSE = "reverse"  # earned points taken back (order refunded)
    EXPIRE = "expire"


class PointsEntry(Base):
    """One append-only movement of a customer's points (signed) and the growth it brought.

    Credits carry `expires_at` (FIFO lots); `(customer_id, kind, ref)` is unique so that a
    replayed event or a second sign-in the same day writes nothing.
    """

    __tablename__ = "points_entry"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int]
    # Growth value (成长值) this movement brought; negative when an order is refunded.
    growth: Mapped[int] = mapped_column(default=0)
    balance_after: Mapped[int]
    ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    order_id: Mapped[int | None] = mapped_column(index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("uq_points_entry_ref", "customer_id", "kind", "ref", unique=True),
        Index("ix_points_entry_customer", "customer_id", "id"),
    )
