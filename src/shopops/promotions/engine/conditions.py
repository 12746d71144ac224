"""Whether a promotion may apply at all (time, channel, customer, limits) and to which lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from shopops.promotions.engine.model import (
    ALL_ITEMS,
    CampaignBudget,
    CartLine,
    CustomerContext,
    EvaluationContext,
    ItemFilter,
    Promotion,
    PromotionKind,
)


class Reason(StrEnum):
    """Machine codes for why a promotion did not apply."""

    UNKNOWN_CODE = "unknown_code"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    WRONG_CHANNEL = "wrong_channel"
    OUTSIDE_HOURS = "outside_hours"
    NEW_CUSTOMERS_ONLY = "new_customers_only"
    CUSTOMER_NOT_ELIGIBLE = "customer_not_eligible"
    BIRTHDAY_MONTH_ONLY = "birthday_month_only"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CAMPAIGN_BUDGET_EXHAUSTED = "campaign_budget_exhausted"
    NO_ELIGIBLE_ITEMS = "no_eligible_items"
    MIN_QUANTITY_NOT_MET = "min_quantity_not_met"
    MIN_SPEND_NOT_MET = "min_spend_not_met"
    NO_DISCOUNT = "no_discount"
    NOT_COMBINABLE = "not_combinable"
    EXCLUSIVE_APPLIED = "exclusive_applied"
    BEATEN_ON_LINES = "beaten_on_lines"
    NOT_BEST = "not_best"


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Env:
    """The moment, place and customer of one evaluation, with the shop-local time worked out."""

    __slots__ = ("campaigns", "channel", "customer", "hour", "local", "now", "weekday")

    def __init__(
        self,
        context: EvaluationContext,
        customer: CustomerContext,
        campaigns: Mapping[int, CampaignBudget],
    ) -> None:
        if context.now.tzinfo is None:
            raise ValueError("EvaluationContext.now must be timezone-aware")
        self.now = context.now
        self.local = context.now.astimezone(_zone(context.timezone))
        self.weekday = self.local.weekday()
        self.hour = self.local.hour
        self.channel = context.channel
        self.customer = customer
        self.campaigns = campaigns


def gate(p: Promotion, env: Env) -> tuple[Reason, dict[str, object]] | None:
    """The first reason the promotion cannot apply to this customer now, or None."""
    c = p.conditions
    if c.starts_at is not None and env.now < c.starts_at:
        return Reason.NOT_STARTED, {"at": c.starts_at}
    if c.ends_at is not None and env.now >= c.ends_at:
        return Reason.EXPIRED, {"at": c.ends_at}
    if c.channels and env.channel not in c.channels:
        return Reason.WRONG_CHANNEL, {"channel": env.channel}
    if (c.weekdays and env.weekday not in c.weekdays) or (c.hours and env.hour not in c.hours):
        return Reason.OUTSIDE_HOURS, {"weekdays": c.weekdays, "hours": c.hours}
    cust = env.customer
    if (c.new_customers_only or p.kind is PromotionKind.FIRST_ORDER) and not cust.is_first_order:
        return Reason.NEW_CUSTOMERS_ONLY, {}
    if c.customer_tiers and cust.tier not in c.customer_tiers:
        return Reason.CUSTOMER_NOT_ELIGIBLE, {"tiers": c.customer_tiers}
    # A member price without named tiers is for any member (any tier at all).
    if p.kind is PromotionKind.MEMBER_PRICE and not c.customer_tiers and not cust.tier:
        return Reason.CUSTOMER_NOT_ELIGIBLE, {"tiers": frozenset()}
    if c.customer_segments and c.customer_segments.isdisjoint(cust.segments):
        return Reason.CUSTOMER_NOT_ELIGIBLE, {"segments": c.customer_segments}
    if c.birthday_month and (cust.birthday is None or cust.birthday.month != env.local.month):
        return Reason.BIRTHDAY_MONTH_ONLY, {}
    allowed = p.uses_allowed
    if allowed is not None and p.usage.uses >= allowed:
        return Reason.USAGE_LIMIT_REACHED, {}
    if p.limits.per_customer is not None and p.usage.customer_uses >= p.limits.per_customer:
        return Reason.CUSTOMER_LIMIT_REACHED, {}
    if p.limits.budget_amount is not None and p.usage.spent >= p.limits.budget_amount:
        return Reason.BUDGET_EXHAUSTED, {}
    if p.campaign_id is not None:
        camp = env.campaigns.get(p.campaign_id)
        if camp is not None and (
            (camp.uses_left is not None and camp.uses_left <= 0)
            or (camp.amount_left is not None and camp.amount_left <= 0)
        ):
            return Reason.CAMPAIGN_BUDGET_EXHAUSTED, {}
    return None


class CartIndex:
    """A cart's lines as arrays, with lookups from sku/product/category/brand to line indexes."""

    __slots__ = (
        "_cache",
        "_everything",
        "all_lines",
        "amounts",
        "by_brand",
        "by_category",
        "by_product",
        "by_sku",
        "prices",
        "qtys",
        "skus",
    )

    def __init__(self, lines: Sequence[CartLine]) -> None:
        self.prices = [line.unit_price for line in lines]
        self.qtys = [line.quantity for line in lines]
        self.amounts = [line.unit_price * line.quantity for line in lines]
        self.skus = [line.sku_id for line in lines]
        self.all_lines = tuple(range(len(lines)))
        # id → bitmask of the lines carrying it.
        self.by_sku: dict[int, int] = {}
        self.by_product: dict[int, int] = {}
        self.by_category: dict[int, int] = {}
        self.by_brand: dict[int, int] = {}
        by_sku, by_product = self.by_sku, self.by_product
        by_category, by_brand = self.by_category, self.by_brand
        for i, line in enumerate(lines):
            bit = 1 << i
            by_sku[line.sku_id] = by_sku.get(line.sku_id, 0) | bit
            by_product[line.product_id] = by_product.get(line.product_id, 0) | bit
            for cat in line.category_ids:
                by_category[cat] = by_category.get(cat, 0) | bit
            if line.brand_id is not None:
                by_brand[line.brand_id] = by_brand.get(line.brand_id, 0) | bit
        # Keyed by the filter object: promotions outlive the evaluation, so ids stay unique.
        self._cache: dict[int, tuple[tuple[int, ...], int, int]] = {}
        self._everything = (self.all_lines, sum(self.qtys), sum(self.amounts))

    @staticmethod
    def _mask_of(ids: frozenset[int], index: dict[int, int]) -> int:
        mask = 0
        if len(ids) > len(index):
            ids = ids.intersection(index)  # type: ignore[assignment]
        get = index.get
        for key in ids:
            mask |= get(key, 0)
        return mask

    def eligible(self, f: ItemFilter) -> tuple[int, ...]:
        """Indexes of the lines the filter selects, ascending."""
        return self.select(f)[0]

    def select(self, f: ItemFilter) -> tuple[tuple[int, ...], int, int]:
        """(eligible line indexes ascending, their units, their list-price subtotal)."""
        hit = self._cache.get(id(f))
        if hit is None:
            hit = self._cache[id(f)] = self._select(f)
        return hit

    def _select(self, f: ItemFilter) -> tuple[tuple[int, ...], int, int]:
        if f is ALL_ITEMS:
            return self._everything
        mask_of = self._mask_of
        mask = (1 << len(self.all_lines)) - 1
        if f.sku_ids:
            mask &= mask_of(f.sku_ids, self.by_sku)
        if f.product_ids:
            mask &= mask_of(f.product_ids, self.by_product)
        if f.category_ids:
            mask &= mask_of(f.category_ids, self.by_category)
        if f.brand_ids:
            mask &= mask_of(f.brand_ids, self.by_brand)
        if mask and f.exclude_sku_ids:
            mask &= ~mask_of(f.exclude_sku_ids, self.by_sku)
        if mask and f.exclude_product_ids:
            mask &= ~mask_of(f.exclude_product_ids, self.by_product)
        if mask and f.exclude_category_ids:
            mask &= ~mask_of(f.exclude_category_ids, self.by_category)
        if mask and f.exclude_brand_ids:
            mask &= ~mask_of(f.exclude_brand_ids, self.by_brand)
        lines = []
        units = spend = 0
        qtys, amounts = self.qtys, self.amounts
        while mask:
            low = mask & -mask
            i = low.bit_length() - 1
            lines.append(i)
            units += qtys[i]
            spend += amounts[i]
            mask ^= low
        return tuple(lines), units, spend
