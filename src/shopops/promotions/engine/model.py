"""The values the promotion engine reads and returns: frozen dataclasses, money in integer fen.

Percentages are basis points (`BP` = 100%: 1500 bp is 15% off, i.e. 8.5折); there is no float
anywhere. Cart lines are identified by their index in `Cart.lines`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

BP = 10_000  # basis points in 100%


class DiscountClass(StrEnum):
    """What a discount reduces; `combines_with` on a promotion names these classes."""

    PRODUCT = "product"
    ORDER = "order"
    SHIPPING = "shipping"


class PromotionKind(StrEnum):
    SPEND_SAVE = "spend_save"  # 满减: spend X save Y, tiers, "every ¥300 save ¥30"
    INSTANT = "instant"  # 立减: order class once; product class per unit
    PERCENT_OFF = "percent_off"  # 折扣, optionally capped
    FIXED_PRICE = "fixed_price"  # 一口价 per unit
    CASHBACK = "cashback"  # 返现: credited after completion, not deducted
    EXCHANGE = "exchange"  # 兑换券: N units at a set price (default free)
    FREE_SHIPPING = "free_shipping"  # 包邮
    FIRST_ORDER = "first_order"  # 首单 coupon (new customers only, implied)
    TIERED_QUANTITY = "tiered_quantity"  # 阶梯优惠: more units, deeper percent off
    GIFT = "gift"  # 买赠: a gift SKU added free
    BUY_X_GET_Y = "buy_x_get_y"  # 买X得Y: the cheapest qualifying units discounted
    MEMBER_PRICE = "member_price"  # 会员价
    TIME_LIMITED = "time_limited"  # 限时折扣 / 秒杀


# Which classes a kind may be declared as; the first is the default.
KIND_CLASSES: dict[PromotionKind, tuple[DiscountClass, ...]] = {
    PromotionKind.SPEND_SAVE: (DiscountClass.ORDER, DiscountClass.PRODUCT),
    PromotionKind.INSTANT: (DiscountClass.ORDER, DiscountClass.PRODUCT),
    PromotionKind.PERCENT_OFF: (DiscountClass.ORDER, DiscountClass.PRODUCT),
    PromotionKind.FIXED_PRICE: (DiscountClass.PRODUCT,),
    PromotionKind.CASHBACK: (DiscountClass.ORDER,),
    PromotionKind.EXCHANGE: (DiscountClass.PRODUCT,),
    PromotionKind.FREE_SHIPPING: (DiscountClass.SHIPPING,),
    PromotionKind.FIRST_ORDER: (DiscountClass.ORDER,),
    PromotionKind.TIERED_QUANTITY: (DiscountClass.PRODUCT,),
    PromotionKind.GIFT: (DiscountClass.ORDER,),
    PromotionKind.BUY_X_GET_Y: (DiscountClass.PRODUCT,),
    PromotionKind.MEMBER_PRICE: (DiscountClass.PRODUCT,),
    PromotionKind.TIME_LIMITED: (DiscountClass.PRODUCT,),
}

# Kinds computed after order discounts, on what the customer actually pays for the items.
POST_KINDS = frozenset({PromotionKind.FREE_SHIPPING, PromotionKind.CASHBACK, PromotionKind.GIFT})

# When a promotion is computed: product class on list prices, then order class, then the kinds
# in POST_KINDS on what is left to pay.
PRODUCT_PHASE, ORDER_PHASE, POST_PHASE = 0, 1, 2


# --- the cart, the customer, the moment -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartLine:
    sku_id: int
    product_id: int
    unit_price: int  # fen, list price before any promotion
    quantity: int
    category_ids: frozenset[int] = frozenset()  # the product's category and all its ancestors
    brand_id: int | None = None

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Cart:
    lines: tuple[CartLine, ...]
    shipping_fee: int = 0
    codes: frozenset[str] = frozenset()  # coupon codes the customer presented


@dataclass(frozen=True, slots=True)
class CustomerContext:
    customer_id: int | None = None
    tier: str = ""
    segments: frozenset[str] = frozenset()
    is_first_order: bool = False
    birthday: dt.date | None = None


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    now: dt.datetime  # tz-aware
    channel: str = "storefront"
    timezone: str = "Asia/Shanghai"  # for days of week, hours and birthday months


# --- a promotion's definition ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which cart lines a promotion looks at.

    Each non-empty include set must match (a line in `category_ids` AND of a brand in
    `brand_ids`); within a set any id matches. Empty include sets mean every line. A line
    matching any exclude set is out.
    """

    sku_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    brand_ids: frozenset[int] = frozenset()
    exclude_sku_ids: frozenset[int] = frozenset()
    exclude_product_ids: frozenset[int] = frozenset()
    exclude_category_ids: frozenset[int] = frozenset()
    exclude_brand_ids: frozenset[int] = frozenset()


