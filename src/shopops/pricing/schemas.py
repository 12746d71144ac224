"""API schemas of pricing: list prices and their history, price lists, repricing proposals,
flash sales. Money is integer fen. Bounds here stop absurd input; the domain rules give the
precise refusals (a flash price not below the list price, a window ending before it starts…)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shopops.pricing.models import FlashSale

MAX_PRICE = 100_000_000  # ¥1,000,000 in fen, as in the catalog
MAX_POOL = 1_000_000
MAX_ITEMS = 500

Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=32
    ),
]
Target = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
SkuId = Annotated[int, Field(gt=0)]


# ---- list prices ------------------------------------------------------------------------------


class PriceSet(BaseModel):
    """A new list price. Outside the margin band it needs `allow_outside_band` and a reason."""

    model_config = ConfigDict(extra="forbid")

    price: Price
    reason: Reason = ""
    allow_outside_band: bool = False


class PriceChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    price_list_id: int | None
    old_price: int | None
    new_price: int | None
    cost: int
    actor: str
    reason: str
    outside_band: bool
    changed_at: dt.datetime


class ResolvedPrice(BaseModel):
    sku_id: int
    price: int


# ---- price lists ------------------------------------------------------------------------------


class PriceListItemInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: SkuId
    price: Price


class PriceListItemChange(BaseModel):
    """`price: null` removes the SKU from the list."""

    model_config = ConfigDict(extra="forbid")

    sku_id: SkuId
    price: Price | None


class PriceListCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    kind: Literal["member", "channel"]
    target: Target = Field(description="The tier code (member lists) or the channel")
    items: list[PriceListItemInput] = Field(default_factory=list, max_length=MAX_ITEMS)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    active: bool = True
    reason: Reason = ""


class PriceListUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    active: bool | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class PriceListItemsSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PriceListItemChange] = Field(min_length=1, max_length=MAX_ITEMS)
    reason: Reason = ""


class PriceListItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: int
    price: int


class PriceListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    target: str
    active: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    items: list[PriceListItemRead]


# ---- repricing --------------------------------------------------------------------------------


class RepriceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: SkuId
    competitor_prices: list[Annotated[int, Field(gt=0, le=MAX_PRICE)]] = Field(
        default_factory=list, max_length=50
    )
    daily_sales: float = Field(default=0.0, ge=0, le=1_000_000)
    min_margin_bp: int = Field(default=3_800, ge=0, le=9_999)
    max_margin_bp: int = Field(default=4_200, ge=0, le=9_999)


class ReasonRead(BaseModel):
    code: str
    text: str


class RepriceProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    current_price: int
    proposed_price: int | None
    cost: int
    band_low: int
    band_high: int
    inputs: dict[str, object]
    reasons: list[ReasonRead]
    status: str
    created_by: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


class RepriceApplied(BaseModel):
    proposal: RepriceProposalRead
    change: PriceChangeRead | None


# ---- flash sales ------------------------------------------------------------------------------


class FlashItemInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: SkuId
    flash_price: Price
    pool: int = Field(ge=0, le=MAX_POOL)


class FlashSaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    per_customer_limit: int = Field(default=1, ge=0, le=1_000)
    items: list[FlashItemInput] = Field(max_length=MAX_ITEMS)


class FlashItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: int
    list_price: int
    flash_price: int
    pool: int
    sold: int
    left: int


class FlashSaleRead(BaseModel):
    id: int
    name: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    per_customer_limit: int
    created_by: str
    items: list[FlashItemRead]

    @classmethod
    def of(cls, sale: FlashSale) -> FlashSaleRead:
        return cls(
            id=sale.id,
            name=sale.name,
            status=sale.status,
            starts_at=sale.starts_at,
            ends_at=sale.ends_at,
            per_customer_limit=sale.per_customer_limit,
            created_by=sale.created_by,
            items=[
                FlashItemRead(
                    sku_id=i.sku_id,
                    list_price=i.list_price,
                    flash_price=i.flash_price,
                    pool=i.pool,
                    sold=i.sold,
                    left=i.pool - i.sold,
                )
                for i in sale.items
            ],
        )


class StorefrontFlashItem(BaseModel):
    sku_id: int
    list_price: int
    flash_price: int
    left: int


class StorefrontFlashSale(BaseModel):
    """A live sale as shoppers see it: prices and what is left, no internal counters."""

    id: int
    name: str
    ends_at: dt.datetime
    per_customer_limit: int
    items: list[StorefrontFlashItem]

    @classmethod
    def of(cls, sale: FlashSale) -> StorefrontFlashSale:
        return cls(
            id=sale.id,
            name=sale.name,
            ends_at=sale.ends_at,
            per_customer_limit=sale.per_customer_limit,
            items=[
                StorefrontFlashItem(
                    sku_id=i.sku_id,
                    list_price=i.list_price,
                    flash_price=i.flash_price,
                    left=max(i.pool - i.sold, 0),
                )
                for i in sale.items
            ],
        )
