"""The promotion engine, kind by kind and condition by condition, with worked numbers."""

import datetime as dt

import pytest
from tests.promotions.support import (
    NOW,
    ORDER,
    PRODUCT,
    UTC,
    applied,
    cart,
    line,
    promo,
    rejected,
    run,
)

from shopops.promotions.rules import (
    BP,
    BuyXGetY,
    CampaignBudget,
    Cashback,
    CustomerContext,
    EvaluationContext,
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
    PromotionKind,
    SpendSave,
    TieredQuantity,
    TimeLimited,
    Usage,
)

K = PromotionKind


# --- 满减 spend X save Y ----------------------------------------------------------------------


def test_spend_save_single_tier_with_explanations():
    ev = run(cart(line(1, 35600)), [promo(1, K.SPEND_SAVE, SpendSave(((30000, 3000),)))])
    assert applied(ev) == {1: 3000}
    assert ev.total == 32600
    a = ev.applied[0]
    assert a.explanation_zh == "P1：满300减30（已满¥356.00）"
    assert a.explanation_en == "P1: Spend ¥300 save ¥30 (eligible ¥356.00)"
    assert dict(a.line_amounts) == {0: 3000}


def test_spend_save_below_threshold_gives_a_hint():
    ev = run(cart(line(1, 25600)), [promo(1, K.SPEND_SAVE, SpendSave(((30000, 3000),)))])
    assert ev.applied == ()
    assert ev.total == 25600
    (hint,) = ev.hints
    assert hint.reason == "min_spend_not_met"
    assert hint.message_zh == "再买¥44.00可享「P1」"


@pytest.mark.parametrize(
    ("subtotal", "max_repeats", "saved"),
    [(65000, None, 6000), (65000, 1, 3000), (29999, None, 0), (90000, 2, 6000)],
)
def test_spend_save_every_300_save_30(subtotal, max_repeats, saved):
    params = SpendSave(((30000, 3000),), repeat=True, max_repeats=max_repeats)
    ev = run(cart(line(1, subtotal)), [promo(1, K.SPEND_SAVE, params)])
    assert ev.order_discount == saved


def test_spend_save_tiers_take_the_best_tier_not_the_sum():
    # saleor #14920: rules of one promotion were summed instead of taking the best.
    tiers = SpendSave(((20000, 2000), (30000, 4000), (50000, 8000)))
    ev = run(cart(line(1, 52000)), [promo(1, K.SPEND_SAVE, tiers)])
    assert ev.order_discount == 8000
    ev = run(cart(line(1, 31000)), [promo(1, K.SPEND_SAVE, tiers)])
    assert ev.order_discount == 4000


def test_spend_save_as_product_class_is_spread_over_its_lines():
    shoes = ItemFilter(category_ids=frozenset({7}))
    ev = run(
        cart(line(1, 20000, cats=[7]), line(2, 10000, cats=[7]), line(3, 50000)),
        [promo(1, K.SPEND_SAVE, SpendSave(((30000, 3000),)), klass=PRODUCT, items=shoes)],
    )
    assert ev.product_discount == 3000
    assert dict(ev.applied[0].line_amounts) == {0: 2000, 1: 1000}


# --- 立减, percent off, fixed price -------------------------------------------------------------


def test_instant_order_and_per_unit():
    c = cart(line(1, 1000, 3), line(2, 300, 1))
    assert run(c, [promo(1, K.INSTANT, Instant(500))]).order_discount == 500
    # Product class: ¥5 off each unit, never more than the unit's price.
    assert run(c, [promo(1, K.INSTANT, Instant(500), klass=PRODUCT)]).product_discount == 1500 + 300


def test_percent_off_rounds_down_to_the_fen():
    ev = run(cart(line(1, 333)), [promo(1, K.PERCENT_OFF, PercentOff(1500), klass=PRODUCT)])
    assert ev.product_discount == 49  # 49.95 rounded down, in the shop's disfavour
    ev = run(cart(line(1, 333)), [promo(1, K.PERCENT_OFF, PercentOff(1500))])
    assert ev.order_discount == 49
    assert ev.applied[0].explanation_zh == "P1：8.5折，省¥0.49"
    assert ev.applied[0].explanation_en == "P1: 15% off, saves ¥0.49"