ALL_ITEMS = ItemFilter()


@dataclass(frozen=True, slots=True)
class Conditions:
    items: ItemFilter = ALL_ITEMS
    min_spend: int = 0  # fen, over the eligible lines (after earlier discount classes)
    min_quantity: int = 0  # units of the eligible lines
    customer_tiers: frozenset[str] = frozenset()  # empty: any tier
    customer_segments: frozenset[str] = frozenset()  # any of these tags
    new_customers_only: bool = False
    birthday_month: bool = False  # only during the customer's birthday month
    channels: frozenset[str] = frozenset()
    starts_at: dt.datetime | None = None  # inclusive
    ends_at: dt.datetime | None = None  # exclusive
    weekdays: frozenset[int] = frozenset()  # 0 = Monday … 6 = Sunday, shop time zone
    hours: frozenset[int] = frozenset()  # 0…23, shop time zone


@dataclass(frozen=True, slots=True)
class Limits:
    """Usage limits as defined; `Usage` is how much of them is already spent."""

    total_uses: int | None = None  # orders that may use it, all customers together
    per_customer: int | None = None
    max_units_per_order: int | None = None  # discounted units per order (秒杀 limits)
    budget_amount: int | None = None  # fen of discount + cashback + gift value, in total
    budget_count: int | None = None  # orders, counted like total_uses (the tighter one wins)
    single_use_code: bool = False  # a one-time code: total_uses is 1


@dataclass(frozen=True, slots=True)
class Usage:
    """A snapshot of consumption, computed by the caller from the database."""

    uses: int = 0
    customer_uses: int = 0  # by the customer being evaluated
    spent: int = 0  # fen already given away against budget_amount


@dataclass(frozen=True, slots=True)
class CampaignBudget:
    """What is left of a campaign's budget, shared by all of its promotions (None: no limit)."""

    amount_left: int | None = None
    uses_left: int | None = None


# --- parameters, one class per kind ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpendSave:
    tiers: tuple[tuple[int, int], ...]  # (threshold, amount) in fen, thresholds ascending
    repeat: bool = False  # "every ¥300 save ¥30" (a single tier)
    max_repeats: int | None = None


@dataclass(frozen=True, slots=True)
class Instant:
    amount: int  # order class: off the eligible subtotal once; product class: off each unit


@dataclass(frozen=True, slots=True)
class PercentOff:
    percent_bp: int  # 1500 = 15% off
    cap: int | None = None  # most it may take off, fen


@dataclass(frozen=True, slots=True)
class FixedPrice:
    price: int  # each eligible unit sells at this price (when lower than its own)


@dataclass(frozen=True, slots=True)
class Cashback:
    amount: int = 0  # fixed cashback, or
    percent_bp: int = 0  # a share of what is paid for the eligible items
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    quantity: int = 1  # units exchanged
    price: int = 0  # what the customer pays per exchanged unit


@dataclass(frozen=True, slots=True)
class FreeShipping:
    cap: int | None = None  # most of the shipping fee it covers


@dataclass(frozen=True, slots=True)
class FirstOrder:
    amount: int = 0
    percent_bp: int = 0
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class TieredQuantity:
    tiers: tuple[tuple[int, int], ...]  # (minimum units, percent_bp), ascending


@dataclass(frozen=True, slots=True)
class GiftWithPurchase:
    sku_id: int
    quantity: int = 1
    unit_value: int = 0  # the gift's price, to value and budget it
    repeat: bool = False  # one more batch per multiple of conditions.min_spend
    max_quantity: int | None = None


@dataclass(frozen=True, slots=True)
class BuyXGetY:
    buy_quantity: int
    get_quantity: int
    percent_bp: int = BP  # off the "get" units: 100% is free
    get_items: ItemFilter | None = None  # None: the same items as the "buy" side
    max_applications: int | None = None  # None: as many times as the cart allows


@dataclass(frozen=True, slots=True)
class MemberPrice:
    percent_bp: int = 0  # off every eligible unit, or
    prices: Mapping[int, int] = field(default_factory=dict)  # sku_id → member unit price


@dataclass(frozen=True, slots=True)
class TimeLimited:
    percent_bp: int = 0
    price: int | None = None  # a flash-sale unit price instead of a percentage


Params = (
    SpendSave
    | Instant
    | PercentOff
    | FixedPrice
    | Cashback
    | Exchange
    | FreeShipping
    | FirstOrder
    | TieredQuantity
    | GiftWithPurchase
    | BuyXGetY
    | MemberPrice
    | TimeLimited
)

