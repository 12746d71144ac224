"""Promotion engine: a 50-line cart evaluated against 200 active promotions (target < 2 ms p50).

    uv run python benchmarks/bench_promotions.py [--runs 400] [--seed 7]

The shop is synthetic but shaped like a real one (seeded, so every run sees the same data):
2,000 SKUs in 60 leaf categories under 12 parents and 30 brands; 200 promotions of every kind —
product sales aimed at SKUs, categories or brands (限时, 会员价, 一口价, 阶梯, 买X得Y), automatic
满减 and percentage offers, coupons (40 codes, of which the customer presents 5), free
shipping, cashback, gifts — with mixed combination rules, and a tenth of them not applicable
now (expired, not started, another channel, another tier).

Two baselines run in the same process, on the same cart:
- "1 promotion": the evaluation against a single 满减. The ratio says what the other 199
  promotions cost on top of the fixed work (indexing the cart, building the result); a ratio
  that grew with the promotion count faster than linearly would show a search blowing up.
- "brute force": on a smaller set (the same cart, the first promotions up to 12 that apply),
  the best combination found by evaluating every permitted combination one by one, against
  the engine's branch and bound on the same set — the speed-up the pruning buys, and a check
  that both find the same benefit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import time
from collections.abc import Callable

from shopops.promotions.rules import (
    BP,
    BuyXGetY,
    Cart,
    CartLine,
    Cashback,
    Conditions,
    CustomerContext,
    DiscountClass,
    EvaluationContext,
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
    evaluate,
    evaluate_combination,
)

K = PromotionKind
PRODUCT, ORDER, SHIPPING = DiscountClass.PRODUCT, DiscountClass.ORDER, DiscountClass.SHIPPING
NOW = dt.datetime(2026, 11, 11, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai on 双11
CONTEXT = EvaluationContext(now=NOW, channel="storefront")
CUSTOMER = CustomerContext(
    customer_id=42, tier="gold", segments=frozenset({"young", "repeat"}), is_first_order=False
)


class Shop:
    def __init__(self, rng: random.Random) -> None:
        self.parents = list(range(1, 13))
        self.leaves = list(range(100, 160))
        self.parent_of = {leaf: self.parents[(leaf - 100) % 12] for leaf in self.leaves}
        self.skus: dict[int, tuple[int, int, int, int]] = {}  # sku → (product, leaf, brand, price)
        for sku in range(1, 2001):
            price = rng.choice([990, 1990, 2990, 4990, 9900, 12900, 19900, 39900, 99900])
            self.skus[sku] = (10_000 + sku // 3, rng.choice(self.leaves), rng.randint(1, 30), price)

    def line(self, sku: int, qty: int) -> CartLine:
        product, leaf, brand, price = self.skus[sku]
        return CartLine(
            sku_id=sku,
            product_id=product,
            unit_price=price,
            quantity=qty,
            category_ids=frozenset({leaf, self.parent_of[leaf]}),
            brand_id=brand,
        )


def make_cart(shop: Shop, rng: random.Random, n_lines: int, codes: list[str]) -> Cart:
    skus = rng.sample(sorted(shop.skus), n_lines)
    lines = tuple(shop.line(sku, rng.choice([1, 1, 1, 2, 3])) for sku in skus)
    return Cart(lines=lines, shipping_fee=1000, codes=frozenset(codes))


def _combines(rng: random.Random, *likely: DiscountClass) -> frozenset[DiscountClass]:
    return frozenset(k for k in (PRODUCT, ORDER, SHIPPING) if k in likely or rng.random() < 0.15)


def make_promotions(shop: Shop, rng: random.Random, cart: Cart) -> list[Promotion]:
    """200 promotions; about a third touch this cart (as in a busy 双11 shop)."""
    in_cart = [line.sku_id for line in cart.lines]
    cats = shop.leaves + shop.parents
    out: list[Promotion] = []

    def add(kind: PromotionKind, params: object, **kw: object) -> None:
        pid = len(out) + 1
        out.append(Promotion(id=pid, name=f"{kind.value}-{pid}", kind=kind, params=params, **kw))  # type: ignore[arg-type]

    def some_skus(k: int) -> frozenset[int]:
        pool = in_cart if rng.random() < 0.5 else sorted(shop.skus)
        return frozenset(rng.sample(pool, k))

    window = {"starts_at": NOW - dt.timedelta(days=1), "ends_at": NOW + dt.timedelta(days=2)}
    for _ in range(30):  # 限时折扣 on a few SKUs
        add(
            K.TIME_LIMITED,
            TimeLimited(percent_bp=rng.choice([1000, 2000, 3000])),
            klass=PRODUCT,
            conditions=Conditions(items=ItemFilter(sku_ids=some_skus(5)), **window),
            combines_with=_combines(rng, ORDER, SHIPPING),
            limits=Limits(max_units_per_order=rng.choice([None, 2])),
        )
    for _ in range(15):  # 会员价 per category
        add(
            K.MEMBER_PRICE,
            MemberPrice(percent_bp=rng.choice([500, 800, 1000])),
            conditions=Conditions(
                items=ItemFilter(category_ids=frozenset(rng.sample(cats, 2))),
                customer_tiers=frozenset({"gold", "platinum"}),
            ),
            combines_with=_combines(rng, ORDER, SHIPPING),
        )
    for _ in range(15):  # 一口价
        skus = some_skus(3)
        add(
            K.FIXED_PRICE,
            FixedPrice(min(shop.skus[s][3] for s in skus) * 8 // 10),
            conditions=Conditions(items=ItemFilter(sku_ids=skus)),
            combines_with=_combines(rng, SHIPPING),
        )
    for _ in range(15):  # 阶梯优惠
        add(
            K.TIERED_QUANTITY,
            TieredQuantity(((2, 500), (3, 1000), (5, 1500))),
            conditions=Conditions(items=ItemFilter(category_ids=frozenset({rng.choice(cats)}))),
            combines_with=_combines(rng, ORDER),
        )
    for _ in range(15):  # 买X得Y
        add(
            K.BUY_X_GET_Y,
            BuyXGetY(2, 1, percent_bp=rng.choice([5000, BP])),
            conditions=Conditions(items=ItemFilter(category_ids=frozenset({rng.choice(cats)}))),
            combines_with=_combines(rng, SHIPPING),
        )
    for _ in range(25):  # automatic 满减 and percentage offers
        if rng.random() < 0.7:
            params: object = SpendSave(((20000, 2000), (50000, 6000), (100000, 15000)))
            if rng.random() < 0.3:
                params = SpendSave(((30000, 3000),), repeat=True, max_repeats=5)
            add(
                K.SPEND_SAVE,
                params,
                conditions=Conditions(
                    items=ItemFilter(category_ids=frozenset(rng.sample(shop.parents, 4)))
                    if rng.random() < 0.6
                    else ItemFilter()
                ),
                combines_with=_combines(rng, PRODUCT, SHIPPING),
                priority=rng.randint(0, 3),
            )
        else:
            add(
                K.PERCENT_OFF,
                PercentOff(rng.choice([500, 1000]), cap=rng.choice([None, 5000])),
                conditions=Conditions(min_spend=rng.choice([0, 30000])),
                combines_with=_combines(rng, PRODUCT, SHIPPING),
            )
    for n in range(40):  # coupons
        code = f"COUPON{n:02d}"
        kind = rng.choice([K.INSTANT, K.PERCENT_OFF, K.SPEND_SAVE])
        params = {
            K.INSTANT: Instant(rng.choice([500, 1000, 2000])),
            K.PERCENT_OFF: PercentOff(rng.choice([500, 1000, 1500]), cap=10000),
            K.SPEND_SAVE: SpendSave(((rng.choice([10000, 30000, 60000]), 1500),)),
        }[kind]
        add(
            kind,
            params,
            code=code,
            conditions=Conditions(min_spend=rng.choice([0, 5000, 20000])),
            combines_with=_combines(rng, PRODUCT, SHIPPING),
            limits=Limits(per_customer=1),
        )
    for _ in range(10):  # free shipping
        add(
            K.FREE_SHIPPING,
            FreeShipping(),
            conditions=Conditions(min_spend=rng.choice([4900, 9900, 19900])),
            combines_with=frozenset({PRODUCT, ORDER}),
        )
    for _ in range(8):  # cashback
        add(
            K.CASHBACK,
            Cashback(percent_bp=rng.choice([200, 500]), cap=5000),
            conditions=Conditions(
                items=ItemFilter(brand_ids=frozenset(rng.sample(range(1, 31), 5)))
            ),
            combines_with=_combines(rng, PRODUCT, SHIPPING),
        )
    for _ in range(7):  # gifts
        add(
            K.GIFT,
            GiftWithPurchase(sku_id=rng.randint(1, 2000), quantity=1, unit_value=1990),
            conditions=Conditions(min_spend=rng.choice([30000, 80000])),
            combines_with=_combines(rng, PRODUCT, SHIPPING, ORDER),
        )
    add(K.FIRST_ORDER, FirstOrder(amount=1800), code="WELCOME18")
    for n in range(19):  # not applicable now: expired, not started, other channel, other tier
        conditions = [
            Conditions(ends_at=NOW - dt.timedelta(days=1)),
            Conditions(starts_at=NOW + dt.timedelta(days=1)),
            Conditions(channels=frozenset({"douyin"})),
            Conditions(customer_tiers=frozenset({"platinum"})),
        ][n % 4]
        add(K.PERCENT_OFF, PercentOff(2000), conditions=conditions)
    assert len(out) == 200, len(out)
    return out


def timed(fns: list[Callable[[], object]], runs: int) -> list[list[float]]:
    """Milliseconds per call of each function, the functions interleaved run by run so that
    machine noise falls on all of them alike."""
    for fn in fns:
        for _ in range(min(20, runs)):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, samples, strict=True):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def brute_force(cart: Cart, promos: list[Promotion]) -> tuple[int, int]:
    """(best benefit, combinations evaluated) over every permitted combination, each
    evaluated on its own: the definition in `shopops.promotions.engine.search`, enumerated."""

    def consent(a: Promotion, b: Promotion) -> bool:
        if a.exclusive or b.exclusive:
            return False
        return b.klass in a.combines_with and a.klass in b.combines_with

    product = [p for p in promos if p.klass is PRODUCT and not p.exclusive]
    others = [p for p in promos if p.klass is not PRODUCT and not p.exclusive]
    best = count = 0
    for n in range(len(others) + 1):
        for subset in itertools.combinations(others, n):
            if all(consent(a, b) for a, b in itertools.combinations(subset, 2)):
                chosen = {p.id for p in subset}
                chosen |= {p.id for p in product if all(consent(p, x) for x in subset)}
                ev = evaluate_combination(cart, promos, chosen, customer=CUSTOMER, context=CONTEXT)
                best = max(best, ev.benefit)
                count += 1
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shop = Shop(rng)
    codes = [f"COUPON{n:02d}" for n in rng.sample(range(40), 5)]
    cart = make_cart(shop, rng, 50, codes)
    promos = make_promotions(shop, rng, cart)
    one = [next(p for p in promos if p.kind is K.SPEND_SAVE)]

    def full() -> object:
        return evaluate(cart, promos, customer=CUSTOMER, context=CONTEXT)

    def single() -> object:
        return evaluate(cart, one, customer=CUSTOMER, context=CONTEXT)

    ev = evaluate(cart, promos, customer=CUSTOMER, context=CONTEXT)
    full_ms, single_ms = timed([full, single], args.runs)
    p50, b50 = pct(full_ms, 0.5), pct(single_ms, 0.5)
    print(f"cart: {len(cart.lines)} lines, ¥{ev.items_subtotal / 100:,.2f}; 200 promotions")
    print(
        f"applied {len(ev.applied)}, refused coupons {len(ev.rejected)}, hints {len(ev.hints)}, "
        f"discount ¥{ev.discount_total / 100:,.2f}, exact={ev.exact}"
    )
    print(
        f"200 promotions: p50 {p50:.3f} ms  p95 {pct(full_ms, 0.95):.3f} ms  "
        f"min {min(full_ms):.3f} ms  ({args.runs} runs)"
    )
    print(
        f"1 promotion:    p50 {b50:.3f} ms  p95 {pct(single_ms, 0.95):.3f} ms  "
        f"min {min(single_ms):.3f} ms"
    )
    verdict = "met" if p50 < 2 else "MISSED"
    print(f"ratio 200/1 (p50): {p50 / b50:.1f}x   target p50 < 2 ms: {verdict}")

    # Brute force on a smaller set: every product promotion that applies to this cart on its
    # own, and the first 14 order, shipping, cashback and gift promotions that do.
    applying: list[Promotion] = []
    others = 0
    for p in promos:
        alone = evaluate_combination(cart, promos, {p.id}, customer=CUSTOMER, context=CONTEXT)
        if alone.applied and (p.klass is PRODUCT or others < 14):
            applying.append(p)
            others += p.klass is not PRODUCT
    start = time.perf_counter()
    bf, combos = brute_force(cart, applying)
    bf_ms = (time.perf_counter() - start) * 1000
    (engine_ms,) = timed([lambda: evaluate(cart, applying, customer=CUSTOMER, context=CONTEXT)], 50)
    bb = evaluate(cart, applying, customer=CUSTOMER, context=CONTEXT).benefit
    e50 = pct(engine_ms, 0.5)
    print(
        f"brute force, {len(applying)} applicable promotions ({others} not product class, "
        f"{combos} permitted combinations): {bf_ms:.1f} ms; engine p50 {e50:.3f} ms "
        f"({bf_ms / e50:.0f}x faster); same benefit: {bf == bb}"
    )


if __name__ == "__main__":
    main()
