"""Bad promotion definitions are refused with a field, a code and messages; params round-trip
through JSON."""

import datetime as dt
import json

import pytest
from tests.promotions.support import NOW, promo

from shopops.promotions.rules import (
    BuyXGetY,
    Cashback,
    DiscountClass,
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
    params_from_dict,
    params_to_dict,
    validate_promotion,
)

K = PromotionKind
END = NOW + dt.timedelta(days=3)

VALID = {
    K.SPEND_SAVE: SpendSave(((20000, 2000), (30000, 4000))),
    K.INSTANT: Instant(1000),
    K.PERCENT_OFF: PercentOff(1500, cap=5000),
    K.FIXED_PRICE: FixedPrice(9900),
    K.CASHBACK: Cashback(percent_bp=300, cap=2000),
    K.EXCHANGE: Exchange(quantity=1),
    K.FREE_SHIPPING: FreeShipping(),
    K.FIRST_ORDER: FirstOrder(amount=1800),
    K.TIERED_QUANTITY: TieredQuantity(((2, 500), (3, 1000))),
    K.GIFT: GiftWithPurchase(sku_id=7, quantity=1, unit_value=1990),
    K.BUY_X_GET_Y: BuyXGetY(2, 1, get_items=ItemFilter(category_ids=frozenset({3}))),
    K.MEMBER_PRICE: MemberPrice(prices={1: 8000}),
    K.TIME_LIMITED: TimeLimited(percent_bp=2000),
}


def codes(problems):
    return {(p.field, p.code) for p in problems}


@pytest.mark.parametrize("kind", list(K))
def test_a_valid_definition_of_every_kind_passes(kind):
    p = promo(1, kind, VALID[kind], ends_at=END, name="双11")
    assert (
        validate_promotion(
            p,
            known_sku_ids={1, 7},
            known_category_ids={3},
            known_brand_ids=set(),
            known_product_ids=set(),
        )
        == []
    )


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        (K.PERCENT_OFF, PercentOff(10001), ("params.percent_bp", "percent_out_of_range")),
        (K.PERCENT_OFF, PercentOff(0), ("params.percent_bp", "percent_out_of_range")),
        (K.CASHBACK, Cashback(percent_bp=12000), ("params.percent_bp", "percent_out_of_range")),
        (K.CASHBACK, Cashback(amount=100, percent_bp=100), ("params", "amount_or_percent")),
        (K.FIRST_ORDER, FirstOrder(), ("params", "amount_or_percent")),
        (K.TIME_LIMITED, TimeLimited(), ("params", "amount_or_percent")),
        (K.MEMBER_PRICE, MemberPrice(), ("params", "amount_or_percent")),
        (
            K.SPEND_SAVE,
            SpendSave(((10000, 12000),)),
            ("params.tiers[0]", "discount_exceeds_threshold"),
        ),
        (
            K.SPEND_SAVE,
            SpendSave(((30000, 3000), (20000, 4000))),
            ("params.tiers[1]", "tiers_not_ascending"),
        ),
        (
            K.SPEND_SAVE,
            SpendSave(((30000, 3000), (50000, 6000)), repeat=True),
            ("params.repeat", "repeat_single_tier"),
        ),
        (K.SPEND_SAVE, SpendSave(()), ("params.tiers", "tiers_required")),
        (
            K.TIERED_QUANTITY,
            TieredQuantity(((3, 1000), (2, 2000))),
            ("params.tiers[1]", "tiers_not_ascending"),
        ),
        (K.INSTANT, Instant(0), ("params.amount", "amount_required")),
        (K.FIXED_PRICE, FixedPrice(-1), ("params.price", "negative_amount")),
        (K.EXCHANGE, Exchange(quantity=0), ("params.quantity", "below_one")),
        (K.BUY_X_GET_Y, BuyXGetY(0, 1), ("params.buy_quantity", "below_one")),
        (
            K.GIFT,
            GiftWithPurchase(sku_id=7, quantity=2, max_quantity=1),
            ("params.max_quantity", "max_below_quantity"),
        ),
        (
            K.GIFT,
            GiftWithPurchase(sku_id=7, repeat=True),
            ("params.repeat", "repeat_needs_threshold"),
        ),
        (K.PERCENT_OFF, Instant(100), ("params", "params_mismatch")),
    ],
)
def test_bad_parameters(kind, params, expected):
    problems = validate_promotion(promo(1, kind, params, ends_at=END))
    assert expected in codes(problems)
    assert all(p.message and p.message_zh for p in problems)


def test_a_discount_larger_than_its_minimum_spend():
    p = promo(1, K.INSTANT, Instant(5000), min_spend=3000)
    (problem,) = validate_promotion(p)
    assert (problem.field, problem.code) == ("params.amount", "discount_exceeds_threshold")
    assert problem.message == "the discount ¥50.00 is larger than its threshold ¥30.00"
    assert problem.message_zh == "优惠金额¥50.00大于门槛¥30.00"


