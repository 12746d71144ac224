"""Whether a promotion may apply at all (time, channel, customer, limits) and to which lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import lru_cache
from itertools import chain
from operator import getitem
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


# Which `CartIndex` lookup each filter field reads: 0 sku, 1 product, 2 category, 3 brand.
_INCLUDE_FIELDS = (("sku_ids", 0), ("product_ids", 1), ("category_ids", 2), ("brand_ids", 3))
_EXCLUDE_FIELDS = (
    ("exclude_sku_ids", 0),
    ("exclude_product_ids", 1),
    ("exclude_category_ids", 2),
    ("exclude_brand_ids", 3),
)
_Plan = tuple[tuple[tuple[int, frozenset[int]], ...], tuple[tuple[int, frozenset[int]], ...]]
# A filter's non-empty id sets, compiled once per filter object: filters are frozen and outlive
# evaluations (the entry holds the filter, so its id is not reused while cached).
_PLANS: dict[int, tuple[ItemFilter, _Plan]] = {}
_MAX_PLANS = 8192


def _plan(f: ItemFilter) -> _Plan:
    hit = _PLANS.get(id(f))
    if hit is not None and hit[0] is f:
        return hit[1]
    includes = tuple((k, ids) for name, k in _INCLUDE_FIELDS if (ids := getattr(f, name)))
    excludes = tuple((k, ids) for name, k in _EXCLUDE_FIELDS if (ids := getattr(f, name)))
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(f)] = (f, (includes, excludes))
    return includes, excludes


# _BYTE_LINES[c][b]: the line indexes of the set bits of byte value b in byte c of a line mask.
_BYTE_LINES: list[tuple[tuple[int, ...], ...]] = [
    tuple(tuple(8 * c + j for j in range(8) if b >> j & 1) for b in range(256)) for c in range(8)
]
_FEW_BITS = 8  # below this many lines, walking the bits beats the byte tables


class CartIndex:
    """A cart's lines as arrays, with lookups from sku/product/category/brand to line indexes."""

    __slots__ = (
        "_cache",
        "_everything",
        "_full",
        "_indexes",
        "_packed",
        "_shift",
        "_units_mask",
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
        self._indexes = (by_sku, by_product, by_category, by_brand)
        self._full = (1 << len(lines)) - 1
        # Quantities are positive and amounts not negative (checked by the caller): any sum of
        # quantities fits below `_shift` bits, so one sum of `_packed` gives both totals.
        self._shift = sum(self.qtys).bit_length() + 1
        self._units_mask = (1 << self._shift) - 1
        self._packed = [
            (a << self._shift) + q for a, q in zip(self.amounts, self.qtys, strict=True)
        ]
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
        key = id(f)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._select(f)
        return hit

    def _select(self, f: ItemFilter) -> tuple[tuple[int, ...], int, int]:
        if f is ALL_ITEMS:
            return self._everything
        entry = _PLANS.get(id(f))
        includes, excludes = entry[1] if entry is not None and entry[0] is f else _plan(f)
        if not includes and not excludes:
            return self._everything
        indexes = self._indexes
        mask = self._full
        for k, ids in includes:
            index = indexes[k]
            if len(ids) > len(index):
                ids = ids.intersection(index)  # type: ignore[assignment]
            get = index.get
            found = 0
            for key in ids:
                found |= get(key, 0)
            mask &= found
        for k, ids in excludes:
            if not mask:
                break
            mask &= ~self._mask_of(ids, indexes[k])
        # Units and spend summed at once: packed[i] is the line's amount above its quantity.
        packed = self._packed
        if mask.bit_count() < _FEW_BITS:
            lines = []
            both = 0
            while mask:
                low = mask & -mask
                i = low.bit_length() - 1
                lines.append(i)
                both += packed[i]
                mask ^= low
            chosen = tuple(lines)
        else:
            chosen = bit_indexes(mask)
            both = sum(map(packed.__getitem__, chosen))
        return chosen, both & self._units_mask, both >> self._shift


def bit_indexes(mask: int) -> tuple[int, ...]:
    """The indexes of the set bits of a non-negative `mask`, ascending."""
    if mask.bit_count() < _FEW_BITS:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return tuple(out)
    chunks = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
    tables = _BYTE_LINES
    if len(chunks) > len(tables):
        tables = _grow_byte_lines(len(chunks))
    return tuple(chain.from_iterable(map(getitem, tables, chunks)))


def _grow_byte_lines(n: int) -> list[tuple[tuple[int, ...], ...]]:
    """Byte tables for at least `n` bytes (carts of more than 64 lines), built whole and
    published only if longer than the current ones, so a concurrent reader never sees fewer."""
    global _BYTE_LINES
    tables = list(_BYTE_LINES)
    for c in range(len(tables), n):
        tables.append(tuple(tuple(8 * c + j for j in range(8) if b >> j & 1) for b in range(256)))
    if len(tables) > len(_BYTE_LINES):
        _BYTE_LINES = tables
    return tables
