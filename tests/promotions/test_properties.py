"""Properties over random carts and random promotion sets.

- the total is never negative, and no line is discounted below zero;
- no discount exceeds the subtotal it is computed on;
- line allocations add up to each discount and to the order's discounts;
- the engine is deterministic and independent of the order of the promotions;
- the chosen combination is as good for the customer as the best permitted one, found here by
  enumerating every permitted combination (the definition in `engine.search`, re-implemented).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.promotions.support import CONTEXT, run, run_only

from shopops.promotions.engine import evaluate as evaluate_module
from shopops.promotions.engine import search
from shopops.promotions.rules import (
    BP,
    KIND_CLASSES,
    BuyXGetY,
    CampaignBudget,
    Cart,
    CartLine,
    Cashback,
    Conditions,
    CustomerContext,
    DiscountClass,
    Evaluation,
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
    PromotionKind,
    SpendSave,
    TieredQuantity,
    TimeLimited,
    Usage,
    validate_promotion,
)

K = PromotionKind
SKUS = [1, 2, 3, 4]
CATS = [1, 2, 3]
CODES = ["AAA", "BBB", "CCC"]
CLASSES = list(DiscountClass)


@st.composite
def item_filters(draw: st.DrawFn) -> ItemFilter:
    """Half the time every line; otherwise one include dimension and maybe an exclusion."""
    choice = draw(st.integers(0, 5))
    if choice <= 2:
        return ItemFilter()
    exclude = draw(st.frozensets(st.sampled_from(SKUS), max_size=1))
    if choice == 3:
        skus = draw(st.frozensets(st.sampled_from(SKUS), min_size=1, max_size=3))
        return ItemFilter(sku_ids=skus, exclude_sku_ids=exclude - skus)
    if choice == 4:
        cats = draw(st.frozensets(st.sampled_from(CATS), min_size=1, max_size=2))
        return ItemFilter(category_ids=cats, exclude_sku_ids=exclude)
    return ItemFilter(brand_ids=frozenset({1}), exclude_category_ids=frozenset({3}))


@st.composite
def carts(draw: st.DrawFn, max_lines: int = 5) -> Cart:
    lines = draw(
        st.lists(
            st.builds(
                CartLine,
                sku_id=st.sampled_from(SKUS),
                product_id=st.integers(1, 3),
                unit_price=st.one_of(st.integers(100, 30000), st.sampled_from([0, 1, 9900])),
                quantity=st.integers(1, 4),
                category_ids=st.frozensets(st.sampled_from(CATS), min_size=1, max_size=2),
                brand_id=st.sampled_from([None, 1, 2]),
            ),
            min_size=1 if max_lines else 0,
            max_size=max_lines,
        )
    )
    return Cart(
        lines=tuple(lines),
        shipping_fee=draw(st.sampled_from([0, 600, 1200])),
        codes=draw(st.sampled_from([frozenset(CODES)] * 3 + [frozenset({CODES[0], "ZZZ"})])),
    )


def ascending_pairs(
    draw: st.DrawFn, first: st.SearchStrategy[int], second: st.SearchStrategy[int]
) -> tuple[tuple[int, int], ...]:
    n = draw(st.integers(1, 3))
    a = sorted(draw(st.sets(first, min_size=n, max_size=n)))
    b = sorted(draw(st.lists(second, min_size=n, max_size=n)))
    return tuple(zip(a, b, strict=True))


@st.composite
def params_for(draw: st.DrawFn, kind: PromotionKind, min_spend: int) -> object:
    pct = st.integers(1, BP)
    money = st.integers(1, 20000)
    cap = st.one_of(st.none(), st.integers(1, 10000))
    if kind is K.SPEND_SAVE:
        tiers = ascending_pairs(draw, st.integers(1000, 40000), st.integers(1, 1000))
        repeat = len(tiers) == 1 and draw(st.booleans())
        return SpendSave(tiers, repeat=repeat, max_repeats=draw(st.sampled_from([None, 2])))
    if kind is K.INSTANT:
        return Instant(draw(money))
    if kind is K.PERCENT_OFF:
        return PercentOff(draw(pct), cap=draw(cap))
    if kind is K.FIXED_PRICE:
        return FixedPrice(draw(st.integers(0, 20000)))
    if kind is K.CASHBACK:
        if draw(st.booleans()):
            return Cashback(amount=draw(money), cap=draw(cap))
        return Cashback(percent_bp=draw(pct), cap=draw(cap))
    if kind is K.EXCHANGE:
        return Exchange(quantity=draw(st.integers(1, 3)), price=draw(st.integers(0, 5000)))
    if kind is K.FREE_SHIPPING:
        return FreeShipping(cap=draw(st.sampled_from([None, 500])))
    if kind is K.FIRST_ORDER:
        if draw(st.booleans()):
            return FirstOrder(amount=draw(money))
        return FirstOrder(percent_bp=draw(pct), cap=draw(cap))
    if kind is K.TIERED_QUANTITY:
        return TieredQuantity(ascending_pairs(draw, st.integers(1, 6), pct))
    if kind is K.GIFT:
        return GiftWithPurchase(
            sku_id=99,
            quantity=draw(st.integers(1, 2)),
            unit_value=draw(st.integers(0, 3000)),
            repeat=min_spend > 0 and draw(st.booleans()),
        )
    if kind is K.BUY_X_GET_Y:
        return BuyXGetY(
            draw(st.integers(1, 3)),
            draw(st.integers(1, 2)),
            percent_bp=draw(pct),
            get_items=draw(st.one_of(st.none(), item_filters())),
            max_applications=draw(st.sampled_from([None, 1, 2])),
        )
    if kind is K.MEMBER_PRICE:
        if draw(st.booleans()):
            return MemberPrice(percent_bp=draw(pct))
        prices = draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 20000), min_size=1))
        return MemberPrice(prices=prices)
    if draw(st.booleans()):
        return TimeLimited(percent_bp=draw(pct))
    return TimeLimited(price=draw(st.integers(0, 20000)))


@st.composite
def promotions(draw: st.DrawFn, pid: int) -> Promotion:
    kind = draw(st.sampled_from(list(K)))
    klass = draw(st.sampled_from(KIND_CLASSES[kind]))
    exclusive = draw(st.integers(0, 9)) == 0
    min_spend = draw(st.sampled_from([0, 0, 0, 3000, 10000]))
    amount_param = draw(params_for(kind, min_spend))
    # Each class with even odds, so that both combining and refusing sets come up.
    combines = frozenset(k for k in CLASSES if draw(st.booleans()))
    # Keep definitions valid: a fixed discount never above its own threshold.
    if isinstance(amount_param, Instant | FirstOrder | Cashback) and min_spend:
        min_spend = max(min_spend, amount_param.amount)
    return Promotion(
        id=pid,
        name=f"P{pid}",
        kind=kind,
        klass=klass,
        params=amount_param,  # type: ignore[arg-type]
        conditions=Conditions(
            items=draw(item_filters()),
            min_spend=min_spend,
            min_quantity=draw(st.sampled_from([0, 0, 0, 2])),
            customer_tiers=draw(st.sampled_from([frozenset()] * 5 + [frozenset({"gold"})])),
            ends_at=CONTEXT.now + dt.timedelta(days=1) if kind is K.TIME_LIMITED else None,
        ),
        combines_with=frozenset() if exclusive else combines,
        priority=draw(st.integers(0, 2)),
        exclusive=exclusive,
        code=draw(st.sampled_from([None, None, None, *CODES])),
        campaign_id=draw(st.sampled_from([None, None, 1])),
        limits=Limits(
            max_units_per_order=draw(st.sampled_from([None, None, 1, 3])),
            budget_amount=draw(st.sampled_from([None, None, 3000])),
        ),
        usage=Usage(spent=draw(st.sampled_from([0, 1000]))),
    )


@st.composite
def scenarios(draw: st.DrawFn, max_promos: int = 6, max_lines: int = 5) -> tuple:
    c = draw(carts(max_lines))
    n = draw(st.integers(2, max_promos))
    promos = [draw(promotions(pid)) for pid in range(1, n + 1)]
    customer = CustomerContext(
        customer_id=1,
        tier=draw(st.sampled_from(["", "gold"])),
        is_first_order=draw(st.booleans()),
    )
    campaigns = draw(
        st.sampled_from([{}, {1: CampaignBudget(amount_left=2000)}, {1: CampaignBudget()}])
    )
    return c, promos, customer, campaigns


def matches(f: ItemFilter, ln: CartLine) -> bool:
    if f.sku_ids and ln.sku_id not in f.sku_ids:
        return False
    if f.product_ids and ln.product_id not in f.product_ids:
        return False
    if f.category_ids and not f.category_ids & ln.category_ids:
        return False
    if f.brand_ids and ln.brand_id not in f.brand_ids:
        return False
    return not (
        ln.sku_id in f.exclude_sku_ids
        or ln.product_id in f.exclude_product_ids
        or f.exclude_category_ids & ln.category_ids
        or ln.brand_id in f.exclude_brand_ids
    )


def check_invariants(c: Cart, promos: list[Promotion], ev: Evaluation) -> None:
    amounts = [ln.amount for ln in c.lines]
    by_id = {p.id: p for p in promos}
    assert ev.total >= 0 and ev.items_total >= 0 and 0 <= ev.shipping_total <= c.shipping_fee
    assert ev.items_subtotal == sum(amounts)
    assert ev.total == ev.items_subtotal - ev.product_discount - ev.order_discount + (
        c.shipping_fee - ev.shipping_discount
    )
    assert len(ev.line_discounts) == len(c.lines)
    for d, amount in zip(ev.line_discounts, amounts, strict=True):
        assert 0 <= d <= amount
    assert sum(ev.line_discounts) == ev.product_discount + ev.order_discount
    after_product = list(amounts)
    sums = {DiscountClass.PRODUCT: 0, DiscountClass.ORDER: 0, DiscountClass.SHIPPING: 0}
    for a in ev.applied:
        p = by_id[a.promotion_id]
        assert a.benefit > 0 or a.gifts
        assert a.explanation_zh.startswith(p.name) and a.explanation_en.startswith(p.name)
        eligible = {i for i, ln in enumerate(c.lines) if matches(p.conditions.items, ln)}
        if isinstance(p.params, BuyXGetY) and p.params.get_items is not None:
            eligible = {i for i, ln in enumerate(c.lines) if matches(p.params.get_items, ln)}
        assert sum(a.line_amounts.values()) == (
            a.amount if a.klass is not DiscountClass.SHIPPING else 0
        )
        assert set(a.line_amounts) <= eligible
        assert all(v > 0 for v in a.line_amounts.values())
        assert a.amount <= sum(amounts[i] for i in eligible) or a.klass is DiscountClass.SHIPPING
        if a.klass is DiscountClass.PRODUCT:
            for i, v in a.line_amounts.items():
                after_product[i] -= v
        sums[a.klass] += a.amount
        if a.cashback:
            assert a.cashback <= sum(amounts[i] for i in eligible)
    assert all(v >= 0 for v in after_product)
    for a in ev.applied:
        if a.klass is DiscountClass.ORDER and a.amount:
            # An order discount never exceeds what its lines cost after product discounts.
            assert a.amount <= sum(after_product[i] for i in a.line_amounts)
    assert sums[DiscountClass.PRODUCT] == ev.product_discount
    assert sums[DiscountClass.ORDER] == ev.order_discount
    assert sums[DiscountClass.SHIPPING] == ev.shipping_discount
    assert ev.cashback == sum(a.cashback for a in ev.applied)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.randoms(use_true_random=False))
def test_invariants_determinism_and_order_independence(scenario, rnd: random.Random):
    c, promos, customer, campaigns = scenario
    for p in promos:
        assert validate_promotion(p) == [], p  # the generator only makes valid definitions
    ev = run(c, promos, customer=customer, campaigns=campaigns)
    check_invariants(c, promos, ev)
    assert ev.exact
    shuffled = list(promos)
    rnd.shuffle(shuffled)
    assert run(c, shuffled, customer=customer, campaigns=campaigns) == ev
    assert run(c, promos, customer=customer, campaigns=campaigns) == ev


def consent(a: Promotion, b: Promotion) -> bool:
    if a.exclusive or b.exclusive:
        return False
    return b.klass in a.combines_with and a.klass in b.combines_with


def permitted_combinations(candidates: list[Promotion]) -> list[set[int]]:
    """Every permitted combination, straight from the definition: an exclusive promotion alone;
    otherwise a pairwise-consenting set N of non-product promotions with every product
    promotion that consents to all of N."""
    product = [p for p in candidates if p.klass is DiscountClass.PRODUCT and not p.exclusive]
    others = [p for p in candidates if p.klass is not DiscountClass.PRODUCT and not p.exclusive]
    combos = [{p.id} for p in candidates if p.exclusive]
    for n in range(len(others) + 1):
        for subset in itertools.combinations(others, n):
            if all(consent(a, b) for a, b in itertools.combinations(subset, 2)):
                allowed = [p for p in product if all(consent(p, x) for x in subset)]
                combos.append({p.id for p in (*subset, *allowed)})
    return combos


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_promos=7, max_lines=4))
def test_the_choice_is_the_best_permitted_combination(scenario):
    c, promos, customer, campaigns = scenario
    kw = {"customer": customer, "context": CONTEXT, "campaigns": campaigns}
    ev = run(c, promos, **kw)
    # Candidates: the promotions that give something on their own.
    candidates = [
        p
        for p in promos
        if any(a.promotion_id == p.id for a in run_only(c, promos, [p.id], **kw).applied)
    ]
    best = max(
        (run_only(c, promos, combo, **kw).benefit for combo in permitted_combinations(candidates)),
        default=0,
    )
    assert ev.benefit == best
    # And what was applied is itself permitted.
    chosen = [p for p in promos if p.id in {a.promotion_id for a in ev.applied}]
    if any(p.exclusive for p in chosen):
        assert len(chosen) == 1
    for a, b in itertools.combinations(chosen, 2):
        if a.klass is not DiscountClass.PRODUCT or b.klass is not DiscountClass.PRODUCT:
            assert consent(a, b), (a.id, b.id)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_promos=8))
def test_a_cut_short_search_still_returns_a_valid_evaluation(scenario):
    c, promos, customer, campaigns = scenario
    ev = run(c, promos, customer=customer, campaigns=campaigns, max_nodes=1)
    check_invariants(c, promos, ev)
    full = run(c, promos, customer=customer, campaigns=campaigns)
    assert ev.benefit <= full.benefit


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_promos=3))
def test_one_candidate_shortcut_equals_the_search(scenario):
    # `choose` skips the search for a lone non-product candidate: the same evaluation.
    c, promos, customer, campaigns = scenario
    fast = run(c, promos, customer=customer, campaigns=campaigns)
    real = search.choose
    try:
        evaluate_module.choose = lambda ctx, cands, n: search._Search(ctx, cands, n).solve()
        slow = run(c, promos, customer=customer, campaigns=campaigns)
    finally:
        evaluate_module.choose = real
    assert fast == slow
