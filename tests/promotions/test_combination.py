"""How promotions combine: classes, consent, exclusivity, per-line choice and the best pick."""

import datetime as dt

from tests.promotions.support import (
    EVERYTHING,
    NOW,
    ORDER,
    PRODUCT,
    SHIPPING,
    applied,
    cart,
    line,
    promo,
    rejected,
    run,
)

from shopops.promotions.rules import (
    BuyXGetY,
    Exchange,
    FreeShipping,
    GiftWithPurchase,
    Instant,
    ItemFilter,
    PercentOff,
    PromotionKind,
    SpendSave,
    TimeLimited,
)

K = PromotionKind
DAY = dt.timedelta(days=1)
SHOES = ItemFilter(category_ids=frozenset({1}))


def test_order_voucher_is_computed_on_the_discounted_subtotal():
    # saleor #17453: a 70% whole-order voucher on top of a 40% product promotion was computed
    # on the undiscounted total, and the two together made the order free.
    promos = [
        promo(1, K.PERCENT_OFF, PercentOff(4000), klass=PRODUCT, combines=[ORDER]),
        promo(2, K.PERCENT_OFF, PercentOff(7000), code="ANNIV70", combines=[PRODUCT]),
    ]
    ev = run(cart(line(1, 10000, 10), codes=["ANNIV70"]), promos)
    assert ev.product_discount == 40000
    assert ev.order_discount == 42000  # 70% of the 60,000 left, not of 100,000
    assert ev.total == 18000  # 30% of 60%
    assert ev.total > 0


def test_order_thresholds_read_the_subtotal_after_product_discounts():
    promos = [
        promo(1, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, combines=[ORDER]),
        promo(2, K.SPEND_SAVE, SpendSave(((30000, 5000),)), combines=[PRODUCT]),
    ]
    ev = run(cart(line(1, 32000)), promos)
    # 10% off leaves ¥288, short of ¥300: the 满减 does not apply, and the customer is told.
    assert applied(ev) == {1: 3200}
    assert [(h.promotion_id, h.reason) for h in ev.hints] == [(2, "min_spend_not_met")]
    assert ev.hints[0].message_zh == "再买¥12.00可享「P2」"


def test_order_promotions_that_do_not_combine_are_not_summed():
    promos = [
        promo(1, K.SPEND_SAVE, SpendSave(((20000, 2000),))),
        promo(2, K.SPEND_SAVE, SpendSave(((30000, 4000),))),
        promo(3, K.INSTANT, Instant(1000), code="TEN"),
    ]
    ev = run(cart(line(1, 35000), codes=["TEN"]), promos)
    assert applied(ev) == {2: 4000}
    assert ev.rejected[0].reason == "not_combinable"
    assert ev.rejected[0].message_zh == "「P3」不可与「P2」同时使用"


def test_order_promotions_that_combine_apply_one_after_another():
    promos = [
        promo(1, K.SPEND_SAVE, SpendSave(((30000, 3000),)), combines=[ORDER], priority=5),
        promo(2, K.PERCENT_OFF, PercentOff(1000), combines=[ORDER]),
    ]
    ev = run(cart(line(1, 40000)), promos)
    # Higher priority first: ¥30 off, then 10% of the ¥370 left.
    assert applied(ev) == {1: 3000, 2: 3700}


def test_each_line_takes_its_best_product_discount():
    promos = [
        promo(1, K.PERCENT_OFF, PercentOff(2000), klass=PRODUCT, name="全场8折"),
        promo(2, K.PERCENT_OFF, PercentOff(3000), klass=PRODUCT, items=SHOES, name="鞋7折"),
    ]
    ev = run(cart(line(1, 10000, cats=[1]), line(2, 10000, cats=[2])), promos)
    assert applied(ev) == {1: 2000, 2: 3000}
    assert ev.line_discounts == (3000, 2000)


def test_product_discounts_stack_on_a_line_only_when_both_agree():
    both = [
        promo(1, K.PERCENT_OFF, PercentOff(2000), klass=PRODUCT, combines=[PRODUCT]),
        promo(2, K.PERCENT_OFF, PercentOff(3000), klass=PRODUCT, combines=[PRODUCT]),
    ]
    assert run(cart(line(1, 10000)), both).product_discount == 5000
    one_sided = [both[0], promo(2, K.PERCENT_OFF, PercentOff(3000), klass=PRODUCT)]
    assert run(cart(line(1, 10000)), one_sided).product_discount == 3000
    # Stacked, never more than the line.
    deep = [
        promo(1, K.PERCENT_OFF, PercentOff(7000), klass=PRODUCT, combines=[PRODUCT]),
        promo(2, K.PERCENT_OFF, PercentOff(6000), klass=PRODUCT, combines=[PRODUCT]),
    ]
    ev = run(cart(line(1, 10000)), deep)
    assert ev.product_discount == 10000 and ev.total == 0
    assert applied(ev) == {1: 7000, 2: 3000}


def test_a_single_product_discount_beats_a_smaller_stack():
    promos = [
        promo(1, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, combines=[PRODUCT]),
        promo(2, K.PERCENT_OFF, PercentOff(1500), klass=PRODUCT, combines=[PRODUCT]),
        promo(3, K.PERCENT_OFF, PercentOff(3000), klass=PRODUCT, code="BIG"),
    ]
    ev = run(cart(line(1, 10000), codes=["BIG"]), promos)
    assert applied(ev) == {3: 3000}
    ev = run(cart(line(1, 10000), codes=["BIG"]), promos[:2])
    assert applied(ev) == {1: 1000, 2: 1500}


