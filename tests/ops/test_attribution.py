"""Attribution and the seasonal score, on numbers small enough to check by hand."""

from __future__ import annotations

import statistics

import pytest

from shopops.ops.anomaly.rules import additive_split, best_explanation, ratio_split, seasonal_score


def test_additive_shares_of_the_change():
    # Total 100 → 70 (−30): search −24, feed −9, direct +3.
    parts = {
        c.member: c
        for c in additive_split(
            {"search": 16, "feed": 21, "direct": 33}, {"search": 40, "feed": 30, "direct": 30}
        )
    }
    assert parts["search"].change == -24 and parts["search"].share == pytest.approx(0.8)
    assert parts["feed"].share == pytest.approx(0.3)
    assert parts["direct"].share == pytest.approx(-0.1)
    best = best_explanation({"channel": list(parts.values())})
    assert (best.dimension, best.member, best.share) == ("channel", "search", pytest.approx(0.8))


def test_ratio_split_is_exact_and_separates_mix_from_rate():
    # Before: A 10/100, B 10/100 → 10%. After: A 10/100 (same rate), B 2/100 → 6%.
    parts = {
        c.member: c
        for c in ratio_split(
            {"A": 10, "B": 2}, {"A": 100, "B": 100}, {"A": 10, "B": 10}, {"A": 100, "B": 100}
        )
    }
    assert parts["A"].change == pytest.approx(0) and parts["B"].change == pytest.approx(-0.04)
    assert parts["B"].rate == pytest.approx(-0.04) and parts["B"].mix == pytest.approx(0)
    assert parts["B"].share == pytest.approx(1.0)
    # Pure mix: same rates (A 20%, B 5%), the traffic moves from A to B.
    parts = {
        c.member: c
        for c in ratio_split(
            {"A": 10, "B": 7.5}, {"A": 50, "B": 150}, {"A": 30, "B": 2.5}, {"A": 150, "B": 50}
        )
    }
    total = sum(c.change for c in parts.values())
    assert total == pytest.approx(17.5 / 200 - 32.5 / 200)  # exact: parts add up to ΔR
    assert all(c.rate == pytest.approx(0) for c in parts.values())


def test_single_member_and_unknown_explain_nothing():
    only = additive_split({"x": 5}, {"x": 10})
    assert best_explanation({"device": only}) is None
    parts = additive_split({"unknown": 0, "a": 9, "b": 10}, {"unknown": 50, "a": 10, "b": 10})
    best = best_explanation({"category": parts})
    assert best.member == "a"


def test_seasonal_score_knows_weekdays_and_trends():
    # Four weeks: weekdays 100, weekends (wd 5, 6) 200, with a small wobble.
    wobble = [0, 3, -2, 1, -3, 2, -1]
    hist = [(i % 7, (200 if i % 7 >= 5 else 100) + wobble[i % 7] * (1 + i % 3)) for i in range(28)]
    normal_saturday = seasonal_score(hist, 201, 5)
    assert abs(normal_saturday.score) < 2 and normal_saturday.expected == pytest.approx(
        200, rel=0.05
    )
    slump_saturday = seasonal_score(hist, 120, 5)  # a weekday level on a Saturday
    assert slump_saturday.score < -4
    assert seasonal_score(hist[:10], 100, 1) is None  # too little history


def test_a_price_is_scored_without_weekday_factors():
    # A price drifting 200 → 241 over 28 days (+1.5 a day) with no weekly rhythm, but with
    # chance weekday clusters: Mondays happen to be 12 higher.
    hist = [(i % 7, 200 + 1.5 * i + (12 if i % 7 == 0 else 0)) for i in range(28)]
    flat = seasonal_score(hist, 244, 0, seasonal=False)
    # No factors: the level is the median of the last 7 days as they are (indexes 21..27).
    assert flat.expected == pytest.approx(statistics.median(v for _, v in hist[-7:]))
    seasonal = seasonal_score(hist, 244, 0)
    assert seasonal.expected > flat.expected  # the chance Monday bump became a "factor"
