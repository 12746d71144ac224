"""GMV = UV × CVR × AOV and its LMDI split: parts add up to the change, zero-safe."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.analytics.reference import expected
from tests.analytics.warehouse_fixture import write_warehouse

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics.decomposition import (
    FACTORS,
    decompose,
    decompose_values,
    factors,
    lmdi,
    log_mean,
    split_fen,
)
from shopops.analytics.periods import parse_period
from shopops.analytics.schema import READ_SCHEMAS

DAY = parse_period("2026-11-11")
BEFORE = parse_period("2026-11-10")


def test_log_mean():
    assert log_mean(2.0, 2.0) == 2.0
    assert log_mean(math.e, 1.0) == pytest.approx(math.e - 1)
    assert log_mean(1.0, 4.0) == log_mean(4.0, 1.0)


def test_lmdi_by_hand():
    # gmv 100 → 240: uv 10 → 20 (×2), cvr 0.1 → 0.1, aov 100 → 120 (×1.2).
    before = {"uv": 10.0, "conversion_rate": 0.1, "aov": 100.0}
    after = {"uv": 20.0, "conversion_rate": 0.1, "aov": 120.0}
    parts = lmdi(before, after)
    weight = (240 - 100) / math.log(240 / 100)
    assert parts["uv"] == pytest.approx(weight * math.log(2))
    assert parts["aov"] == pytest.approx(weight * math.log(1.2))
    assert parts["conversion_rate"] == pytest.approx(0.0, abs=1e-9)
    assert sum(parts.values()) == pytest.approx(140.0, abs=1e-9)


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.tuples(positive, positive, positive), st.tuples(positive, positive, positive))
def test_lmdi_parts_sum_to_the_change(a, b):
    before, after = dict(zip(FACTORS, a, strict=True)), dict(zip(FACTORS, b, strict=True))
    parts = lmdi(before, after)
    change = math.prod(b) - math.prod(a)
    # Exact up to float rounding of the largest quantity involved.
    scale = max(abs(p) for p in [*parts.values(), math.prod(a), math.prod(b)])
    assert math.fsum(parts.values()) == pytest.approx(change, abs=1e-9 * scale + 1e-9)
    # Each part has the sign of its factor's change.
    for f in FACTORS:
        if after[f] > before[f]:
            assert parts[f] >= -1e-6 * max(1.0, abs(change))
        elif after[f] < before[f]:
            assert parts[f] <= 1e-6 * max(1.0, abs(change))


@given(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10**9),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10**9),
)
def test_decomposition_is_zero_safe_and_exact_in_fen(uv0, b0, g0, uv1, b1, g1):
    # Paid gmv needs buyers; buyers may exist without tracked visitors.
    g0 = g0 if b0 else 0
    g1 = g1 if b1 else 0
    before = {"uv": uv0, "buyers": b0, "gmv": g0, "new_buyer_gmv": g0 // 2}
    after = {"uv": uv1, "buyers": b1, "gmv": g1, "new_buyer_gmv": g1 // 3}
    d = decompose_values(DAY, BEFORE, before, after)
    assert sum(d.parts_fen.values()) + d.residual == g1 - g0 == d.change
    assert all(isinstance(v, int) for v in d.parts_fen.values())
    assert math.fsum(d.parts.values()) == pytest.approx(g1 - g0 - d.residual, rel=1e-9, abs=1e-3)
    for part in d.parts.values():
        assert math.isfinite(part)
    if uv0 and uv1:
        assert d.residual == 0
    assert d.new_buyer_gmv[1] + d.returning_buyer_gmv[1] == g1


def test_zero_periods():
    empty = {"uv": 0, "buyers": 0, "gmv": 0}
    d = decompose_values(DAY, BEFORE, empty, empty)
    assert d.parts_fen == dict.fromkeys(FACTORS, 0) and d.residual == 0
    # From nothing: no visitors before, so every factor was 0 and shares the change.
    d = decompose_values(DAY, BEFORE, empty, {"uv": 10, "buyers": 2, "gmv": 9000})
    assert d.parts_fen == {"uv": 3000, "conversion_rate": 3000, "aov": 3000}
    # Visitors but no buyers after: conversion and spend per buyer fall to 0.
    d = decompose_values(
        DAY, BEFORE, {"uv": 10, "buyers": 2, "gmv": 9000}, {"uv": 10, "buyers": 0, "gmv": 0}
    )
    assert d.parts_fen == {"uv": 0, "conversion_rate": -4500, "aov": -4500}
    # Orders without any tracked visit cannot be explained by traffic.
    d = decompose_values(
        DAY, BEFORE, {"uv": 0, "buyers": 1, "gmv": 500}, {"uv": 0, "buyers": 2, "gmv": 800}
    )
    assert d.residual == 300 and d.parts_fen == dict.fromkeys(FACTORS, 0)


def test_split_fen():
    assert split_fen({"a": 1.4, "b": 1.4, "c": 0.2}, 3) == {"a": 2, "b": 1, "c": 0}
    assert split_fen({"a": -1.5, "b": 3.5}, 2) == {"a": -1, "b": 3}
    assert sum(split_fen({"a": -0.3, "b": -0.3, "c": -0.4}, -1).values()) == -1


def test_decompose_on_the_fixture(tmp_path):
    rows = write_warehouse(tmp_path)
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    d = decompose(wh, DAY)
    assert d.against == BEFORE
    assert d.gmv_before == expected("gmv", rows, BEFORE.start, BEFORE.end) == 10000
    assert d.gmv_after == expected("gmv", rows, DAY.start, DAY.end) == 29000
    for f in FACTORS:
        assert d.after[f] == pytest.approx(expected(f, rows, DAY.start, DAY.end))
        assert d.before[f] == pytest.approx(expected(f, rows, BEFORE.start, BEFORE.end))
    # uv 2 → 5, cvr 0.5 → 0.8, aov 10000 → 7250
    w = (29000 - 10000) / math.log(29000 / 10000)
    assert d.parts["uv"] == pytest.approx(w * math.log(5 / 2))
    assert d.parts["conversion_rate"] == pytest.approx(w * math.log(0.8 / 0.5))
    assert d.parts["aov"] == pytest.approx(w * math.log(7250 / 10000))
    assert sum(d.parts_fen.values()) == 19000 and d.residual == 0
    assert d.new_buyer_gmv == (10000, expected("new_buyer_gmv", rows, DAY.start, DAY.end))
    assert d.returning_buyer_gmv == (0, 29000 - d.new_buyer_gmv[1])
    against_last_year = decompose(wh, DAY, parse_period("2025-11-11"))
    assert against_last_year.gmv_before == 14000
    assert sum(against_last_year.parts_fen.values()) == 29000 - 14000
    body = d.to_dict()
    assert body["gmv"] == {"before": 10000, "after": 29000, "change": 19000}
    assert set(body["parts_fen"]) == set(FACTORS)


def test_factors_are_zero_where_undefined():
    assert factors(0, 0, 0) == {"uv": 0.0, "conversion_rate": 0.0, "aov": 0.0}
    assert factors(10, 0, 0)["aov"] == 0.0