def test_product_discount_beaten_on_every_line_is_explained():
    promos = [
        promo(1, K.PERCENT_OFF, PercentOff(3000), klass=PRODUCT),
        promo(2, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, code="TEN"),
    ]
    ev = run(cart(line(1, 10000), codes=["TEN"]), promos)
    assert applied(ev) == {1: 3000}
    assert rejected(ev) == {2: "beaten_on_lines"}


def test_the_engine_chooses_between_a_product_sale_and_a_coupon_that_refuses_it():
    sale = promo(1, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT)  # combines with nothing
    big = promo(2, K.INSTANT, Instant(3000), code="BIG30")
    small = promo(3, K.INSTANT, Instant(500), code="SMALL5")
    c = cart(line(1, 20000), codes=["BIG30", "SMALL5"])
    ev = run(c, [sale, big, small])
    assert applied(ev) == {2: 3000}  # ¥30 beats 10% of ¥200
    assert rejected(ev) == {3: "not_combinable"}
    ev = run(cart(line(1, 20000), codes=["SMALL5"]), [sale, small])
    assert applied(ev) == {1: 2000}
    assert ev.rejected[0].message_en == '"P3": cannot be combined with "P1"'


def test_exclusive_promotions_apply_alone():
    shared = [
        promo(1, K.INSTANT, Instant(2000), combines=EVERYTHING),
        promo(2, K.FREE_SHIPPING, FreeShipping(), combines=EVERYTHING),
    ]
    vip = promo(3, K.INSTANT, Instant(2500), code="VIP", exclusive=True)
    c = cart(line(1, 10000), fee=1000, codes=["VIP"])
    ev = run(c, [*shared, vip])
    assert applied(ev) == {1: 2000, 2: 1000}  # ¥30 together beats ¥25 alone
    assert rejected(ev) == {3: "not_best"}
    vip_big = promo(3, K.INSTANT, Instant(4000), code="VIP", exclusive=True)
    ev = run(c, [*shared, vip_big])
    assert applied(ev) == {3: 4000}
    vip_code = promo(2, K.FREE_SHIPPING, FreeShipping(), code="SHIP", combines=EVERYTHING)
    ev = run(cart(line(1, 10000), fee=1000, codes=["VIP", "SHIP"]), [shared[0], vip_code, vip_big])
    assert rejected(ev) == {2: "exclusive_applied"}
    assert ev.rejected[0].message_zh == "「P2」「P3」不可与其他优惠同享"


def test_shipping_combines_only_when_both_sides_agree():
    order = promo(1, K.INSTANT, Instant(1000), combines=[SHIPPING])
    ship_no = promo(2, K.FREE_SHIPPING, FreeShipping())
    ship_yes = promo(2, K.FREE_SHIPPING, FreeShipping(), combines=[ORDER])
    c = cart(line(1, 10000), fee=800)
    assert applied(run(c, [order, ship_no])) == {1: 1000}
    assert applied(run(c, [order, ship_yes])) == {1: 1000, 2: 800}


def test_ties_go_to_higher_priority_then_lower_id():
    c = cart(line(1, 10000), codes=["A", "B"])
    a = promo(7, K.INSTANT, Instant(1000), code="A")
    b = promo(3, K.INSTANT, Instant(1000), code="B")
    assert applied(run(c, [a, b])) == {3: 1000}
    a_first = promo(7, K.INSTANT, Instant(1000), code="A", priority=1)
    assert applied(run(c, [b, a_first])) == {7: 1000}


def test_gift_value_counts_for_the_customer():
    gift = promo(1, K.GIFT, GiftWithPurchase(sku_id=9, quantity=1, unit_value=5000))
    coupon = promo(2, K.INSTANT, Instant(2000), code="C20")
    ev = run(cart(line(1, 10000), codes=["C20"]), [gift, coupon])
    assert [g.sku_id for g in ev.gifts] == [9]
    assert rejected(ev) == {2: "not_combinable"}


def test_line_allocations_add_up_for_order_discounts():
    ev = run(
        cart(line(1, 3333), line(2, 3333), line(3, 3334)),
        [promo(1, K.INSTANT, Instant(1000))],
    )
    amounts = ev.applied[0].line_amounts
    assert sum(amounts.values()) == 1000
    assert sorted(amounts.values()) == [333, 333, 334]


def test_bxgy_and_exchange_compete_per_line():
    promos = [
        promo(1, K.BUY_X_GET_Y, BuyXGetY(1, 1)),
        promo(2, K.EXCHANGE, Exchange(quantity=1), code="FREE1"),
    ]
    ev = run(cart(line(1, 5000, 2), codes=["FREE1"]), promos)
    # Both free one unit of the same line; they do not stack, so one ¥50 discount applies.
    assert ev.product_discount == 5000
    assert ev.total == 5000


def test_an_exclusive_product_promotion_is_not_lost_when_other_branches_are_pruned():
    # Found by the brute-force property: pruning the combinations that cost product discounts
    # also dropped the exclusive promotions still to be tried.
    promos = [
        promo(1, K.INSTANT, Instant(1), exclusive=True),
        promo(2, K.INSTANT, Instant(1)),
        promo(3, K.TIME_LIMITED, TimeLimited(price=0), exclusive=True, ends_at=NOW + DAY),
        promo(4, K.SPEND_SAVE, SpendSave(((1000, 1),)), klass=PRODUCT),
    ]
    c = cart(line(1, 100), line(1, 100), line(1, 200, 4))
    assert applied(run(c, promos)) == {3: 1000}