def test_percent_off_cap():
    ev = run(cart(line(1, 100000)), [promo(1, K.PERCENT_OFF, PercentOff(2000, cap=15000))])
    assert ev.order_discount == 15000
    assert "最高减¥150.00" in ev.applied[0].explanation_zh
    # A capped product-class percentage keeps its per-line split proportional.
    ev = run(
        cart(line(1, 30000), line(2, 10000)),
        [promo(1, K.PERCENT_OFF, PercentOff(5000, cap=4000), klass=PRODUCT)],
    )
    assert dict(ev.applied[0].line_amounts) == {0: 3000, 1: 1000}


def test_fixed_price_only_when_lower():
    c = cart(line(1, 19900, 2), line(2, 5000))
    ev = run(c, [promo(1, K.FIXED_PRICE, FixedPrice(9900))])
    assert ev.product_discount == 20000
    assert dict(ev.applied[0].line_amounts) == {0: 20000}


# --- 返现, 兑换, 包邮, 首单 -------------------------------------------------------------------


def test_cashback_is_credited_not_deducted():
    ev = run(cart(line(1, 20000)), [promo(1, K.CASHBACK, Cashback(percent_bp=500))])
    assert ev.cashback == 1000
    assert ev.total == 20000
    assert ev.applied[0].amount == 0 and ev.applied[0].cashback == 1000
    assert "确认收货后到账" in ev.applied[0].explanation_zh


def test_cashback_reads_what_is_paid_after_discounts():
    ev = run(
        cart(line(1, 20000)),
        [
            promo(1, K.CASHBACK, Cashback(percent_bp=1000), combines=[ORDER]),
            promo(2, K.INSTANT, Instant(5000), combines=[ORDER]),
        ],
    )
    assert ev.order_discount == 5000
    assert ev.cashback == 1500


def test_exchange_coupon_gives_exactly_its_quantity():
    # odoo #76972: a "1 free product" coupon gave 5 when 10 were in the cart.
    ev = run(
        cart(line(1, 2500, 10), line(2, 900, 1)),
        [promo(1, K.EXCHANGE, Exchange(quantity=1), items=ItemFilter(sku_ids=frozenset({1})))],
    )
    assert ev.product_discount == 2500
    ev = run(cart(line(1, 2500, 10)), [promo(1, K.EXCHANGE, Exchange(quantity=2, price=500))])
    assert ev.product_discount == 4000


def test_free_shipping_and_its_cap():
    c = cart(line(1, 10000), fee=1200)
    ev = run(c, [promo(1, K.FREE_SHIPPING, FreeShipping(), min_spend=9900)])
    assert (ev.shipping_discount, ev.shipping_total, ev.total) == (1200, 0, 10000)
    assert ev.applied[0].free_shipping
    ev = run(c, [promo(1, K.FREE_SHIPPING, FreeShipping(cap=800))])
    assert ev.shipping_total == 400
    assert ev.applied[0].explanation_zh == "P1：运费减¥8.00"


def test_free_shipping_on_a_free_shipping_cart_is_refused_as_no_discount():
    ev = run(
        cart(line(1, 10000), fee=0, codes=["SHIPFREE"]),
        [promo(1, K.FREE_SHIPPING, FreeShipping(), code="SHIPFREE")],
    )
    assert rejected(ev) == {1: "no_discount"}


def test_first_order_coupon_only_for_a_first_order():
    first = promo(1, K.FIRST_ORDER, FirstOrder(amount=1800), code="WELCOME")
    c = cart(line(1, 5000), codes=["welcome"])
    ev = run(c, [first], customer=CustomerContext(customer_id=1, is_first_order=True))
    assert applied(ev) == {1: 1800}
    ev = run(c, [first], customer=CustomerContext(customer_id=1, is_first_order=False))
    assert rejected(ev) == {1: "new_customers_only"}
    assert ev.rejected[0].message_zh == "「P1」仅限新客首单使用"


# --- 阶梯, 买赠, 买X得Y -----------------------------------------------------------------------


@pytest.mark.parametrize(("units", "off"), [(1, 0), (2, 2000), (3, 6000), (5, 10000)])
def test_tiered_quantity(units, off):
    tiers = TieredQuantity(((2, 1000), (3, 2000)))
    ev = run(cart(line(1, 10000, units)), [promo(1, K.TIERED_QUANTITY, tiers)])
    assert ev.product_discount == off


