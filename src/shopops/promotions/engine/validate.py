"""Refusing bad promotion definitions at creation, each problem with a field, a code and a
message in both languages. Pure: the known SKU/category/brand/product ids come as arguments."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from shopops.promotions.engine.explain import money_en, money_zh
from shopops.promotions.engine.model import (
    BP,
    KIND_CLASSES,
    PARAMS_OF_KIND,
    BuyXGetY,
    Cashback,
    Conditions,
    Exchange,
    FirstOrder,
    FixedPrice,
    FreeShipping,
    GiftWithPurchase,
    Instant,
    ItemFilter,
    Limits,
    MemberPrice,
    PercentOff,
    Promotion,
    SpendSave,
    TieredQuantity,
    TimeLimited,
)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # dotted path into the definition, e.g. "params.tiers[1]"
    code: str  # machine code, e.g. "percent_out_of_range"
    message: str
    message_zh: str


class _Problems(list[Problem]):
    def add(self, field: str, code: str, message: str, message_zh: str) -> None:
        self.append(Problem(field, code, message, message_zh))

    def negative(self, field: str, value: int | None) -> None:
        if value is not None and value < 0:
            self.add(
                field, "negative_amount", f"{field} must not be negative", f"{field}不能为负数"
            )

    def percent(self, field: str, bp: int) -> None:
        if not 0 < bp <= BP:
            self.add(
                field,
                "percent_out_of_range",
                f"{field} must be above 0% and at most 100% (1..{BP} basis points)",
                f"{field}须大于0%且不超过100%（1至{BP}个基点）",
            )

    def at_least_one(self, field: str, value: int | None) -> None:
        if value is not None and value < 1:
            self.add(field, "below_one", f"{field} must be at least 1", f"{field}至少为1")

    def one_of(self, field: str, amount: int, percent_bp: int) -> None:
        if bool(amount) == bool(percent_bp):
            self.add(
                field,
                "amount_or_percent",
                "give either an amount or a percentage, not both or neither",
                "金额与折扣比例须且只能填写一项",
            )
        elif percent_bp:
            self.percent(f"{field}.percent_bp", percent_bp)
        else:
            self.negative(f"{field}.amount", amount)


def validate_promotion(
    defn: Promotion,
    *,
    known_sku_ids: Collection[int] | None = None,
    known_category_ids: Collection[int] | None = None,
    known_brand_ids: Collection[int] | None = None,
    known_product_ids: Collection[int] | None = None,
) -> list[Problem]:
    """Every problem with a promotion definition; an empty list means it may be created.

    Id checks run only for the id kinds whose known sets are given.
    """
    out = _Problems()
    if not defn.name.strip():
        out.add("name", "name_required", "a promotion needs a name", "促销活动需要名称")
    if defn.klass not in KIND_CLASSES[defn.kind]:
        allowed = ", ".join(k.value for k in KIND_CLASSES[defn.kind])
        out.add(
            "klass",
            "class_not_allowed",
            f"a {defn.kind.value} promotion must be of class {allowed}",
            f"{defn.kind.value}类促销的类别只能是{allowed}",
        )
    if defn.exclusive and defn.combines_with:
        out.add(
            "combines_with",
            "exclusive_combines",
            "an exclusive promotion applies alone and combines with nothing",
            "独享促销不可与其他优惠叠加，请清空可叠加类别",
        )
    if defn.code is not None and not CODE_PATTERN.match(defn.code.strip()):
        out.add(
            "code",
            "invalid_code",
            "a code is 3 to 64 letters, digits, '-' or '_'",
            "优惠码须为3至64位字母、数字、'-'或'_'",
        )
    expected = PARAMS_OF_KIND[defn.kind]
    if not isinstance(defn.params, expected):
        out.add(
            "params",
            "params_mismatch",
            f"a {defn.kind.value} promotion takes {expected.__name__} parameters",
            f"{defn.kind.value}类促销的参数应为{expected.__name__}",
        )
    else:
        _check_params(out, defn)
    _check_conditions(out, defn.conditions)
    _check_limits(out, defn.limits, defn.code)
    known = {
        "sku_ids": known_sku_ids,
        "category_ids": known_category_ids,
        "brand_ids": known_brand_ids,
        "product_ids": known_product_ids,
    }
    _check_filter(out, "conditions.items", defn.conditions.items, known)
    params = defn.params
    if isinstance(params, BuyXGetY) and params.get_items is not None:
        _check_filter(out, "params.get_items", params.get_items, known)
    if known_sku_ids is not None:
        skus = set(known_sku_ids)
        if isinstance(params, GiftWithPurchase) and params.sku_id not in skus:
            _unknown(out, "params.sku_id", "sku", [params.sku_id])
        if isinstance(params, MemberPrice):
            missing = sorted(set(params.prices) - skus)
            if missing:
                _unknown(out, "params.prices", "sku", missing)
    return list(out)


def _unknown(out: _Problems, field: str, what: str, ids: list[int]) -> None:
    shown = ", ".join(str(i) for i in ids[:10])
    names = {"sku": "SKU", "category": "类目", "brand": "品牌", "product": "商品"}
    out.add(
        field,
        f"unknown_{what}",
        f"unknown {what} id(s): {shown}",
        f"未知的{names[what]} ID：{shown}",
    )


def _check_filter(
    out: _Problems, field: str, f: ItemFilter, known: dict[str, Collection[int] | None]
) -> None:
    for name, what in (
        ("sku_ids", "sku"),
        ("category_ids", "category"),
        ("brand_ids", "brand"),
        ("product_ids", "product"),
    ):
        include: frozenset[int] = getattr(f, name)
        exclude: frozenset[int] = getattr(f, f"exclude_{name}")
        overlap = sorted(include & exclude)
        if overlap:
            out.add(
                f"{field}.{name}",
                "include_exclude_overlap",
                f"ids both included and excluded: {overlap[:10]}",
                f"同时被包含和排除的ID：{overlap[:10]}",
            )
        ids = known[name]
        if ids is not None:
            known_set = set(ids)
            missing = sorted((include | exclude) - known_set)
            if missing:
                _unknown(out, f"{field}.{name}", what, missing)


def _check_conditions(out: _Problems, c: Conditions) -> None:
    for name in ("starts_at", "ends_at"):
        value = getattr(c, name)
        if value is not None and value.tzinfo is None:
            out.add(
                f"conditions.{name}",
                "naive_datetime",
                f"{name} needs a time zone",
                f"{name}须带时区",
            )
    if (
        c.starts_at is not None
        and c.ends_at is not None
        and c.starts_at.tzinfo is not None
        and c.ends_at.tzinfo is not None
        and c.ends_at <= c.starts_at
    ):
        out.add(
            "conditions.ends_at",
            "ends_before_start",
            "the promotion ends before it starts",
            "结束时间早于开始时间",
        )
    out.negative("conditions.min_spend", c.min_spend)
    out.negative("conditions.min_quantity", c.min_quantity)
    if any(not 0 <= d <= 6 for d in c.weekdays):
        out.add(
            "conditions.weekdays",
            "bad_weekday",
            "weekdays are 0 (Monday) to 6 (Sunday)",
            "星期取值为0（周一）至6（周日）",
        )
    if any(not 0 <= h <= 23 for h in c.hours):
        out.add("conditions.hours", "bad_hour", "hours are 0 to 23", "小时取值为0至23")


def _check_limits(out: _Problems, lim: Limits, code: str | None) -> None:
    if lim.budget_amount is not None and lim.budget_amount < 0:
        out.add(
            "limits.budget_amount",
            "negative_budget",
            "a budget cannot be below zero",
            "预算不能小于零",
        )
    if lim.budget_count is not None and lim.budget_count < 0:
        out.add(
            "limits.budget_count",
            "negative_budget",
            "a budget cannot be below zero",
            "预算不能小于零",
        )
    for name in ("total_uses", "per_customer", "max_units_per_order"):
        out.at_least_one(f"limits.{name}", getattr(lim, name))
    if lim.single_use_code:
        if code is None:
            out.add(
                "limits.single_use_code",
                "single_use_without_code",
                "a single-use code needs a code",
                "一次性优惠码须设置优惠码",
            )
        if lim.total_uses is not None and lim.total_uses > 1:
            out.add(
                "limits.total_uses",
                "single_use_conflict",
                "a single-use code is used once in total",
                "一次性优惠码总共只能使用一次",
            )


def _check_params(out: _Problems, defn: Promotion) -> None:
    params = defn.params
    min_spend = defn.conditions.min_spend
    if isinstance(params, SpendSave):
        _check_spend_save(out, params)
    elif isinstance(params, Instant | FirstOrder):
        if isinstance(params, FirstOrder):
            out.one_of("params", params.amount, params.percent_bp)
            out.negative("params.cap", params.cap)
        amount = params.amount
        if isinstance(params, Instant) and amount <= 0:
            out.add(
                "params.amount", "amount_required", "the amount must be positive", "金额须大于0"
            )
        if min_spend > 0 and amount > min_spend:
            _exceeds(out, "params.amount", amount, min_spend)
    elif isinstance(params, PercentOff):
        out.percent("params.percent_bp", params.percent_bp)
        out.negative("params.cap", params.cap)
    elif isinstance(params, FixedPrice):
        out.negative("params.price", params.price)
    elif isinstance(params, Cashback):
        out.one_of("params", params.amount, params.percent_bp)
        out.negative("params.cap", params.cap)
        if min_spend > 0 and params.amount > min_spend:
            _exceeds(out, "params.amount", params.amount, min_spend)
    elif isinstance(params, Exchange):
        out.at_least_one("params.quantity", params.quantity)
        out.negative("params.price", params.price)
    elif isinstance(params, FreeShipping):
        out.negative("params.cap", params.cap)
    elif isinstance(params, TieredQuantity):
        _check_tiered(out, params)
    elif isinstance(params, GiftWithPurchase):
        out.at_least_one("params.quantity", params.quantity)
        out.negative("params.unit_value", params.unit_value)
        if params.max_quantity is not None and params.max_quantity < params.quantity:
            out.add(
                "params.max_quantity",
                "max_below_quantity",
                "the most gifts per order cannot be below the gift quantity",
                "每单赠品上限不能小于赠送数量",
            )
        if params.repeat and min_spend <= 0:
            out.add(
                "params.repeat",
                "repeat_needs_threshold",
                "repeating gifts need a minimum spend to repeat on",
                "按倍数赠送须设置满额门槛",
            )
    elif isinstance(params, BuyXGetY):
        out.at_least_one("params.buy_quantity", params.buy_quantity)
        out.at_least_one("params.get_quantity", params.get_quantity)
        out.percent("params.percent_bp", params.percent_bp)
        out.at_least_one("params.max_applications", params.max_applications)
    elif isinstance(params, MemberPrice):
        if bool(params.percent_bp) == bool(params.prices):
            out.add(
                "params",
                "amount_or_percent",
                "give either member prices or a percentage, not both or neither",
                "会员价与折扣比例须且只能填写一项",
            )
        elif params.percent_bp:
            out.percent("params.percent_bp", params.percent_bp)
        for sku, price in params.prices.items():
            out.negative(f"params.prices[{sku}]", price)
    elif isinstance(params, TimeLimited):
        if bool(params.percent_bp) == (params.price is not None):
            out.add(
                "params",
                "amount_or_percent",
                "give either a flash-sale price or a percentage, not both or neither",
                "限时价与折扣比例须且只能填写一项",
            )
        elif params.percent_bp:
            out.percent("params.percent_bp", params.percent_bp)
        else:
            out.negative("params.price", params.price)
        if defn.conditions.ends_at is None:
            out.add(
                "conditions.ends_at",
                "end_required",
                "a time-limited discount needs an end time",
                "限时折扣须设置结束时间",
            )


def _exceeds(out: _Problems, field: str, amount: int, threshold: int) -> None:
    out.add(
        field,
        "discount_exceeds_threshold",
        f"the discount {money_en(amount)} is larger than its threshold {money_en(threshold)}",
        f"优惠金额{money_zh(amount)}大于门槛{money_zh(threshold)}",
    )


def _check_spend_save(out: _Problems, params: SpendSave) -> None:
    if not params.tiers:
        out.add("params.tiers", "tiers_required", "give at least one tier", "至少设置一档满减")
        return
    if params.repeat and len(params.tiers) != 1:
        out.add(
            "params.repeat",
            "repeat_single_tier",
            "a repeating discount ('every ¥300 save ¥30') has exactly one tier",
            "每满减只能设置一档",
        )
    out.at_least_one("params.max_repeats", params.max_repeats)
    last_threshold, last_save = 0, 0
    for n, (threshold, save) in enumerate(params.tiers):
        field = f"params.tiers[{n}]"
        if threshold <= 0 or save <= 0:
            out.add(
                field,
                "amount_required",
                "thresholds and amounts must be positive",
                "门槛和优惠金额须大于0",
            )
            continue
        if save > threshold:
            _exceeds(out, field, save, threshold)
        if n and (threshold <= last_threshold or save < last_save):
            out.add(
                field,
                "tiers_not_ascending",
                "each tier needs a higher threshold and at least the same discount",
                "每一档的门槛须更高、优惠不少于上一档",
            )
        last_threshold, last_save = threshold, save


def _check_tiered(out: _Problems, params: TieredQuantity) -> None:
    if not params.tiers:
        out.add("params.tiers", "tiers_required", "give at least one tier", "至少设置一档")
        return
    last_units, last_pct = 0, 0
    for n, (units, percent_bp) in enumerate(params.tiers):
        field = f"params.tiers[{n}]"
        out.at_least_one(field, units)
        out.percent(field, percent_bp)
        if n and (units <= last_units or percent_bp < last_pct):
            out.add(
                field,
                "tiers_not_ascending",
                "each tier needs more units and at least the same percentage",
                "每一档的件数须更多、折扣不少于上一档",
            )
        last_units, last_pct = units, percent_bp