PARAMS_OF_KIND: dict[PromotionKind, type] = {
    PromotionKind.SPEND_SAVE: SpendSave,
    PromotionKind.INSTANT: Instant,
    PromotionKind.PERCENT_OFF: PercentOff,
    PromotionKind.FIXED_PRICE: FixedPrice,
    PromotionKind.CASHBACK: Cashback,
    PromotionKind.EXCHANGE: Exchange,
    PromotionKind.FREE_SHIPPING: FreeShipping,
    PromotionKind.FIRST_ORDER: FirstOrder,
    PromotionKind.TIERED_QUANTITY: TieredQuantity,
    PromotionKind.GIFT: GiftWithPurchase,
    PromotionKind.BUY_X_GET_Y: BuyXGetY,
    PromotionKind.MEMBER_PRICE: MemberPrice,
    PromotionKind.TIME_LIMITED: TimeLimited,
}


@dataclass(frozen=True, slots=True)
class Promotion:
    """One active promotion with its usage snapshot, as the caller loaded it.

    `klass` defaults to the kind's usual class. A promotion with a `code` is a coupon: it is
    considered only when that code is presented. `exclusive` promotions apply alone.
    """

    id: int
    name: str
    kind: PromotionKind
    params: Params
    klass: DiscountClass | None = None
    conditions: Conditions = Conditions()
    combines_with: frozenset[DiscountClass] = frozenset()
    priority: int = 0
    exclusive: bool = False
    code: str | None = None
    campaign_id: int | None = None
    limits: Limits = Limits()
    usage: Usage = Usage()
    # Derived once at construction, not part of the definition (see __post_init__).
    code_key: str | None = field(default=None, init=False, repr=False, compare=False)
    minimums: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)
    uses_allowed: int | None = field(default=None, init=False, repr=False, compare=False)
    phase: int = field(default=PRODUCT_PHASE, init=False, repr=False, compare=False)
    # Product discounts stack on a line only if both sides agree to combine with product.
    stacks: bool = field(default=False, init=False, repr=False, compare=False)
    gated: bool = field(default=True, init=False, repr=False, compare=False)  # see _gated
    # What deciding whether two promotions combine reads: (klass, combines_with, exclusive).
    signature: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.klass is None:
            object.__setattr__(self, "klass", KIND_CLASSES[self.kind][0])
        if self.code is not None:
            object.__setattr__(self, "code_key", normalize_code(self.code))
        object.__setattr__(self, "minimums", _minimums(self))
        object.__setattr__(self, "uses_allowed", _uses_allowed(self.limits))
        if self.kind in POST_KINDS:
            phase = POST_PHASE
        else:
            phase = PRODUCT_PHASE if self.klass is DiscountClass.PRODUCT else ORDER_PHASE
        object.__setattr__(self, "phase", phase)
        stacks = DiscountClass.PRODUCT in self.combines_with and not self.exclusive
        object.__setattr__(self, "stacks", stacks)
        object.__setattr__(self, "gated", _gated(self))
        signature = (self.klass, self.combines_with, self.exclusive)
        object.__setattr__(self, "signature", signature)


def _gated(p: Promotion) -> bool:
    """Whether anything about the moment, the channel, the customer or the usage can refuse the
    promotion (False lets the engine skip `conditions.gate`, which would pass)."""
    c, lim = p.conditions, p.limits
    return bool(
        c.starts_at is not None
        or c.ends_at is not None
        or c.channels
        or c.weekdays
        or c.hours
        or c.new_customers_only
        or c.customer_tiers
        or c.customer_segments
        or c.birthday_month
        or p.kind is PromotionKind.FIRST_ORDER
        or p.kind is PromotionKind.MEMBER_PRICE
        or p.uses_allowed is not None
        or lim.per_customer is not None
        or lim.budget_amount is not None
        or p.campaign_id is not None
    )


def _minimums(p: Promotion) -> tuple[int, int]:
    """(min spend, min units) a promotion needs before it gives anything, conditions included."""
    spend, units = p.conditions.min_spend, p.conditions.min_quantity
    params = p.params
    if isinstance(params, SpendSave) and params.tiers:
        spend = max(spend, min(t for t, _ in params.tiers))
    elif isinstance(params, TieredQuantity) and params.tiers:
        units = max(units, min(u for u, _ in params.tiers))
    elif isinstance(params, BuyXGetY) and params.get_items is None:
        units = max(units, params.buy_quantity + params.get_quantity)
    return spend, units


def _uses_allowed(lim: Limits) -> int | None:
    """The tighter of total uses, the count budget and a single-use code's one use."""
    allowed = lim.total_uses
    for bound in (lim.budget_count, 1 if lim.single_use_code else None):
        if bound is not None:
            allowed = bound if allowed is None else min(allowed, bound)
    return allowed


def normalize_code(code: str) -> str:
    """Codes compare case-insensitively and ignore surrounding blanks."""
    return code.strip().upper()