def test_gift_quantity_is_as_defined():
    gift = GiftWithPurchase(sku_id=99, quantity=1, unit_value=1500)
    ev = run(cart(line(1, 3000, 10)), [promo(1, K.GIFT, gift, min_spend=20000)])
    assert [(g.sku_id, g.quantity) for g in ev.gifts] == [(99, 1)]
    assert ev.total == 30000
    repeating = GiftWithPurchase(
        sku_id=99, quantity=1, unit_value=1500, repeat=True, max_quantity=2
    )
    ev = run(cart(line(1, 3000, 10)), [promo(1, K.GIFT, repeating, min_spend=10000)])
    assert ev.gifts[0].quantity == 2


def test_buy_two_get_one_free_takes_the_cheapest():
    ev = run(
        cart(line(1, 5000), line(2, 3000), line(3, 4000)),
        [promo(1, K.BUY_X_GET_Y, BuyXGetY(2, 1))],
    )
    assert dict(ev.applied[0].line_amounts) == {1: 3000}
    assert ev.applied[0].explanation_zh == "P1：买2送1，省¥30.00"


def test_buy_x_get_y_repeats_and_its_limit():
    c = cart(line(1, 1000, 6))
    assert run(c, [promo(1, K.BUY_X_GET_Y, BuyXGetY(2, 1))]).product_discount == 2000
    limited = BuyXGetY(2, 1, max_applications=1)
    assert run(c, [promo(1, K.BUY_X_GET_Y, limited)]).product_discount == 1000
    half = BuyXGetY(1, 1, percent_bp=BP // 2)
    assert run(c, [promo(1, K.BUY_X_GET_Y, half)]).product_discount == 1500


def test_buy_x_get_y_with_a_separate_get_side():
    shoes, socks = ItemFilter(category_ids=frozenset({1})), ItemFilter(category_ids=frozenset({2}))
    params = BuyXGetY(1, 1, get_items=socks)
    c = cart(line(1, 40000, 2, cats=[1]), line(2, 2000, 5, cats=[2]))
    ev = run(c, [promo(1, K.BUY_X_GET_Y, params, items=shoes)])
    assert ev.product_discount == 4000  # two pairs of shoes → two pairs of socks
    assert dict(ev.applied[0].line_amounts) == {1: 4000}


def test_buy_ten_get_twenty_never_goes_negative():
    # medusa #8829: buy 10 get 20 with 10 units in the cart discounted 20 units' worth.
    ev = run(cart(line(1, 1000, 10)), [promo(1, K.BUY_X_GET_Y, BuyXGetY(10, 20))])
    assert ev.product_discount == 0 and ev.total == 10000
    socks = ItemFilter(sku_ids=frozenset({2}))
    ev = run(
        cart(line(1, 1000, 10), line(2, 500, 3)),
        [promo(1, K.BUY_X_GET_Y, BuyXGetY(10, 20, get_items=socks))],
    )
    assert ev.product_discount == 0  # only 3 of the 20 "get" units are there: no full set
    ev = run(
        cart(line(1, 1000, 10), line(2, 500, 25)),
        [promo(1, K.BUY_X_GET_Y, BuyXGetY(10, 20, get_items=socks))],
    )
    assert ev.product_discount == 20 * 500


# --- 会员价, 限时 ------------------------------------------------------------------------------


def test_member_price_by_sku_and_by_percent():
    member = promo(
        1, K.MEMBER_PRICE, MemberPrice(prices={1: 8000}), customer_tiers=frozenset({"gold"})
    )
    c = cart(line(1, 10000, 2), line(2, 5000))
    gold = CustomerContext(customer_id=1, tier="gold")
    assert run(c, [member], customer=gold).product_discount == 4000
    assert run(c, [member]).product_discount == 0
    any_member = promo(1, K.MEMBER_PRICE, MemberPrice(percent_bp=500))
    silver = CustomerContext(customer_id=1, tier="silver")
    assert run(c, [any_member], customer=silver).product_discount == 1000 + 250
    assert run(c, [any_member]).product_discount == 0  # a guest has no tier


def test_time_limited_flash_sale_with_a_unit_limit():
    flash = promo(
        1,
        K.TIME_LIMITED,
        TimeLimited(price=4900),
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(hours=1),
        limits=Limits(max_units_per_order=1),
    )
    ev = run(cart(line(1, 9900, 3)), [flash])
    assert ev.product_discount == 5000
    assert "每单限1件" in ev.applied[0].explanation_zh
    later = EvaluationContext(now=NOW + dt.timedelta(hours=2))
    assert run(cart(line(1, 9900, 3)), [flash], context=later).product_discount == 0


# --- conditions ----------------------------------------------------------------------------------


def test_item_filters_include_and_exclude():
    c = cart(
        line(1, 10000, cats=[1, 10], brand=5),
        line(2, 10000, cats=[1, 10], brand=6),
        line(3, 10000, cats=[2], brand=5),
    )
    chargers_not_brand6 = ItemFilter(category_ids=frozenset({10}), exclude_brand_ids=frozenset({6}))
    ev = run(
        c, [promo(1, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, items=chargers_not_brand6)]
    )
    assert dict(ev.applied[0].line_amounts) == {0: 1000}
    brand5_in_cat1 = ItemFilter(category_ids=frozenset({1}), brand_ids=frozenset({5}))
    ev = run(c, [promo(1, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, items=brand5_in_cat1)])
    assert dict(ev.applied[0].line_amounts) == {0: 1000}


def test_min_quantity_and_min_spend_read_only_eligible_lines():
    cat1 = ItemFilter(category_ids=frozenset({1}))
    c = cart(line(1, 5000, cats=[1]), line(2, 50000))
    ev = run(c, [promo(1, K.INSTANT, Instant(1000), items=cat1, min_spend=10000)])
    assert ev.applied == ()
    assert ev.hints[0].message_en == 'Spend ¥50.00 more to get "P1"'
    ev = run(c, [promo(1, K.INSTANT, Instant(1000), items=cat1, min_quantity=2)])
    assert ev.hints[0].reason == "min_quantity_not_met"


def test_customer_conditions():
    c = cart(line(1, 10000), codes=["VIP", "BDAY", "NEW"])
    promos = [
        promo(1, K.INSTANT, Instant(100), code="VIP", customer_segments=frozenset({"vip"})),
        promo(2, K.INSTANT, Instant(100), code="BDAY", birthday_month=True),
        promo(3, K.INSTANT, Instant(100), code="NEW", new_customers_only=True),
    ]
    ev = run(c, promos)
    assert rejected(ev) == {
        1: "customer_not_eligible",
        2: "birthday_month_only",
        3: "new_customers_only",
    }
    fan = CustomerContext(
        customer_id=1, segments=frozenset({"vip"}), birthday=dt.date(1990, 11, 30)
    )
    ev = run(c, [promos[0]], customer=fan)
    assert applied(ev) == {1: 100}
    ev = run(c, [promos[1]], customer=fan)
    assert applied(ev) == {2: 100}


def test_channel_window_days_and_hours_in_shop_time():
    c = cart(line(1, 10000), codes=["A", "B", "C", "D"])
    promos = [
        promo(1, K.INSTANT, Instant(100), code="A", channels=frozenset({"douyin"})),
        promo(2, K.INSTANT, Instant(100), code="B", starts_at=NOW + dt.timedelta(days=1)),
        promo(3, K.INSTANT, Instant(100), code="C", ends_at=NOW),
        promo(4, K.INSTANT, Instant(100), code="D", weekdays=frozenset({5, 6})),
    ]
    ev = run(c, promos)
    assert rejected(ev) == {
        1: "wrong_channel",
        2: "not_started",
        3: "expired",
        4: "outside_hours",
    }
    assert "2026-11-12 12:00" in ev.rejected[1].message_zh  # shown in shop time
    # 2026-11-14 17:30 UTC is Sunday 01:30 in Shanghai (Saturday in UTC).
    sunday_night = EvaluationContext(now=dt.datetime(2026, 11, 14, 17, 30, tzinfo=UTC))
    night_owl = promo(5, K.INSTANT, Instant(100), weekdays=frozenset({6}), hours=frozenset({1}))
    assert applied(run(cart(line(1, 10000)), [night_owl], context=sunday_night)) == {5: 100}
    assert run(cart(line(1, 10000)), [night_owl]).applied == ()


# --- limits and budgets --------------------------------------------------------------------------


def test_usage_limits():
    c = cart(line(1, 10000), codes=["ONCE", "MINE", "SHARED"])
    promos = [
        promo(
            1,
            K.INSTANT,
            Instant(100),
            code="ONCE",
            limits=Limits(single_use_code=True),
            usage=Usage(uses=1),
        ),
        promo(
            2,
            K.INSTANT,
            Instant(100),
            code="MINE",
            limits=Limits(per_customer=2),
            usage=Usage(uses=5, customer_uses=2),
        ),
        promo(
            3,
            K.INSTANT,
            Instant(100),
            code="SHARED",
            limits=Limits(total_uses=1000),
            usage=Usage(uses=999),
        ),
    ]
    ev = run(c, promos)
    assert rejected(ev) == {1: "usage_limit_reached", 2: "customer_limit_reached"}
    assert applied(ev) == {3: 100}


def test_budget_caps_the_discount_and_then_runs_out():
    c = cart(line(1, 10000))
    capped = promo(
        1, K.INSTANT, Instant(3000), limits=Limits(budget_amount=10000), usage=Usage(spent=9500)
    )
    ev = run(c, [capped])
    assert ev.order_discount == 500
    assert ev.applied[0].explanation_zh.endswith("（已达优惠上限）")
    spent = promo(
        1,
        K.INSTANT,
        Instant(3000),
        code="X1",
        limits=Limits(budget_amount=10000, budget_count=50),
        usage=Usage(spent=10000, uses=10),
    )
    assert rejected(run(cart(line(1, 10000), codes=["X1"]), [spent])) == {1: "budget_exhausted"}


def test_campaign_budget_is_shared_by_its_promotions():
    promos = [
        promo(1, K.INSTANT, Instant(3000), campaign_id=9, combines=[ORDER, PRODUCT]),
        promo(2, K.PERCENT_OFF, PercentOff(1000), klass=PRODUCT, campaign_id=9, combines=[ORDER]),
    ]
    ev = run(cart(line(1, 20000)), promos, campaigns={9: CampaignBudget(amount_left=2500)})
    assert ev.product_discount + ev.order_discount == 2500
    assert (ev.product_discount, ev.order_discount) == (2000, 500)  # product class goes first
    out = run(cart(line(1, 20000), codes=[]), promos, campaigns={9: CampaignBudget(uses_left=0)})
    assert out.applied == ()


# --- codes ---------------------------------------------------------------------------------------


def test_codes_are_case_insensitive_and_unknown_codes_are_reported():
    ev = run(
        cart(line(1, 10000), codes=[" save10 ", "NOSUCH"]),
        [promo(1, K.INSTANT, Instant(1000), code="SAVE10")],
    )
    assert applied(ev) == {1: 1000}
    assert [(r.code, r.reason) for r in ev.rejected] == [("NOSUCH", "unknown_code")]
    assert ev.rejected[0].message_zh == "优惠码无效"


def test_a_coupon_is_ignored_unless_its_code_is_presented():
    ev = run(cart(line(1, 10000)), [promo(1, K.INSTANT, Instant(1000), code="SAVE10")])
    assert ev.applied == () and ev.rejected == ()


def test_coupon_without_eligible_items_or_below_its_threshold():
    c = cart(line(1, 10000), codes=["A", "B"])
    promos = [
        promo(1, K.INSTANT, Instant(100), code="A", items=ItemFilter(sku_ids=frozenset({42}))),
        promo(2, K.INSTANT, Instant(100), code="B", min_spend=15000),
    ]
    ev = run(c, promos)
    assert rejected(ev) == {1: "no_eligible_items", 2: "min_spend_not_met"}
    assert ev.rejected[1].message_zh == "「P2」还差¥50.00可用"


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unique"):
        run(cart(line(1, 100)), [promo(1, K.INSTANT, Instant(1)), promo(1, K.INSTANT, Instant(2))])
    with pytest.raises(ValueError, match="quantity"):
        run(cart(line(1, 100, 0)), [])
    with pytest.raises(ValueError, match="timezone"):
        run(cart(line(1, 100)), [], context=EvaluationContext(now=dt.datetime(2026, 1, 1)))


def test_empty_cart():
    ev = run(cart(fee=800), [promo(1, K.INSTANT, Instant(100))])
    assert (ev.items_subtotal, ev.total, ev.applied) == (0, 800, ())
