"""What each kind of promotion takes off, given the amounts it sees.

Every discount is rounded DOWN to the fen (in the shop's disfavour) and never exceeds the
amount it is computed on. Product-class kinds work on list prices and return an amount per
line; order-class kinds return one amount for their eligible lines; free shipping, cashback
and gifts look at what is left to pay after product and order discounts.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from shopops.money import allocate
from shopops.promotions.engine.conditions import CartIndex
from shopops.promotions.engine.model import (
    BP,
    BuyXGetY,
    Cashback,
    Exchange,
    FirstOrder,
    FixedPrice,
    FreeShipping,
    GiftWithPurchase,
    Instant,
    MemberPrice,
    PercentOff,
    Promotion,
    PromotionKind,
    SpendSave,
    TieredQuantity,
    TimeLimited,
)

K = PromotionKind
Info = dict[str, Any]
# Product-class parameters that discount every eligible unit (`_per_unit`).
_UNIT_KINDS = frozenset({PercentOff, Instant, FixedPrice, TimeLimited, MemberPrice, TieredQuantity})


def _cap(amount: int, *caps: int | None) -> int:
    for cap in caps:
        if cap is not None and amount > cap:
            amount = cap
    return max(0, amount)


def spend_save_amount(params: SpendSave, base: int) -> tuple[int, Info]:
    """满减: the best tier reached (tiers are never summed), or `n` repeats of a single tier."""
    if not params.tiers:
        return 0, {}
    if params.repeat:
        threshold, save = params.tiers[0]
        times = base // threshold if threshold > 0 else 0
        if params.max_repeats is not None:
            times = min(times, params.max_repeats)
        return times * save, {"tier": (threshold, save), "times": times, "base": base}
    reached = None
    for threshold, save in params.tiers:
        if base >= threshold and (reached is None or threshold >= reached[0]):
            reached = (threshold, save)
    if reached is None:
        return 0, {"base": base}
    return reached[1], {"tier": reached, "times": 1, "base": base}


def tier_percent(params: TieredQuantity, units: int) -> tuple[int, int]:
    """阶梯优惠: the (minimum units, percent) of the highest tier reached, (0, 0) if none."""
    best = (0, 0)
    for min_units, percent in params.tiers:
        if units >= min_units and min_units >= best[0]:
            best = (min_units, percent)
    return best


# --- product class: an amount per line, on list prices ----------------------------------------


def _unit_offs(
    p: Promotion, lines: tuple[int, ...], idx: CartIndex, units_total: int
) -> list[tuple[int, int]]:
    """(line, discount on one unit times BP) — percentages stay exact until the final floor."""
    prices = idx.prices
    params = p.params
    percent = 0
    fixed: int | None = None  # a unit price the item drops to
    if isinstance(params, PercentOff):
        percent = params.percent_bp
    elif isinstance(params, Instant):
        return [(i, min(params.amount, prices[i]) * BP) for i in lines]
    elif isinstance(params, FixedPrice):
        fixed = params.price
    elif isinstance(params, TimeLimited):
        fixed, percent = params.price, params.percent_bp
    elif isinstance(params, MemberPrice):
        member, skus = params.prices, idx.skus
        if member:
            return [
                (i, max(0, prices[i] - member[skus[i]]) * BP if skus[i] in member else 0)
                for i in lines
            ]
        percent = params.percent_bp
    elif isinstance(params, TieredQuantity):
        percent = tier_percent(params, units_total)[1]
    if fixed is not None:
        return [(i, max(0, prices[i] - fixed) * BP) for i in lines]
    return [(i, prices[i] * percent) for i in lines]


def _simple_rule(params: object, units_total: int) -> tuple[int, int | None] | None:
    """(percent_bp, unit price) of the kinds that take a percentage or a unit price off every
    unit (as `_unit_offs` reads them), None for the others."""
    tp = type(params)
    if tp is PercentOff:
        return params.percent_bp, None  # type: ignore[attr-defined]
    if tp is TimeLimited:
        return params.percent_bp, params.price  # type: ignore[attr-defined]
    if tp is FixedPrice:
        return 0, params.price  # type: ignore[attr-defined]
    if tp is TieredQuantity:
        return tier_percent(params, units_total)[1], None  # type: ignore[arg-type]
    if tp is MemberPrice and not params.prices:  # type: ignore[attr-defined]
        return params.percent_bp, None  # type: ignore[attr-defined]
    return None


def _per_unit(
    p: Promotion, lines: tuple[int, ...], idx: CartIndex, units_total: int
) -> tuple[dict[int, int], Info]:
    """Kinds that discount every eligible unit; a per-order unit limit takes the best units."""
    limit = p.limits.max_units_per_order
    qtys = idx.qtys
    rule = _simple_rule(p.params, units_total)
    if rule is not None and limit is None:
        # The same amounts as below, without building the per-unit offs first.
        percent, fixed = rule
        prices = idx.prices
        found: dict[int, int] = {}
        total_units = 0
        if fixed is not None:
            for i in lines:
                off = prices[i] - fixed
                if off > 0:
                    q = qtys[i]
                    total_units += q
                    found[i] = off * q
        elif percent > 0:
            for i in lines:
                price = prices[i]
                if price > 0:
                    q = qtys[i]
                    total_units += q
                    amount = price * percent * q // BP
                    if amount > 0:
                        found[i] = amount
        return found, {"units": total_units}
    if rule is not None:  # as `_unit_offs` computes them for these kinds
        percent, fixed = rule
        prices = idx.prices
        if fixed is not None:
            offs = [(i, max(0, prices[i] - fixed) * BP) for i in lines]
        else:
            offs = [(i, prices[i] * percent) for i in lines]
    else:
        offs = _unit_offs(p, lines, idx, units_total)
    out: dict[int, int] = {}
    if limit is None:
        units = 0
        for i, off in offs:
            if off > 0:
                amount = off * qtys[i] // BP
                units += qtys[i]
                if amount > 0:
                    out[i] = amount
        return out, {"units": units}
    left = limit
    # Best for the customer: the limited units go to the largest per-unit discounts first.
    # (Largest first, ties in line order: offs are in line order and the sort is stable.)
    for i, off in sorted(offs, key=itemgetter(1), reverse=True):
        if left <= 0 or off <= 0:
            break
        units = min(qtys[i], left)
        left -= units
        amount = off * units // BP
        if amount > 0:
            out[i] = amount
    return out, {"units": limit - left, "unit_limit": limit}


def _exchange(p: Promotion, params: Exchange, lines: tuple[int, ...], idx: CartIndex) -> dict:
    """兑换券: exactly `quantity` units (the dearest eligible ones) at the exchange price."""
    want = params.quantity
    if p.limits.max_units_per_order is not None:
        want = min(want, p.limits.max_units_per_order)
    out: dict[int, int] = {}
    for i in sorted(lines, key=lambda j: (-idx.prices[j], j)):
        if want <= 0:
            break
        off = idx.prices[i] - params.price
        if off <= 0:
            break
        units = min(idx.qtys[i], want)
        want -= units
        out[i] = off * units
    return out


def _buy_x_get_y(
    p: Promotion, params: BuyXGetY, lines: tuple[int, ...], idx: CartIndex
) -> tuple[dict[int, int], Info]:
    """买X得Y: the cheapest qualifying units are the discounted ones; units are never counted
    both as bought and as got, and only units actually in the cart are discounted."""
    x, y = params.buy_quantity, params.get_quantity
    if x <= 0 or y <= 0:
        return {}, {}
    qtys = idx.qtys
    buy = set(lines)
    get = buy if params.get_items is None else set(idx.eligible(params.get_items))
    shared_units = sum(qtys[i] for i in buy & get)
    buy_only = sum(qtys[i] for i in buy - get)
    get_only = sum(qtys[i] for i in get - buy)
    apps = min(
        (buy_only + shared_units) // x,
        (get_only + shared_units) // y,
        (buy_only + get_only + shared_units) // (x + y),
    )
    if params.max_applications is not None:
        apps = min(apps, params.max_applications)
    need = apps * y
    if p.limits.max_units_per_order is not None:
        need = min(need, p.limits.max_units_per_order)
    if need <= 0:
        return {}, {"applications": 0}
    # Shared units taken as "get" must leave enough units to be the "buy" side.
    shared_left = shared_units - max(0, apps * x - buy_only)
    out: dict[int, int] = {}
    for i in sorted(get, key=lambda j: (idx.prices[j], j)):
        if need <= 0:
            break
        avail = qtys[i]
        if i in buy:
            avail = min(avail, shared_left)
        units = min(avail, need)
        if units <= 0:
            continue
        if i in buy:
            shared_left -= units
        need -= units
        amount = idx.prices[i] * units * params.percent_bp // BP
        if amount > 0:
            out[i] = amount
    return out, {"applications": apps}


def product_amounts(
    p: Promotion,
    lines: tuple[int, ...],
    idx: CartIndex,
    budget: int | None,
    units_total: int,
    base: int,
) -> tuple[dict[int, int], Info]:
    """The discount per eligible line of a product-class promotion on list prices, after its
    own cap and budget. `units_total` and `base` are the eligible lines' units and list-price
    subtotal; minimum spend and quantity are checked by the caller."""
    params = p.params
    amounts = idx.amounts
    info: Info = {"base": base, "units_total": units_total}
    cap: int | None = None
    tp = type(params)
    if tp in _UNIT_KINDS:  # the common kinds first, by exact type (same as the chain below)
        if tp is TieredQuantity:
            info["tier"] = tier_percent(params, units_total)  # type: ignore[arg-type]
        out, extra = _per_unit(p, lines, idx, units_total)
        info.update(extra)
        if tp is PercentOff:
            cap = params.cap  # type: ignore[union-attr]
        if cap is None and budget is None:
            return out, info
    elif isinstance(params, SpendSave):
        total, extra = spend_save_amount(params, base)
        info.update(extra)
        total = _cap(total, base, budget)
        if total <= 0:
            return {}, info
        parts = allocate(total, [amounts[i] for i in lines])
        return {i: a for i, a in zip(lines, parts, strict=True) if a > 0}, info
    elif isinstance(params, Exchange):
        out = _exchange(p, params, lines, idx)
    elif isinstance(params, BuyXGetY):
        out, extra = _buy_x_get_y(p, params, lines, idx)
        info.update(extra)
    else:
        if isinstance(params, TieredQuantity):
            info["tier"] = tier_percent(params, units_total)
        out, extra = _per_unit(p, lines, idx, units_total)
        info.update(extra)
        if isinstance(params, PercentOff):
            cap = params.cap
    total = sum(out.values())
    limited = _cap(total, cap, budget)
    if limited < total:
        info["capped"] = True
        keys = list(out)
        parts = allocate(limited, [out[i] for i in keys])
        out = {i: a for i, a in zip(keys, parts, strict=True) if a > 0}
    return out, info


# --- order class: one amount on the product-discounted subtotal -------------------------------


def order_amount(
    p: Promotion, base_start: int, base_now: int, budget: int | None
) -> tuple[int, Info]:
    """An order-class discount: tiers and thresholds read `base_start` (the eligible subtotal
    after product discounts), percentages apply to `base_now` (after earlier order discounts),
    and the result never exceeds `base_now`."""
    params = p.params
    info: Info = {"base": base_start}
    cap: int | None = None
    if isinstance(params, SpendSave):
        amount, extra = spend_save_amount(params, base_start)
        info.update(extra)
    elif isinstance(params, Instant):
        amount = params.amount
    elif isinstance(params, PercentOff | FirstOrder):
        pct = params.percent_bp
        fixed = params.amount if isinstance(params, FirstOrder) else 0
        amount = fixed if fixed else base_now * pct // BP
        cap = params.cap
    else:
        amount = 0
    limited = _cap(amount, cap, budget)
    if limited < amount:
        info["capped"] = True
    return min(limited, base_now), info


# --- after order discounts: shipping, cashback, gifts ------------------------------------------


def shipping_amount(p: Promotion, fee_left: int, budget: int | None) -> int:
    params = p.params
    cap = params.cap if isinstance(params, FreeShipping) else None
    return _cap(fee_left, cap, budget)


def cashback_amount(p: Promotion, base: int, budget: int | None) -> tuple[int, Info]:
    params = p.params
    if not isinstance(params, Cashback):
        return 0, {}
    amount = params.amount if params.amount else base * params.percent_bp // BP
    limited = _cap(amount, params.cap, budget, base)
    info: Info = {"base": base}
    if limited < amount:
        info["capped"] = True
    return limited, info


def gift_quantity(p: Promotion, base: int, budget: int | None) -> tuple[int, Info]:
    """买赠: exactly the defined quantity (times the reached multiples when repeating)."""
    params = p.params
    if not isinstance(params, GiftWithPurchase):
        return 0, {}
    batches = 1
    if params.repeat and p.conditions.min_spend > 0:
        batches = base // p.conditions.min_spend
    qty = params.quantity * batches
    info: Info = {"base": base, "batches": batches}
    if params.max_quantity is not None and qty > params.max_quantity:
        qty = params.max_quantity
    if budget is not None and params.unit_value > 0 and qty * params.unit_value > budget:
        qty = budget // params.unit_value
        info["capped"] = True
    return max(0, qty), info
