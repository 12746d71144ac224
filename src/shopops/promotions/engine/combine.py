"""Evaluating one combination of promotions: product, then order, then shipping and rewards.

1. Product class, on list prices: each line takes its best permitted product discount (see
   `product`).
2. Order class, one after another in priority order, each on what its eligible lines still
   cost after product discounts and earlier order discounts (thresholds and tiers read the
   subtotal after product discounts). Each amount is spread over its lines by largest
   remainder, so line allocations always add up to the discount.
3. Free shipping, cashback and gifts, on what is left to pay for their eligible lines.
Campaign budgets are shared: each promotion may take only what its campaign has left.
"""

from __future__ import annotations

from shopops.money import allocate
from shopops.promotions.engine.candidate import (
    ORDER_PHASE,
    POST_PHASE,
    PRODUCT_PHASE,
    Candidate,
    Ctx,
    Outcome,
    Result,
)
from shopops.promotions.engine.conditions import Reason
from shopops.promotions.engine.model import PromotionKind
from shopops.promotions.engine.product import product_phase
from shopops.promotions.engine.rewards import (
    cashback_amount,
    gift_quantity,
    order_amount,
    shipping_amount,
)


def _budget(c: Candidate, camp_left: dict[int, int]) -> int | None:
    budget = c.own_budget
    cid = c.campaign_id
    if cid is not None and cid in camp_left:
        left = camp_left[cid]
        budget = left if budget is None else min(budget, left)
    return budget


def _spend(c: Candidate, camp_left: dict[int, int], amount: int) -> None:
    cid = c.campaign_id
    if cid is not None and cid in camp_left:
        camp_left[cid] -= amount


def run(ctx: Ctx, chosen: list[Candidate], product: tuple[int, list[int]] | None = None) -> Outcome:
    """Apply exactly `chosen` (in priority order) to the cart. With `product` (the product
    phase's total and discount per line, from a `LineTable`, valid only when no product
    promotion is under a campaign budget) the split per product promotion is not worked out."""
    out = Outcome()
    out.chosen = chosen
    results = out.results
    if product is None:
        prods = [c for c in chosen if c.phase == PRODUCT_PHASE]
        _, line_prod, kept, camp_left = product_phase(ctx, prods)
        camp_left = dict(camp_left)
        benefit = 0
        for c in prods:
            got = kept[c.rank]
            res = results[c.rank] = Result(got, sum(got.values()), c.info)
            benefit += res.amount
    else:
        benefit, line_prod = product
        camp_left = dict(ctx.camp_left)
    amounts = ctx.idx.amounts
    start = [a - d for a, d in zip(amounts, line_prod, strict=True)]
    left = list(start)
    line_order = [0] * len(amounts)
    fee_left = ctx.shipping_fee
    later = [c for c in chosen if c.phase == ORDER_PHASE]
    later += [c for c in chosen if c.phase == POST_PHASE]
    for c in later:
        res = Result()
        results[c.rank] = res
        lines = c.lines
        p = c.promo
        min_spend, min_units = c.min_spend, c.min_units
        if c.phase == ORDER_PHASE:
            base = sum(start[i] for i in lines)
        else:
            base = sum(left[i] for i in lines)
        if c.units < min_units:
            res.miss = (Reason.MIN_QUANTITY_NOT_MET, min_units - c.units)
            continue
        if base < min_spend:
            res.miss = (Reason.MIN_SPEND_NOT_MET, min_spend - base)
            continue
        budget = _budget(c, camp_left)
        if c.phase == ORDER_PHASE:
            weights = [left[i] for i in lines]
            amount, res.info = order_amount(p, base, sum(weights), budget)
            if amount > 0:
                parts = allocate(amount, weights)
                for i, part in zip(lines, parts, strict=True):
                    if part:
                        left[i] -= part
                        line_order[i] += part
                        res.line_amounts[i] = part
                res.amount = amount
                benefit += amount
                _spend(c, camp_left, amount)
        elif p.kind is PromotionKind.FREE_SHIPPING:
            amount = shipping_amount(p, fee_left, budget)
            res.info = {"base": base}
            if amount > 0:
                fee_left -= amount
                res.amount = amount
                out.shipping_discount += amount
                benefit += amount
                _spend(c, camp_left, amount)
        elif p.kind is PromotionKind.CASHBACK:
            amount, res.info = cashback_amount(p, base, budget)
            res.cashback = amount
            out.cashback += amount
            benefit += amount
            _spend(c, camp_left, amount)
        else:
            qty, res.info = gift_quantity(p, base, budget)
            res.gift_qty = qty
            value = qty * p.params.unit_value  # type: ignore[union-attr]
            benefit += value
            _spend(c, camp_left, value)
    out.benefit = benefit
    out.line_prod = line_prod
    out.line_order = line_order
    return out
