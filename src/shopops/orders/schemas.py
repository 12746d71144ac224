"""API schemas of carts, checkout and orders."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.orders.pricing import MAX_COUPON_CODES, PricedCart
from shopops.orders.rules import OrderStatus
from shopops.orders.service import CartView

# A hard bound against absurd input; the shop's `max_line_quantity` is checked by the service.
QUANTITY_CAP = 1_000_000
LINES_CAP = 1_000


class CartLineInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    quantity: int = Field(default=1, ge=1, le=QUANTITY_CAP)


class CartQuantity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=QUANTITY_CAP)


class CartLineRead(BaseModel):
    sku_id: int
    quantity: int
    product_id: int | None
    sku_code: str
    title: str
    attributes: dict[str, Any]
    unit_price: int
    subtotal: int
    listed: bool
    available: int


class CartRead(BaseModel):
    customer_id: int
    lines: list[CartLineRead]
    items_subtotal: int
    updated_at: dt.datetime | None

    @classmethod
    def of(cls, view: CartView) -> CartRead:
        return cls(
            customer_id=view.customer_id,
            lines=[CartLineRead(**dataclasses.asdict(line)) for line in view.lines],
            items_subtotal=view.items_subtotal,
            updated_at=view.updated_at,
        )


class CheckoutRequest(BaseModel):
    """Preview body: the lines to price (buy now), or nothing to price the cart."""

    model_config = ConfigDict(extra="forbid")

    lines: list[CartLineInput] | None = Field(default=None, min_length=1, max_length=LINES_CAP)
    coupon_codes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=MAX_COUPON_CODES
    )
    points: int = Field(default=0, ge=0, le=100_000_000, description="points to redeem")

    def pairs(self) -> list[tuple[int, int]] | None:
        return None if self.lines is None else [(ln.sku_id, ln.quantity) for ln in self.lines]


class OrderCreate(CheckoutRequest):
    """Place an order: from the cart, or from `lines` (buy now); to `address_id` or the
    default address."""

    address_id: int | None = Field(default=None, gt=0)
    note: str = Field(default="", max_length=500)


class PricedLineRead(BaseModel):
    sku_id: int
    product_id: int
    sku_code: str
    title: str
    unit_price: int
    quantity: int
    subtotal: int
    discount: int
    total: int


class AppliedDiscountRead(BaseModel):
    source: str
    reference: str
    description: str
    amount: int
    line_amounts: dict[int, int]
    waives_shipping: bool


class CheckoutPreview(BaseModel):
    lines: list[PricedLineRead]
    discounts: list[AppliedDiscountRead]
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    notes: list[str]

    @classmethod
    def of(cls, priced: PricedCart) -> CheckoutPreview:
        return cls(
            lines=[
                PricedLineRead(
                    sku_id=line.item.sku_id,
                    product_id=line.item.product_id,
                    sku_code=line.item.sku_code,
                    title=line.item.title,
                    unit_price=line.item.unit_price,
                    quantity=line.item.quantity,
                    subtotal=line.item.subtotal,
                    discount=line.discount,
                    total=line.total,
                )
                for line in priced.lines
            ],
            discounts=[
                AppliedDiscountRead(
                    source=d.source,
                    reference=d.reference,
                    description=d.description,
                    amount=d.amount,
                    line_amounts=dict(d.line_amounts or {}),
                    waives_shipping=d.waives_shipping,
                )
                for d in priced.discounts
            ],
            items_subtotal=priced.items_subtotal,
            discount_total=priced.discount_total,
            shipping_fee=priced.shipping_fee,
            total=priced.total,
            notes=list(priced.notes),
        )


class OrderLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    product_id: int
    title: str
    sku_code: str
    attributes: dict[str, Any]
    unit_price: int
    quantity: int
    subtotal: int
    discount: int
    total: int
    refunded_quantity: int
    refunded_amount: int


class OrderDiscountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    reference: str
    description: str
    amount: int


class OrderSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    customer_id: int
    status: OrderStatus
    channel: str
    currency: str
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    paid_amount: int
    refunded_amount: int
    placed_at: dt.datetime
    expires_at: dt.datetime
    paid_at: dt.datetime | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str


class OrderRead(OrderSummary):
    shipping_address: dict[str, Any]
    note: str
    lines: list[OrderLineRead]
    discounts: list[OrderDiscountRead]


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    occurred_at: dt.datetime
    payload: dict[str, Any]


class AdminOrderRead(OrderRead):
    timeline: list[TimelineEntry]


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


class OrderCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=100)


class JobResult(BaseModel):
    processed: int
