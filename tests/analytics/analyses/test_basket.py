"""Basket rules against brute-force counting over the orders."""

from __future__ import annotations

import datetime as dt
import math
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.analyses.builders import at, line

from shopops.analytics.analyses.basket import BadParameter, basket

START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def _lines(baskets: list[set[int]], day: str = "2026-11-11"):
    return [line(i + 1, p, at(day)) for i, items in enumerate(baskets) for p in sorted(items)]


def brute(baskets: list[set[int]], min_support: float):
    n = len(baskets)
    counts = {}
    items = sorted(set().union(*baskets)) if baskets else []
    for size in (1, 2, 3):
        for combo in combinations(items, size):
            c = sum(1 for b in baskets if set(combo) <= b)
            if c and c / n >= min_support - 1e-12:
                counts[combo] = c
    return counts


BASKETS = [
    {1, 2, 3},
    {1, 2},
    {1, 2, 4},
    {1, 3},
    {2, 3},
    {1, 2, 3},
    {5},
    {1, 5},
]


def test_itemsets_and_rules_by_brute_force(make_wh):
    wh = make_wh(fact_order_lines=[*_lines(BASKETS), line(99, 1, at("2026-12-05"))])
    result = basket(wh, start=START, end=END, min_support=0.25)
    assert result.orders == 8  # the December order is outside the period
    assert result.itemsets == brute(BASKETS, 0.25)
    assert result.itemsets[(1, 2)] == 4 and result.itemsets[(1, 2, 3)] == 2
    n = 8
    for row in result.rules.to_dict(orient="records"):
        x, y = set(row["antecedent"]), set(row["consequent"])
        nxy = sum(1 for b in BASKETS if x | y <= b)
        nx = sum(1 for b in BASKETS if x <= b)
        ny = sum(1 for b in BASKETS if y <= b)
        assert row["count"] == nxy
        assert row["support"] == pytest.approx(nxy / n)
        assert row["confidence"] == pytest.approx(nxy / nx)
        assert row["lift"] == pytest.approx((nxy / nx) / (ny / n))
        assert row["leverage"] == pytest.approx(nxy / n - (nx / n) * (ny / n))
        conf = nxy / nx
        expected = math.inf if conf == 1 else (1 - ny / n) / (1 - conf)
        assert row["conviction"] == pytest.approx(expected)
    # {1,2} → 3: 2 of the 4 baskets with 1 and 2 hold 3.
    rule = result.rules[
        [
            a == (1, 2) and c == (3,)
            for a, c in zip(result.rules.antecedent, result.rules.consequent, strict=False)
        ]
    ].iloc[0]
    assert rule["confidence"] == 0.5


def test_bought_together_and_json(make_wh):
    wh = make_wh(fact_order_lines=_lines(BASKETS))
    result = basket(wh, start=START, end=END, min_support=0.2)
    together = result.bought_together(3)
    assert set(together.consequent) <= {(1,), (2,), (1, 2)}
    assert list(together.lift) == sorted(together.lift, reverse=True)
    data = result.to_dict(item=3)
    assert all(r["antecedent"] == [3] for r in data["rules"])
    assert data["orders"] == 8


def test_empty_and_bad_input(make_wh):
    wh = make_wh()
    result = basket(wh, start=START, end=END)
    assert result.orders == 0 and result.rules.empty and result.to_dict()["rules"] == []
    with pytest.raises(BadParameter):
        basket(wh, start=START, end=END, level="brand_colour")
    with pytest.raises(BadParameter):
        basket(wh, start=START, end=END, min_support=0)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sets(st.integers(min_value=1, max_value=6), min_size=1, max_size=4),
        min_size=1,
        max_size=15,
    ),
    st.sampled_from([0.1, 0.2, 0.34]),
)
def test_random_baskets_match_brute_force(make_wh, baskets, min_support):
    result = basket(
        make_wh(fact_order_lines=_lines(baskets)), start=START, end=END, min_support=min_support
    )
    assert result.itemsets == brute(baskets, min_support)
    r = result.rules
    if len(r):
        s_y = r.confidence / r.lift
        assert ((r.support <= r.confidence + 1e-12) & (r.confidence <= 1 + 1e-12)).all()
        assert ((r.leverage - (r.support - r.support / r.confidence * s_y)).abs() < 1e-9).all()
