"""The vectorised helpers of RFM and retention agree with their one-row definitions, and the
backend time arithmetic keeps sub-second precision."""

from __future__ import annotations

import datetime as dt
import itertools

import ibis
import numpy as np
import pandas as pd

from shopops.analytics.analyses.retention import _offsets, offset, period_start
from shopops.analytics.analyses.rfm import lifecycle_stage, lifecycle_stages
from shopops.analytics.engine import Warehouse, seconds_between

AS_OF = dt.date(2026, 11, 11)


def test_lifecycle_stages_match_the_scalar_rule() -> None:
    cases = []
    for first, last, prev in itertools.product(
        [0, 30, 31, 200], [0, 90, 91, 180, 181], [None, 0, 90, 91, 200, 400]
    ):
        if last > first or (prev is not None and prev < last):
            continue
        cases.append((first, last, prev))
    got = lifecycle_stages(
        as_of=AS_OF,
        first=np.array([c[0] for c in cases], float),
        last=np.array([c[1] for c in cases], float),
        previous=np.array([np.nan if c[2] is None else c[2] for c in cases], float),
    )
    day = lambda n: AS_OF - dt.timedelta(days=n)  # noqa: E731
    want = [
        lifecycle_stage(
            as_of=AS_OF, first=day(f), last=day(la), previous=None if p is None else day(p)
        )
        for f, la, p in cases
    ]
    assert list(got) == want
    assert {"new", "active", "returning", "dormant", "lost"} <= set(want)


def test_offsets_match_the_scalar_rule() -> None:
    days = [dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 3, 2), dt.date(2026, 11, 11)]
    for grain in ("week", "month"):
        pairs = [(period_start(a, grain), period_start(b, grain)) for a in days for b in days]
        got = _offsets(
            pd.Series(pd.to_datetime([a for a, _ in pairs])),
            pd.Series(pd.to_datetime([b for _, b in pairs])),
            grain,
        )
        assert list(got) == [offset(a, b, grain) for a, b in pairs]


def test_seconds_between_keeps_microseconds(tmp_path) -> None:
    wh = Warehouse(tmp_path)
    t = ibis.memtable(
        {
            "a": [dt.datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=dt.UTC)],
            "b": [dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.UTC)],
        }
    )
    assert wh.execute(t.select(s=seconds_between("duckdb", t.a, t.b)))["s"][0] == 2.5


def test_counted_ranks_equal_pandas_min_ranks() -> None:
    from shopops.analytics.analyses.rfm import _min_ranks

    rng = np.random.default_rng(7)
    cases = [
        rng.integers(-30, 30, 500),  # narrow whole numbers: counted
        -rng.integers(0, 550, 2_000),  # negated recency days
        np.array([5, 5, 5]),
        np.array([0]),
        rng.integers(0, 10**12, 300),  # too wide a span: sorted (pandas)
        rng.normal(size=300),  # not whole numbers: sorted (pandas)
    ]
    for values in cases:
        want = pd.Series(values).rank(method="min").to_numpy()
        assert np.array_equal(_min_ranks(values), want)
