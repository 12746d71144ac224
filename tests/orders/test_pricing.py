"""Checkout pricing is pure: discounts are clamped to the subtotal, split over lines exactly,
and the shipping rule applies to the discounted subtotal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.orders.pricing import (
    AppliedDiscount,
    CartItem,
    CartSnapshot,
    CheckoutPolicy,
    collect_discounts,
    discount_hooks,
    price_cart,
    register_discount_hook,
    unregister_discount_hook,
)
from shopops.orders.rules import shipping_fee

FREE_AT, FEE = 9900, 1000


def item(sku_id: int, price: int, quantity: int = 1) -> CartItem:
    return CartItem(
        sku_id=sku_id,
        product_id=sku_id,
        category_id=1,
        brand_id=None,
        sku_code=f"S{sku_id}",
        title=f"商品{sku_id}",
        unit_price=price,
        unit_cost=price // 2,
        quantity=quantity,
    )


def snap(*items: CartItem) -> CartSnapshot:
    return CartSnapshot(customer_id=1, items=items)


def price(snapshot: CartSnapshot, discounts=()):  # type: ignore[no-untyped-def]
    return price_cart(snapshot, discounts, free_shipping_threshold=FREE_AT, base_shipping_fee=FEE)


def test_no_discounts_below_threshold_pays_shipping():
    priced = price(snap(item(1, 2000, 2), item(2, 500)))
    assert priced.items_subtotal == 4500
    assert priced.discount_total == 0
    assert priced.shipping_fee == FEE
    assert priced.total == 5500
    assert [line.total for line in priced.lines] == [4000, 500]
    assert not priced.clamped


def test_free_shipping_applies_to_the_discounted_subtotal():
    cart = snap(item(1, 10000))
    assert price(cart).shipping_fee == 0
    # 10000 − 200 = 9800 < 9900: the discount costs the free shipping.
    priced = price(cart, [AppliedDiscount("coupon", "C1", "立减2元", 200)])
    assert priced.shipping_fee == FEE
    assert priced.total == 9800 + FEE


@pytest.mark.parametrize(
    ("subtotal", "threshold", "fee"),
    [(9899, 9900, 1000), (9900, 9900, 0), (100000, 0, 1000), (0, 9900, 1000)],
)
def test_shipping_fee_rule(subtotal, threshold, fee):
    assert shipping_fee(subtotal, free_threshold=threshold, base_fee=1000) == fee


def test_order_discount_is_split_by_largest_remainder():
    priced = price(
        snap(item(1, 100), item(2, 100), item(3, 100)),
        [AppliedDiscount("promotion", "P1", "满减", 100)],
    )
    assert [line.discount for line in priced.lines] == [34, 33, 33]
    assert priced.discounts[0].line_amounts == {1: 34, 2: 33, 3: 33}
    assert priced.discount_total == 100


def test_per_line_amounts_are_kept():
    d = AppliedDiscount("flash_sale", "F1", "秒杀", 300, line_amounts={2: 300})
    priced = price(snap(item(1, 1000), item(2, 1000)), [d])
    assert [line.discount for line in priced.lines] == [0, 300]


def test_discounts_beyond_the_subtotal_are_clamped_and_said_so():
    cart = snap(item(1, 1000), item(2, 500))
    priced = price(
        cart,
        [
            AppliedDiscount("coupon", "BIG", "大额券", 1200),
            AppliedDiscount("coupon", "MORE", "再减", 800),
        ],
    )
    assert priced.discount_total == 1500
    assert [d.amount for d in priced.discounts] == [1200, 300]
    assert priced.clamped and "MORE" in priced.notes[0] and "800 reduced to 300" in priced.notes[0]
    assert all(line.total == 0 for line in priced.lines)
    assert priced.total == FEE


def test_per_line_amount_is_clamped_to_what_the_line_has_left():
    d = AppliedDiscount("coupon", "L", "单品券", 5000, line_amounts={1: 5000})
    priced = price(snap(item(1, 1000), item(2, 1000)), [d])
    assert [line.discount for line in priced.lines] == [1000, 0]
    assert priced.discounts[0].amount == 1000 and priced.clamped


def test_waived_shipping():
    d = AppliedDiscount("coupon", "FREESHIP", "包邮券", 0, waives_shipping=True)
    priced = price(snap(item(1, 100)), [d])
    assert priced.shipping_fee == 0 and priced.total == 100


@pytest.mark.parametrize(
    "bad",
    [
        AppliedDiscount("coupon", "NEG", "", -1),
        AppliedDiscount("coupon", "X", "", 10, line_amounts={99: 10}),
        AppliedDiscount("coupon", "X", "", 10, line_amounts={1: 5}),
        AppliedDiscount("coupon", "X", "", 0, line_amounts={1: -5, 2: 5}),
    ],
)
def test_broken_hook_output_is_a_bug_not_a_price(bad):
    with pytest.raises(ValueError):
        price(snap(item(1, 1000), item(2, 1000)), [bad])


def test_hooks_register_once_and_run_in_order(monkeypatch):
    from shopops.orders import pricing

    # Only this test's hooks: the domains' real ones need a database.
    monkeypatch.setattr(pricing, "_hooks", [])
    calls = []

    def first(session, snapshot, customer, offers, earlier):  # type: ignore[no-untyped-def]
        calls.append("first")
        return [AppliedDiscount("promotion", "A", "", 1)]

    def second(session, snapshot, customer, offers, earlier):  # type: ignore[no-untyped-def]
        calls.append("second")
        return [AppliedDiscount("coupon", "B", "", 2)]

    before = discount_hooks()
    register_discount_hook(first)
    register_discount_hook(second)
    register_discount_hook(first)
    try:
        found = collect_discounts(None, snap(item(1, 100)), None)  # type: ignore[arg-type]
        assert [d.reference for d in found] == ["A", "B"]
        assert discount_hooks() == (first, second)
        assert calls == ["first", "second"]
    finally:
        unregister_discount_hook(first)
        unregister_discount_hook(second)
    assert discount_hooks() == before == ()


def test_policy_defaults_are_the_settings_defaults():
    from shopops.config import Settings

    policy = CheckoutPolicy()
    assert policy.base_shipping_fee == Settings.model_fields["base_shipping_fee"].default
    custom = CheckoutPolicy.from_settings(Settings(base_shipping_fee=5, max_cart_lines=3))
    assert (custom.base_shipping_fee, custom.max_cart_lines) == (5, 3)


items_st = st.lists(
    st.tuples(st.integers(0, 50_000), st.integers(1, 20)), min_size=1, max_size=6
).map(lambda xs: tuple(item(i + 1, p, q) for i, (p, q) in enumerate(xs)))

discount_st = st.builds(
    AppliedDiscount,
    source=st.sampled_from(["coupon", "promotion"]),
    reference=st.text(max_size=5),
    description=st.just(""),
    amount=st.integers(0, 2_000_000),
    waives_shipping=st.booleans(),
)


@given(items=items_st, discounts=st.lists(discount_st, max_size=4))
def test_totals_never_negative_and_lines_add_up(items, discounts):
    priced = price(CartSnapshot(customer_id=1, items=items), discounts)
    assert priced.total >= 0
    assert 0 <= priced.discount_total <= priced.items_subtotal
    assert sum(line.discount for line in priced.lines) == priced.discount_total
    assert sum(d.amount for d in priced.discounts) == priced.discount_total
    assert all(0 <= line.discount <= line.item.subtotal for line in priced.lines)
    for d in priced.discounts:
        assert sum(d.line_amounts.values()) == d.amount
    assert priced.total == priced.items_subtotal - priced.discount_total + priced.shipping_fee
    assert priced.clamped == (sum(d.amount for d in discounts) > priced.discount_total)


@given(
    items=items_st,
    shares=st.lists(st.integers(0, 100_000), min_size=6, max_size=6),
)
def test_per_line_discounts_never_exceed_their_line(items, shares):
    amounts = {it.sku_id: shares[i] for i, it in enumerate(items)}
    d = AppliedDiscount("coupon", "L", "", sum(amounts.values()), line_amounts=amounts)
    priced = price(CartSnapshot(customer_id=1, items=items), [d])
    for line in priced.lines:
        assert line.discount == min(amounts[line.item.sku_id], line.item.subtotal)
        assert line.total >= 0
