"""API schemas of customers, addresses, membership, points and referral."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shopops.members import rules
from shopops.members.models import Gender


def _phone(value: str) -> str:
    return rules.normalize_phone(value)


def _email(value: str) -> str:
    return rules.normalize_email(value)


def _postal_code(value: str) -> str:
    if not rules.is_postal_code(value):
        raise ValueError("a postal code is 6 digits")
    return value


def _birthday(value: dt.date | None) -> dt.date | None:
    if value is not None and not dt.date(1900, 1, 1) <= value <= dt.date.today():
        raise ValueError("the birthday must be between 1900 and today")
    return value


Phone = Annotated[str, Field(min_length=11, max_length=20), AfterValidator(_phone)]
Email = Annotated[str, Field(max_length=200), AfterValidator(_email)]
PostalCode = Annotated[str, Field(max_length=10), AfterValidator(_postal_code)]
Birthday = Annotated[dt.date | None, AfterValidator(_birthday)]


class CustomerCreate(BaseModel):
    """Storefront registration: a phone number is required, the rest is optional."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    phone: Phone
    email: Email | None = None
    gender: Gender = Gender.UNKNOWN
    birthday: Birthday = None
    region: str = Field(default="", max_length=50)
    city: str = Field(default="", max_length=50)
    acquisition_channel: str = Field(
        default="direct", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$"
    )
    # A friend's referral code (裂变): stored as attribution on the new customer.
    referral_code: str | None = Field(default=None, min_length=4, max_length=16)


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    phone: Phone | None = None
    email: Email | None = None
    gender: Gender | None = None
    birthday: Birthday = None
    region: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent; a null clears only e-mail and birthday."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k in {"email", "birthday"}}


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phone: str | None
    email: str | None
    gender: str
    birthday: dt.date | None
    age_band: str
    region: str
    city: str
    acquisition_channel: str
    registered_at: dt.datetime

    def masked(self) -> CustomerRead:
        """The same customer as a role without PII access sees it."""
        return CustomerRead.model_validate(rules.mask_customer(self.model_dump()))


class CustomerDetail(CustomerRead):
    addresses: list[AddressRead]


class CustomerRegistered(BaseModel):
    customer: CustomerRead
    api_key: str = Field(description="The storefront key acting for this customer, shown once")


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    total: int
    limit: int
    offset: int


class AddressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(min_length=1, max_length=100)
    phone: Phone
    province: str = Field(min_length=1, max_length=50)
    city: str = Field(min_length=1, max_length=50)
    district: str = Field(default="", max_length=50)
    detail: str = Field(min_length=1, max_length=200)
    postal_code: PostalCode = ""
    is_default: bool = False


class AddressUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str | None = Field(default=None, min_length=1, max_length=100)
    phone: Phone | None = None
    province: str | None = Field(default=None, min_length=1, max_length=50)
    city: str | None = Field(default=None, min_length=1, max_length=50)
    district: str | None = Field(default=None, max_length=50)
    detail: str | None = Field(default=None, min_length=1, max_length=200)
    postal_code: PostalCode | None = None
    is_default: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, without nulls (a null never clears a required field)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str
    is_default: bool


CustomerDetail.model_rebuild()


# --- membership -------------------------------------------------------------------------------

TierCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z][a-z0-9_]*$")]


class TierFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str = Field(min_length=1, max_length=50)
    name_en: str = Field(min_length=1, max_length=50)
    threshold: int = Field(gt=0, le=100_000_000, description="growth value that reaches it")
    discount_bp: int = Field(default=0, ge=0, le=rules.MAX_DISCOUNT_BP)
    free_shipping: bool = False
    priority_shipping: bool = False
    birthday_points: int = Field(default=0, ge=0, le=1_000_000)
    member_day_offers: bool = False
    points_multiplier_pct: int = Field(default=100, ge=100, le=1_000)


class TierCreate(TierFields):
    code: TierCode


class TierUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(default=None, min_length=1, max_length=50)
    name_en: str | None = Field(default=None, min_length=1, max_length=50)
    threshold: int | None = Field(default=None, gt=0, le=100_000_000)
    discount_bp: int | None = Field(default=None, ge=0, le=rules.MAX_DISCOUNT_BP)
    free_shipping: bool | None = None
    priority_shipping: bool | None = None
    birthday_points: int | None = Field(default=None, ge=0, le=1_000_000)
    member_day_offers: bool | None = None
    points_multiplier_pct: int | None = Field(default=None, ge=100, le=1_000)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class TierRead(TierFields):
    code: str

    @classmethod
    def of(cls, tier: rules.Tier) -> TierRead:
        p = tier.privileges
        return cls(
            code=tier.code,
            name_zh=tier.name_zh,
            name_en=tier.name_en,
            threshold=tier.threshold,
            discount_bp=p.discount_bp,
            free_shipping=p.free_shipping,
            priority_shipping=p.priority_shipping,
            birthday_points=p.birthday_points,
            member_day_offers=p.member_day_offers,
            points_multiplier_pct=p.points_multiplier_pct,
        )


class MembershipRead(BaseModel):
    """The shopper's membership: tier, growth value, the next tier and what it takes."""

    tier: TierRead | None
    growth_value: int
    next_tier: TierRead | None
    growth_to_next: int | None
    paid_orders: int
    total_paid: int
    points_balance: int
    tiers: list[TierRead]


class EvaluationRead(BaseModel):
    evaluated: int
    up: int
    down: int


# --- points -----------------------------------------------------------------------------------


class PointsEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    amount: int
    growth: int
    balance_after: int
    ref: str
    reason: str
    order_id: int | None
    expires_at: dt.datetime | None
    created_at: dt.datetime


class PointsPage(BaseModel):
    balance: int
    items: list[PointsEntryRead]
    total: int
    limit: int
    offset: int


class SignInRead(BaseModel):
    entry: PointsEntryRead
    credited: bool = Field(description="false when today's sign-in was already recorded")
    balance: int


class PointsAdjust(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(gt=0)
    amount: int = Field(ge=-10_000_000, le=10_000_000, description="non-zero, either sign")
    reason: str = Field(min_length=1, max_length=200)
    ref: str = Field(default="", max_length=64)


class PointsExpire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: dt.datetime | None = Field(default=None, description="default: now")


class PointsTotals(BaseModel):
    customers: int
    points: int


class ReferralCodeRead(BaseModel):
    code: str
    referred_by: int | None


class ReferralApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=16)
