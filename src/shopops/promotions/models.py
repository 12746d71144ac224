"""Promotion tables: definitions with their usage counters, coupons, redemptions, campaigns.

Counters (`used_count`, `spent_amount`) move only through conditional UPDATEs in the order's
transaction, so limits and budgets hold under concurrency; redemptions are the ledger the
counters must always equal (see `service.ledger_problems`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class PromotionStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class CouponStatus(StrEnum):
    ISSUED = "issued"  # in the wallet, usable (released coupons come back here)
    REDEEMED = "redeemed"  # held by an order; released again if the order is cancelled
    EXPIRED = "expired"
    VOID = "void"


class CampaignPhase(StrEnum):
    WARM_UP = "warm_up"  # 预热
    PEAK = "peak"  # 爆发
    WRAP_UP = "wrap_up"  # 收尾


PHASE_ORDER = (CampaignPhase.WARM_UP, CampaignPhase.PEAK, CampaignPhase.WRAP_UP)


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Shared by every promotion of the campaign; None: no limit.
    budget_amount: Mapped[int | None] = mapped_column(Integer)
    spent_amount: Mapped[int] = mapped_column(Integer, default=0)
    uses_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("spent_amount >= 0", name="spent_not_negative"),
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
    )


class CampaignPhaseWindow(Base):
    __tablename__ = "campaign_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("campaign_id", "phase"),)


class PromotionDef(Base):
    """A promotion as the operator defined it: the engine's parameters and conditions as JSON
    (the engine codec's dicts), its combination flags, window, limits and usage counters."""

    __tablename__ = "promotion"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(24))
    klass: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    combines_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=PromotionStatus.DRAFT, index=True)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # A shared code anyone may type; None with requires_coupon: only issued coupons unlock it.
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    requires_coupon: Mapped[bool] = mapped_column(Boolean, default=False)
    total_uses: Mapped[int | None] = mapped_column(Integer)
    per_customer: Mapped[int | None] = mapped_column(Integer)
    max_units_per_order: Mapped[int | None] = mapped_column(Integer)
    budget_amount: Mapped[int | None] = mapped_column(Integer)
    budget_count: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    spent_amount: Mapped[int] = mapped_column(Integer, default=0)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    campaign_phase: Mapped[str] = mapped_column(String(16), default="")
    # Changes with every edit of the definition: the checkout cache compares it (a random
    # token, so two databases never share one).
    revision: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("used_count >= 0", name="used_not_negative"),
        CheckConstraint("spent_amount >= 0", name="spent_not_negative"),
    )


class CouponTemplate(Base):
    """How coupons of one promotion are issued: validity, stock, per-customer cap, trigger."""

    __tablename__ = "coupon_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotion.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # Public coupons may be claimed by shoppers from the storefront.
    claimable: Mapped[bool] = mapped_column(Boolean, default=False)
    # '' (manual), 'registration' or 'first_order': issued automatically on that event.
    trigger: Mapped[str] = mapped_column(String(16), default="", index=True)
    valid_days: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    issue_limit: Mapped[int | None] = mapped_column(Integer)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    per_customer: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouponBatch(Base):
    """One bulk issue: to a list of customers or to those matching attributes."""

    __tablename__ = "coupon_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_template.id"), index=True)
    reason: Mapped[str] = mapped_column(String(100), default="")
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Coupon(Base):
    __tablename__ = "coupon"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_template.id"), index=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotion.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_batch.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    status: Mapped[str] = mapped_column(String(16), default=CouponStatus.ISSUED)
    reason: Mapped[str] = mapped_column(String(100), default="")
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    release_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_coupon_customer_status", "customer_id", "status"),)


class CustomerUsage(Base):
    """How many orders of one customer use one promotion (for per-customer limits)."""

    __tablename__ = "promotion_customer_usage"

    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotion.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)


class Redemption(Base):
    """One promotion used by one order: the usage ledger (active until the order is cancelled)."""

    __tablename__ = "promotion_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotion.id"), index=True)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupon.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    campaign_phase: Mapped[str] = mapped_column(String(16), default="")
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[int] = mapped_column(Integer)  # deducted from items or shipping, fen
    shipping_amount: Mapped[int] = mapped_column(Integer, default=0)
    cashback: Mapped[int] = mapped_column(Integer, default=0)
    gifts: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    # What the promotion's budget was charged: deduction + cashback + gift value.
    charged: Mapped[int] = mapped_column(Integer)
    line_amounts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CashbackCredit(Base):
    """Cashback earned by a completed order (paid out by the points/wallet domain)."""

    __tablename__ = "cashback_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("promotion_redemption.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
