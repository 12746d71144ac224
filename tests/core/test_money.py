from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.money import allocate, format_money, parse_yuan


def test_parse_and_format():
    assert parse_yuan("12.30") == 1230
    assert parse_yuan("¥1,299") == 129900
    assert parse_yuan(Decimal("0.01")) == 1
    with pytest.raises(ValueError):
        parse_yuan("1.234")
    with pytest.raises(ValueError):
        parse_yuan("abc")
    assert format_money(123450, "en") == "¥1,234.50"
    assert format_money(123456789, "zh_CN") == "¥123.46万"
    assert format_money(-500, "en") == "-¥5.00"


def test_allocate_by_hand():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [19900, 9900]) == [668, 332]
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(7, [0, 0]) == [4, 3]
    assert allocate(-10, [1, 2]) == [-3, -7]


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=30),
)
def test_allocation_always_sums_and_stays_within_weights(amount, weights):
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    assert all(p >= 0 for p in parts)
    if sum(weights) and amount <= sum(weights):
        assert all(p <= w for p, w in zip(parts, weights, strict=True))
