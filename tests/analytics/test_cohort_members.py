"""The customers of a retention cell: by hand, and the count of every cell equals the
retention table's."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from tests.analytics.analyses.builders import at, order, write_table

from shopops.analytics.analyses._common import BadParameter
from shopops.analytics.analyses.cohort_members import add_periods, cohort_members
from shopops.analytics.analyses.retention import retention
from shopops.analytics.engine import Warehouse

END = dt.date(2026, 11, 30)


def _wh(tmp_path: Path, orders: list[dict]) -> Warehouse:
    write_table(tmp_path / "wh", "fact_orders", orders)
    return Warehouse(tmp_path / "wh")


def test_cell_by_hand(tmp_path: Path) -> None:
    wh = _wh(
        tmp_path,
        [
            # Week of Mon 11-02: customers 1 and 2 start; 1 buys twice in the week of 11-09.
            order(1, 1, at("2026-11-02"), 1_000),
            order(2, 2, at("2026-11-04"), 2_000),
            order(3, 1, at("2026-11-10"), 300),
            order(4, 1, at("2026-11-15"), 400),
            # Customer 3 starts the week after: not in the 11-02 cohort.
            order(5, 3, at("2026-11-09"), 5_000),
            # Unpaid: ignored.
            order(6, 2, None, 9_000, placed=at("2026-11-10")),
        ],
    )
    week0 = cohort_members(wh, cohort=dt.date(2026, 11, 2), k=0, grain="week", end=END)
    assert week0.values.tolist() == [[1, 1, 1_000], [2, 1, 2_000]]
    week1 = cohort_members(wh, cohort=dt.date(2026, 11, 2), k=1, grain="week", end=END)
    assert week1.values.tolist() == [[1, 2, 700]]
    # The end date cuts the cell: only order 3 is paid by 11-12.
    cut = cohort_members(
        wh, cohort=dt.date(2026, 11, 2), k=1, grain="week", end=dt.date(2026, 11, 12)
    )
    assert cut.values.tolist() == [[1, 1, 300]]
    assert cohort_members(wh, cohort=dt.date(2026, 11, 2), k=5, grain="week", end=END).empty
    with pytest.raises(BadParameter):
        cohort_members(wh, cohort=END, k=-1, grain="week", end=END)
    with pytest.raises(BadParameter):
        cohort_members(wh, cohort=END, k=0, grain="day", end=END)


def test_add_periods() -> None:
    assert add_periods(dt.date(2026, 11, 1), 2, "month") == dt.date(2027, 1, 1)
    assert add_periods(dt.date(2026, 11, 2), 3, "week") == dt.date(2026, 11, 23)


@pytest.mark.parametrize("grain", ["week", "month"])
def test_every_cell_matches_retention(tmp_path: Path, grain: str) -> None:
    rng = random.Random(11)
    orders = []
    for oid in range(1, 200):
        day = dt.date(2026, 7, 1) + dt.timedelta(days=rng.randrange(150))
        orders.append(order(oid, rng.randrange(1, 40), at(day.isoformat()), rng.randrange(1, 99)))
    wh = _wh(tmp_path, orders)
    table = retention(wh, start=dt.date(2026, 7, 1), end=END, grain=grain, periods=6)
    assert table.rows
    for row in table.rows:
        for k, retained in enumerate(row.retained):
            if retained is None:
                continue
            cell = cohort_members(wh, cohort=row.cohort, k=k, grain=grain, end=END)
            assert len(cell) == retained, (row.cohort, k)
