"""API and service inputs/outputs of promotions, coupons and campaigns (Pydantic v2)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Field(ge=0, le=10**10)


class ConditionsIn(BaseModel):
    """The engine's conditions except the window (the promotion's starts_at/ends_at)."""

    model_config = ConfigDict(extra="forbid")

    items: dict[str, list[int]] = Field(default_factory=dict)
    min_spend: int = Field(default=0, ge=0, le=10**10)
    min_quantity: int = Field(default=0, ge=0, le=10**6)
    customer_tiers: list[str] = Field(default_factory=list, max_length=20)
    customer_segments: list[str] = Field(default_factory=list, max_length=50)
    new_customers_only: bool = False
    birthday_month: bool = False
    channels: list[str] = Field(default_factory=list, max_length=20)
    weekdays: list[int] = Field(default_factory=list, max_length=7)
    hours: list[int] = Field(default_factory=list, max_length=24)


class LimitsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Negative values reach validate_promotion, which names the field that is wrong.
    total_uses: int | None = None
    per_customer: int | None = None
    max_units_per_order: int | None = None
    budget_amount: int | None = None
    budget_count: int | None = None


class PromotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    kind: str = Field(max_length=24)
    klass: str | None = Field(default=None, max_length=16)
    params: dict[str, Any] = Field(default_factory=dict)
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    combines_with: list[str] = Field(default_factory=list, max_length=3)
    priority: int = Field(default=0, ge=-1000, le=1000)
    exclusive: bool = False
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    code: str | None = Field(default=None, max_length=64)
    requires_coupon: bool = False
    limits: LimitsIn = Field(default_factory=LimitsIn)


class PromotionUpdate(BaseModel):
    """Fields to change (draft or paused promotions only); the result is validated again."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    params: dict[str, Any] | None = None
    conditions: ConditionsIn | None = None
    combines_with: list[str] | None = Field(default=None, max_length=3)
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    exclusive: bool | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    limits: LimitsIn | None = None


class PromotionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    kind: str
    klass: str
    params: dict[str, Any]
    conditions: dict[str, Any]
    combines_with: list[str]
    priority: int
    exclusive: bool
    status: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    code: str | None
    requires_coupon: bool
    total_uses: int | None
    per_customer: int | None
    max_units_per_order: int | None
    budget_amount: int | None
    budget_count: int | None
    used_count: int
    spent_amount: int
    campaign_id: int | None
    campaign_phase: str


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promotion_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=100)
    claimable: bool = False
    trigger: Literal["", "registration", "first_order"] = ""
    valid_days: int | None = Field(default=None, ge=1, le=3660)
    valid_until: dt.datetime | None = None
    issue_limit: int | None = Field(default=None, ge=1)
    per_customer: int = Field(default=1, ge=1, le=1000)


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    promotion_id: int
    name: str
    claimable: bool
    trigger: str
    valid_days: int | None
    valid_until: dt.datetime | None
    issue_limit: int | None
    issued_count: int
    per_customer: int
    active: bool


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[int] = Field(default_factory=list, max_length=10_000)
    # Simple attributes matched through members.service.list_customers.
    match: dict[str, str] = Field(default_factory=dict)
    reason: str = Field(default="manual", max_length=100)


class CouponRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    template_id: int
    promotion_id: int
    customer_id: int
    status: str
    reason: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    order_id: int | None


class WalletCoupon(CouponRead):
    name: str
    usable: bool


class BatchRead(BaseModel):
    batch_id: int
    issued: int
    skipped: int


class PhaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase: Literal["warm_up", "peak", "wrap_up"]
    starts_at: dt.datetime
    ends_at: dt.datetime


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    starts_at: dt.datetime
    ends_at: dt.datetime
    budget_amount: int | None = None
    phases: list[PhaseIn] = Field(default_factory=list, max_length=3)


class PhaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    phase: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class CampaignRead(BaseModel):
    id: int
    name: str
    description: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    budget_amount: int | None
    spent_amount: int
    uses_count: int
    phases: list[PhaseRead]
    promotion_ids: dict[str, list[int]]


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promotion_id: int = Field(ge=1)
    phase: Literal["warm_up", "peak", "wrap_up"]
