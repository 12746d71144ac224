"""The entry point: a cart, a customer, a moment and the active promotions in; the best
permitted discounts, the refusals and the totals out."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from operator import attrgetter

from shopops.promotions.engine.candidate import (
    ORDER_PHASE,
    PRODUCT_PHASE,
    Candidate,
    Ctx,
    Outcome,
    consent,
)
from shopops.promotions.engine.combine import run
from shopops.promotions.engine.conditions import (
    CartIndex,
    Env,
    Reason,
    gate,
)
from shopops.promotions.engine.explain import explain, hint_text, rejection_text
from shopops.promotions.engine.model import (
    CampaignBudget,
    Cart,
    CustomerContext,
    EvaluationContext,
    GiftWithPurchase,
    Promotion,
    PromotionKind,
    normalize_code,
)
from shopops.promotions.engine.result import AppliedDiscount, Evaluation, Gift, Rejection
from shopops.promotions.engine.rewards import (
    cashback_amount,
    gift_quantity,
    order_amount,
    product_amounts,
    shipping_amount,
)
from shopops.promotions.engine.search import choose

# Enough for every realistic cart; past it the best combination found so far is returned.
DEFAULT_MAX_NODES = 20_000

_Refusal = tuple[Reason, dict[str, object]]
_by_id, _by_priority = attrgetter("id"), attrgetter("priority")
_by_phase_rank = attrgetter("phase", "rank")  # product, order, then post phase


class _Prepared:
    __slots__ = (
        "cands",
        "codes",
        "ctx",
        "env",
        "hints",
        "presented",
        "presented_cands",
        "promos",
        "refusals",
    )

    def __init__(self) -> None:
        self.promos: list[Promotion] = []
        self.cands: list[Candidate] = []
        self.refusals: dict[int, _Refusal] = {}  # presented coupons refused before the search
        self.hints: list[tuple[Promotion, Reason, int]] = []
        self.presented: list[Promotion] = []  # promotions whose code was presented, in order
        self.presented_cands: dict[int, Candidate] = {}  # those of them that are candidates
        self.codes: set[str] = set()


def _check_inputs(cart: Cart, promos: list[Promotion]) -> None:
    for i, line in enumerate(cart.lines):
        if line.quantity <= 0 or line.unit_price < 0:
            raise ValueError(f"cart line {i}: quantity must be positive and price not negative")
    if cart.shipping_fee < 0:
        raise ValueError("shipping fee must not be negative")
    ids = [p.id for p in promos]
    if len(set(ids)) != len(ids):
        raise ValueError("promotion ids must be unique")


def _prepare(
    cart: Cart,
    promotions: Iterable[Promotion],
    customer: CustomerContext,
    context: EvaluationContext,
    campaigns: Mapping[int, CampaignBudget] | None,
) -> _Prepared:
    prep = _Prepared()
    # Priority order (higher first, then lower id) makes everything independent of input order.
    prep.promos = sorted(sorted(promotions, key=_by_id), key=_by_priority, reverse=True)
    _check_inputs(cart, prep.promos)
    campaigns = campaigns or {}
    env = Env(context, customer, campaigns)
    idx = CartIndex(cart.lines)
    camp_left = {
        cid: max(0, cb.amount_left) for cid, cb in campaigns.items() if cb.amount_left is not None
    }
    ctx = Ctx(idx, cart.shipping_fee, camp_left)
    prep.env, prep.ctx = env, ctx
    prep.codes = codes = {normalize_code(code) for code in cart.codes}
    refusals, hints, cands, presented_list = prep.refusals, prep.hints, prep.cands, prep.presented
    select, fee = idx.select, cart.shipping_fee
    for rank, p in enumerate(prep.promos):
        presented = False
        if p.code is not None:
            if p.code_key not in codes:
                continue
            presented = True
            presented_list.append(p)
        if p.gated:
            refused = gate(p, env)
            if refused is not None:
                if presented:
                    refusals[p.id] = refused
                continue
        lines, units, spend = select(p.conditions.items)
        if not lines:
            if presented:
                refusals[p.id] = (Reason.NO_ELIGIBLE_ITEMS, {})
            continue
        minimums = p.minimums
        if units < minimums[1] or spend < minimums[0]:
            if units < minimums[1]:
                short = (Reason.MIN_QUANTITY_NOT_MET, minimums[1] - units)
            else:
                short = (Reason.MIN_SPEND_NOT_MET, minimums[0] - spend)
            if presented:
                refusals[p.id] = (short[0], {"short": short[1]})
            else:
                hints.append((p, short[0], short[1]))
            continue
        own = None
        budget_amount = p.limits.budget_amount
        if budget_amount is not None:
            own = max(0, budget_amount - p.usage.spent)
        c = Candidate(p, rank, lines, units, own, minimums)
        budget = own
        if p.campaign_id is not None and p.campaign_id in camp_left:
            left = camp_left[p.campaign_id]
            budget = left if budget is None else min(budget, left)
        if not _standalone(c, p, lines, idx, spend, budget, fee):
            if presented:
                refusals[p.id] = (Reason.NO_DISCOUNT, {})
            continue
        cands.append(c)
        if presented:
            prep.presented_cands[p.id] = c
    return prep


def _standalone(
    c: Candidate,
    p: Promotion,
    lines: tuple[int, ...],
    idx: CartIndex,
    spend: int,
    budget: int | None,
    fee: int,
) -> bool:
    """Fill in what the promotion gives alone on list prices; False if that is nothing."""
    if c.phase == PRODUCT_PHASE:
        c.line_amounts, c.info = product_amounts(p, lines, idx, budget, c.units, spend)
        c.standalone = sum(c.line_amounts.values())
        return c.standalone > 0
    if c.phase == ORDER_PHASE:
        c.standalone, c.info = order_amount(p, spend, spend, budget)
        return c.standalone > 0
    if p.kind is PromotionKind.FREE_SHIPPING:
        c.standalone = shipping_amount(p, fee, budget)
        return c.standalone > 0
    if p.kind is PromotionKind.CASHBACK:
        c.standalone = cashback_amount(p, spend, budget)[0]
        return c.standalone > 0
    qty = gift_quantity(p, spend, budget)[0]
    params = p.params
    assert isinstance(params, GiftWithPurchase)
    c.standalone = qty * params.unit_value
    return qty > 0


def _why_not(c: Candidate, out: Outcome, applied: list[Candidate]) -> _Refusal:
    """Why a candidate is not among the applied promotions of the chosen combination."""
    res = out.results.get(c.rank)
    if res is not None:
        if res.miss is not None:
            return res.miss[0], {"short": res.miss[1], "after_discounts": True}
        if c.phase == PRODUCT_PHASE:
            return Reason.BEATEN_ON_LINES, {}
        return Reason.NO_DISCOUNT, {}
    for x in applied:
        if x.exclusive:
            return Reason.EXCLUSIVE_APPLIED, {"other": x.promo.name}
    if not c.exclusive:
        for x in applied:
            both_product = c.phase == PRODUCT_PHASE and x.phase == PRODUCT_PHASE
            if not both_product and not consent(c, x):
                return Reason.NOT_COMBINABLE, {"other": x.promo.name}
    return Reason.NOT_BEST, {}


def _assemble(prep: _Prepared, cart: Cart, out: Outcome, exact: bool) -> Evaluation:
    ctx = prep.ctx
    tz = prep.env.local.tzinfo
    results = out.results
    chosen = sorted(out.chosen, key=_by_phase_rank)
    applied_cands = [c for c in chosen if results[c.rank].effective]
    fee = cart.shipping_fee
    applied: list[AppliedDiscount] = []
    gifts: list[Gift] = []
    for c in applied_cands:
        p = c.promo
        res = results[c.rank]
        zh, en = explain(
            p,
            amount=res.amount,
            info=res.info or c.info,
            cashback=res.cashback,
            gift_quantity=res.gift_qty,
            shipping_fee=fee,
        )
        mine: tuple[Gift, ...] = ()
        if res.gift_qty:
            params = p.params
            assert isinstance(params, GiftWithPurchase)
            mine = (Gift(params.sku_id, res.gift_qty, params.unit_value),)
            gifts.extend(mine)
        applied.append(
            AppliedDiscount(
                promotion_id=p.id,
                name=p.name,
                kind=p.kind,
                klass=c.klass,  # type: ignore[arg-type]
                amount=res.amount,
                line_amounts=dict(sorted(res.line_amounts.items())),
                explanation_zh=zh,
                explanation_en=en,
                code=p.code,
                campaign_id=p.campaign_id,
                cashback=res.cashback,
                gifts=mine,
                free_shipping=p.kind is PromotionKind.FREE_SHIPPING and res.amount > 0,
            )
        )
    rejected: list[Rejection] = []
    applied_ids = {c.promo.id for c in applied_cands}
    for p in prep.presented:
        if p.id in applied_ids:
            continue
        if p.id in prep.refusals:
            reason, data = prep.refusals[p.id]
        else:
            reason, data = _why_not(prep.presented_cands[p.id], out, applied_cands)
        zh, en = rejection_text(p, reason, data, tz)
        rejected.append(Rejection(p.id, p.code, reason.value, zh, en))
    # A presented code is known exactly when some promotion carries it (that one was presented).
    known = {p.code_key for p in prep.presented}
    for code in sorted(prep.codes - known):
        zh, en = rejection_text(None, Reason.UNKNOWN_CODE, {}, tz)
        rejected.append(Rejection(None, code, Reason.UNKNOWN_CODE.value, zh, en))
    hints: list[Rejection] = []
    misses = [
        (c.promo, *res.miss)
        for c in sorted(out.chosen, key=lambda c: c.rank)
        if c.promo.code is None and (res := out.results[c.rank]).miss is not None
    ]
    for p, reason, short in [*prep.hints, *misses]:
        zh, en = hint_text(p, reason, short)
        hints.append(Rejection(p.id, None, reason.value, zh, en[:1].upper() + en[1:]))
    amounts = ctx.idx.amounts
    subtotal = sum(amounts)
    product_discount = sum(out.line_prod)
    order_discount = sum(out.line_order)
    items_total = subtotal - product_discount - order_discount
    shipping_total = cart.shipping_fee - out.shipping_discount
    return Evaluation(
        applied=tuple(applied),
        rejected=tuple(rejected),
        hints=tuple(hints),
        items_subtotal=subtotal,
        product_discount=product_discount,
        order_discount=order_discount,
        items_total=items_total,
        shipping_fee=cart.shipping_fee,
        shipping_discount=out.shipping_discount,
        shipping_total=shipping_total,
        total=items_total + shipping_total,
        cashback=out.cashback,
        gifts=tuple(gifts),
        line_discounts=tuple(a + b for a, b in zip(out.line_prod, out.line_order, strict=True)),
        exact=exact,
    )


def evaluate(
    cart: Cart,
    promotions: Iterable[Promotion],
    *,
    customer: CustomerContext,
    context: EvaluationContext,
    campaigns: Mapping[int, CampaignBudget] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Evaluation:
    """Apply the best permitted combination of `promotions` to `cart` (pure, deterministic,
    independent of the order of `promotions`).

    `promotions` are the shop's active promotions with their usage snapshots; coupons among
    them count only when their code is in `cart.codes`. `campaigns` gives what is left of each
    campaign's shared budget. Raises ValueError on malformed input (duplicate promotion ids,
    non-positive quantities, negative prices or shipping fee).
    """
    prep = _prepare(cart, promotions, customer, context, campaigns)
    out, exact = choose(prep.ctx, prep.cands, max_nodes)
    return _assemble(prep, cart, out, exact)


def evaluate_combination(
    cart: Cart,
    promotions: Iterable[Promotion],
    chosen_ids: Collection[int],
    *,
    customer: CustomerContext,
    context: EvaluationContext,
    campaigns: Mapping[int, CampaignBudget] | None = None,
) -> Evaluation:
    """Apply exactly the promotions in `chosen_ids` that pass their conditions, whether or not
    they may combine: a calculator for previews, audits and brute-force checks."""
    prep = _prepare(cart, promotions, customer, context, campaigns)
    chosen = [c for c in prep.cands if c.promo.id in chosen_ids]
    return _assemble(prep, cart, run(prep.ctx, chosen), True)
