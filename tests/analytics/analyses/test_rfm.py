"""RFM, segments, lifecycle and ACCA against plain-Python computations."""

from __future__ import annotations

import datetime as dt
import statistics

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.analyses.builders import at, customer, order

from shopops.analytics.analyses.rfm import (
    SEGMENTS,
    lifecycle_stage,
    quintile_scores,
    rfm,
)

AS_OF = dt.date(2026, 11, 30)


def _orders():
    return [
        # 1: three orders, recent, big spender.
        order(1, 1, at("2026-11-28"), 50_000),
        order(2, 1, at("2026-10-01"), 30_000),
        order(3, 1, at("2026-06-01"), 20_000),
        # 2: one order long ago (a customer with one order).
        order(4, 2, at("2026-01-10"), 1_000),
        # 3: two small orders, recent.
        order(5, 3, at("2026-11-20"), 2_000),
        order(6, 3, at("2026-11-21"), 2_000),
        # 4: one big order, 100 days ago.
        order(7, 4, at("2026-08-22"), 90_000),
        # 5: unpaid order only: not a buyer.
        order(8, 5, None, 9_999, placed=at("2026-11-29")),
        # 6: paid after as_of: not counted.
        order(9, 6, at("2026-12-02"), 5_000),
        # 7: came back after a long gap.
        order(10, 7, at("2026-03-01"), 4_000),
        order(11, 7, at("2026-11-25"), 4_000),
    ]


def test_scores_segments_and_stages_by_hand(make_wh):
    customers = [
        customer(1, "2026-01-01"),
        customer(2, "2026-01-01", referred_by=1),
        customer(3, "2026-01-01"),
        customer(5, "2026-11-01"),
        customer(8, "2026-12-25"),  # registered after as_of: not in ACCA
    ]
    wh = make_wh(fact_orders=_orders(), dim_customer=customers)
    result = rfm(wh, as_of=AS_OF)
    df = result.customers.set_index("customer_id")
    assert sorted(df.index) == [1, 2, 3, 4, 7]
    assert df.loc[1, ["recency_days", "frequency", "monetary"]].tolist() == [2, 3, 100_000]
    assert df.loc[2, ["recency_days", "frequency", "monetary"]].tolist() == [324, 1, 1_000]
    # Medians over the 5 buyers: recency [2, 324, 9, 100, 5] → 9; F [3,1,2,1,2] → 2;
    # M [100000, 1000, 4000, 90000, 8000] → 8000.
    assert result.medians == {"recency_days": 9.0, "frequency": 2.0, "monetary": 8000.0}
    assert df.loc[1, "segment"] == "important_value"  # R↑F↑M↑
    assert df.loc[2, "segment"] == "general_win_back"  # R↓F↓M↓
    assert df.loc[3, "segment"] == "general_value"  # R↑ (9 ≤ 9) F↑ M↓
    assert df.loc[4, "segment"] == "important_win_back"  # R↓F↓M↑
    assert df.loc[7, "segment"] == "important_value"  # R↑ (5) F↑ (2 ≥ 2) M↑ (8000 ≥ 8000)
    assert df.loc[1, "segment_zh"] == "重要价值客户" and df.loc[2, "segment_en"] == (
        "General to win back"
    )
    assert df.loc[1, "rfm"] == "555"
    assert df.loc[1, "lifecycle"] == "active"
    assert df.loc[2, "lifecycle"] == "lost"
    assert df.loc[3, "lifecycle"] == "new"
    assert df.loc[4, "lifecycle"] == "dormant"
    assert df.loc[7, "lifecycle"] == "returning"
    acca = dict(zip(result.acca.customer_id, result.acca.acca, strict=True))
    assert acca == {
        1: "refer",
        2: "activate",
        3: "retain",
        4: "activate",
        5: "acquire",
        7: "retain",
    }
    assert sum(s["customers"] for s in result.segments()) == 5


def test_segment_seven_is_important_value(make_wh):
    # Customer 7: recency 5 ≤ 9, frequency 2 ≥ 2, monetary 8000 ≥ 8000: all high.
    wh = make_wh(fact_orders=_orders())
    df = rfm(wh, as_of=AS_OF).customers.set_index("customer_id")
    assert df.loc[7, "segment"] == "important_value"
    assert df.loc[3, "segment"] == "general_value"


def test_window_start_limits_f_and_m_but_not_lifecycle(make_wh):
    wh = make_wh(fact_orders=_orders())
    df = rfm(wh, as_of=AS_OF, start=dt.date(2026, 9, 1)).customers.set_index("customer_id")
    assert sorted(df.index) == [1, 3, 7]
    assert df.loc[1, ["frequency", "monetary"]].tolist() == [2, 80_000]
    assert df.loc[7, "lifecycle"] == "returning"


def test_empty_warehouse(make_wh):
    result = rfm(make_wh(), as_of=AS_OF)
    assert result.customers.empty and result.acca.empty
    assert all(s["customers"] == 0 for s in result.segments())
    assert result.to_dict()["total_customers"] == 0


def test_quintiles_and_lifecycle_rules():
    assert quintile_scores([1, 2, 3, 4, 5]).tolist() == [1, 2, 3, 4, 5]
    assert quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]
    assert quintile_scores(list(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    d = dt.date
    assert (
        lifecycle_stage(
            as_of=d(2026, 5, 31), first=d(2026, 5, 1), last=d(2026, 5, 1), previous=None
        )
        == "new"
    )
    assert (
        lifecycle_stage(
            as_of=d(2026, 5, 31), first=d(2026, 1, 1), last=d(2026, 3, 2), previous=None
        )
        == "active"
    )
    assert (
        lifecycle_stage(
            as_of=d(2026, 5, 31), first=d(2025, 1, 1), last=d(2025, 12, 31), previous=None
        )
        == "dormant"
    )


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=6),
            st.integers(min_value=0, max_value=400),
            st.integers(min_value=1, max_value=100_000),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_every_buyer_gets_one_segment(make_wh, rows):
    orders = [
        order(i + 1, cid, at("2026-11-30") - dt.timedelta(days=ago), amount)
        for i, (cid, ago, amount) in enumerate(rows)
    ]
    result = rfm(make_wh(fact_orders=orders), as_of=AS_OF)
    df = result.customers.set_index("customer_id")
    per: dict[int, list[tuple[int, int]]] = {}
    for cid, ago, amount in rows:
        per.setdefault(cid, []).append((ago, amount))
    assert sorted(df.index) == sorted(per)
    rec = {c: min(a for a, _ in v) for c, v in per.items()}
    freq = {c: len(v) for c, v in per.items()}
    mon = {c: sum(m for _, m in v) for c, v in per.items()}
    mr, mf, mm = (statistics.median(x.values()) for x in (rec, freq, mon))
    codes = {v[0] for v in SEGMENTS.values()}
    for c in per:
        assert df.loc[c, "recency_days"] == rec[c]
        expected = SEGMENTS[(rec[c] <= mr, freq[c] >= mf, mon[c] >= mm)][0]
        assert df.loc[c, "segment"] == expected and expected in codes
        assert 1 <= df.loc[c, "r_score"] <= 5
    assert sum(s["customers"] for s in result.segments()) == len(per)