def test_an_end_before_its_start_and_naive_times():
    p = promo(1, K.INSTANT, Instant(100), starts_at=NOW, ends_at=NOW - dt.timedelta(hours=1))
    assert codes(validate_promotion(p)) == {("conditions.ends_at", "ends_before_start")}
    naive = promo(1, K.INSTANT, Instant(100), starts_at=dt.datetime(2026, 11, 11))
    assert codes(validate_promotion(naive)) == {("conditions.starts_at", "naive_datetime")}
    flash = promo(1, K.TIME_LIMITED, TimeLimited(percent_bp=2000))
    assert codes(validate_promotion(flash)) == {("conditions.ends_at", "end_required")}


def test_unknown_skus_categories_brands_and_products():
    items = ItemFilter(
        sku_ids=frozenset({1, 99}),
        category_ids=frozenset({3, 42}),
        brand_ids=frozenset({8}),
        exclude_product_ids=frozenset({5}),
    )
    p = promo(1, K.PERCENT_OFF, PercentOff(1000), items=items)
    problems = validate_promotion(
        p,
        known_sku_ids={1},
        known_category_ids={3},
        known_brand_ids={1},
        known_product_ids={6},
    )
    assert codes(problems) == {
        ("conditions.items.sku_ids", "unknown_sku"),
        ("conditions.items.category_ids", "unknown_category"),
        ("conditions.items.brand_ids", "unknown_brand"),
        ("conditions.items.product_ids", "unknown_product"),
    }
    assert problems[0].message == "unknown sku id(s): 99"
    # Without the known sets, ids are not checked.
    assert validate_promotion(p) == []


def test_unknown_ids_in_parameters():
    gift = promo(1, K.GIFT, GiftWithPurchase(sku_id=404))
    member = promo(2, K.MEMBER_PRICE, MemberPrice(prices={1: 100, 404: 100}))
    bxgy = promo(3, K.BUY_X_GET_Y, BuyXGetY(1, 1, get_items=ItemFilter(sku_ids=frozenset({9}))))
    assert codes(validate_promotion(gift, known_sku_ids={1})) == {("params.sku_id", "unknown_sku")}
    assert codes(validate_promotion(member, known_sku_ids={1})) == {
        ("params.prices", "unknown_sku")
    }
    assert codes(validate_promotion(bxgy, known_sku_ids={1})) == {
        ("params.get_items.sku_ids", "unknown_sku")
    }


def test_budgets_limits_and_codes():
    p = promo(1, K.INSTANT, Instant(100), limits=Limits(budget_amount=-1, budget_count=-5))
    assert codes(validate_promotion(p)) == {
        ("limits.budget_amount", "negative_budget"),
        ("limits.budget_count", "negative_budget"),
    }
    p = promo(1, K.INSTANT, Instant(100), limits=Limits(per_customer=0))
    assert codes(validate_promotion(p)) == {("limits.per_customer", "below_one")}
    p = promo(1, K.INSTANT, Instant(100), limits=Limits(single_use_code=True, total_uses=5))
    assert codes(validate_promotion(p)) == {
        ("limits.single_use_code", "single_use_without_code"),
        ("limits.total_uses", "single_use_conflict"),
    }
    assert codes(validate_promotion(promo(1, K.INSTANT, Instant(100), code="a b"))) == {
        ("code", "invalid_code")
    }


def test_class_exclusivity_filters_and_calendar():
    wrong_class = promo(1, K.FIXED_PRICE, FixedPrice(100), klass=DiscountClass.ORDER)
    assert codes(validate_promotion(wrong_class)) == {("klass", "class_not_allowed")}
    alone = promo(1, K.INSTANT, Instant(100), exclusive=True, combines=[DiscountClass.SHIPPING])
    assert codes(validate_promotion(alone)) == {("combines_with", "exclusive_combines")}
    both = ItemFilter(sku_ids=frozenset({1}), exclude_sku_ids=frozenset({1}))
    assert codes(validate_promotion(promo(1, K.INSTANT, Instant(100), items=both))) == {
        ("conditions.items.sku_ids", "include_exclude_overlap")
    }
    calendar = promo(1, K.INSTANT, Instant(100), weekdays=frozenset({7}), hours=frozenset({24}))
    assert codes(validate_promotion(calendar)) == {
        ("conditions.weekdays", "bad_weekday"),
        ("conditions.hours", "bad_hour"),
    }
    unnamed = promo(1, K.INSTANT, Instant(100), name=" ")
    assert codes(validate_promotion(unnamed)) == {("name", "name_required")}


@pytest.mark.parametrize("kind", list(K))
def test_params_round_trip_through_json(kind):
    params = VALID[kind]
    data = json.loads(json.dumps(params_to_dict(params)))
    assert params_from_dict(kind, data) == params


def test_params_from_dict_refuses_unknown_and_missing_fields():
    with pytest.raises(ValueError, match="unknown percent_off parameters"):
        params_from_dict(K.PERCENT_OFF, {"percent_bp": 100, "percnt": 1})
    with pytest.raises(ValueError, match="bad buy_x_get_y parameters"):
        params_from_dict(K.BUY_X_GET_Y, {"buy_quantity": 2})
    with pytest.raises(ValueError, match="unknown item filter fields"):
        params_from_dict(
            K.BUY_X_GET_Y, {"buy_quantity": 1, "get_quantity": 1, "get_items": {"x": []}}
        )
