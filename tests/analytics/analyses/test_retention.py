"""Cohort retention against a hand-counted matrix and a plain-Python recomputation."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.analytics.analyses.builders import at, customer, order

from shopops.analytics.analyses._common import BadPeriod
from shopops.analytics.analyses.retention import BadParameter, offset, period_start, retention


def _orders():
    return [
        # 1: first order in August (before the range): never in a cohort of the range.
        order(1, 1, at("2026-08-20"), 100),
        order(2, 1, at("2026-09-05"), 100),
        order(3, 1, at("2026-10-05"), 100),
        # 2: September cohort, buys again in September and November.
        order(4, 2, at("2026-09-02"), 100),
        order(5, 2, at("2026-09-25"), 100),
        order(6, 2, at("2026-11-03"), 100),
        # 3: September cohort, one order only.
        order(7, 3, at("2026-09-30"), 100),
        # 4: October cohort, back in November.
        order(8, 4, at("2026-10-31"), 100),
        order(9, 4, at("2026-11-01"), 100),
        # 5: unpaid: nowhere.
        order(10, 5, None, 100, placed=at("2026-09-10")),
    ]


def test_first_order_cohorts_by_month(make_wh):
    wh = make_wh(fact_orders=_orders())
    result = retention(
        wh, start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 30), grain="month", periods=4
    )
    rows = {r.cohort: r for r in result.rows}
    assert list(rows) == [dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
    sep, oct_ = rows[dt.date(2026, 9, 1)], rows[dt.date(2026, 10, 1)]
    # Customer 1 is not a September "first-time" buyer (posthog #2368).
    assert sep.size == 2 and sep.retained == [2, 0, 1, None]
    assert sep.repeat_in_first_period == 1
    assert oct_.size == 1 and oct_.retained == [1, 1, None, None]
    assert sep.rates[2] == 0.5


def test_recurring_counts_every_active_period(make_wh):
    wh = make_wh(fact_orders=_orders())
    result = retention(
        wh,
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 11, 30),
        grain="month",
        mode="recurring",
        periods=3,
    )
    rows = {r.cohort: r for r in result.rows}
    # September buyers: 1, 2, 3 → October: 1; November: 2.
    assert rows[dt.date(2026, 9, 1)].size == 3
    assert rows[dt.date(2026, 9, 1)].retained == [3, 1, 1]
    # October buyers: 1, 4 → November: 4.
    assert rows[dt.date(2026, 10, 1)].retained == [2, 1, None]
    assert rows[dt.date(2026, 11, 1)].retained == [2, None, None]


def test_weekly_and_registration_cohorts(make_wh):
    customers = [customer(2, "2026-09-01"), customer(3, "2026-09-02"), customer(9, "2026-09-03")]
    wh = make_wh(fact_orders=_orders(), dim_customer=customers)
    result = retention(
        wh,
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 9, 30),
        grain="week",
        cohort="registration",
        periods=5,
    )
    (row,) = result.rows
    assert row.cohort == dt.date(2026, 8, 31) and row.size == 3  # the Monday
    # 2 buys in weeks 0 and 3; 3 buys in week 4; 9 never buys.
    assert row.retained == [1, 0, 0, 1, 1]
    assert period_start(dt.date(2026, 9, 6), "week") == dt.date(2026, 8, 31)
    assert offset(dt.date(2026, 11, 1), dt.date(2027, 2, 1), "month") == 3


def test_matches_plain_python(make_wh):
    orders = _orders()
    wh = make_wh(fact_orders=orders)
    start, end = dt.date(2026, 8, 1), dt.date(2026, 11, 30)
    result = retention(wh, start=start, end=end, grain="month", periods=4)
    paid = [(o["customer_id"], o["paid_date"]) for o in orders if o["paid_date"]]
    first: dict[int, dt.date] = {}
    for c, d in sorted(paid, key=lambda x: x[1]):
        first.setdefault(c, d.replace(day=1))
    for row in result.rows:
        members = {c for c, m in first.items() if m == row.cohort}
        assert row.size == len(members)
        for k, value in enumerate(row.retained):
            if value is None:
                continue
            month = row.cohort.month - 1 + k
            target = dt.date(row.cohort.year + month // 12, month % 12 + 1, 1)
            active = {c for c, d in paid if c in members and d.replace(day=1) == target}
            assert value == len(active)


def test_empty_and_bad_input(make_wh):
    wh = make_wh()
    assert retention(wh, start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1)).rows == []
    with pytest.raises(BadParameter):
        retention(wh, start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1), grain="year")
    with pytest.raises(BadPeriod):
        retention(wh, start=dt.date(2026, 3, 1), end=dt.date(2026, 2, 1))


def test_backend_month_cells_equal_the_general_path(make_wh, monkeypatch):
    import shopops.analytics.analyses.retention as mod

    wh = make_wh(fact_orders=_orders())
    for start in (dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 15)):
        args = {"start": start, "end": dt.date(2026, 11, 30), "grain": "month", "periods": 4}
        fast = retention(wh, **args)
        monkeypatch.setattr(mod, "BACKEND_MONTH_CELLS", False)
        general = retention(wh, **args)
        monkeypatch.setattr(mod, "BACKEND_MONTH_CELLS", True)
        assert fast.rows and [r.to_dict() for r in fast.rows] == [r.to_dict() for r in general.rows]
