"""Per-product sales, ABC classes, daily units per SKU and hourly GMV against plain-Python
computations over a warehouse small enough to count by hand."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from tests.analytics.analyses.builders import SHOP_TZ, at, order, shop_date, write_table

from shopops.analytics.analyses.product_sales import (
    abc_classes,
    abc_summary,
    hourly_gmv,
    hourly_gmv_days,
    product_sales,
    sku_daily_units,
)
from shopops.analytics.engine import Warehouse

START, END = dt.date(2026, 11, 10), dt.date(2026, 11, 16)


def _line(oid: int, pid: int, qty: int, total: int, placed: dt.datetime) -> dict[str, Any]:
    return {
        "event_id": f"l{oid}-{pid}",
        "order_id": oid,
        "line_id": oid * 100 + pid,
        "customer_id": 1,
        "sku_id": pid * 10,
        "product_id": pid,
        "quantity": qty,
        "unit_price": total // qty,
        "total": total,
        "paid_at": None,
        "date": shop_date(placed),
    }


def _shop(tmp_path: Path, orders: list[dict], lines: list[dict]) -> Warehouse:
    root = tmp_path / "warehouse"
    write_table(root, "fact_orders", orders)
    write_table(root, "fact_order_lines", lines)
    return Warehouse(root)


def _hand_shop(tmp_path: Path) -> Warehouse:
    orders = [
        order(1, 1, at("2026-11-10"), 9_000),
        order(2, 2, at("2026-11-12"), 3_000),
        # Placed the day before the period, paid inside it: counted.
        order(3, 3, at("2026-11-10", 2), 1_000, placed=at("2026-11-09", 15, 59)),
        # Never paid: not counted.
        order(4, 4, None, 50_000, placed=at("2026-11-12")),
        # Paid after the period: not counted.
        order(5, 5, at("2026-11-17"), 7_000),
    ]
    lines = [
        _line(1, 7, 2, 6_000, at("2026-11-10")),
        _line(1, 8, 1, 3_000, at("2026-11-10")),
        _line(2, 7, 1, 3_000, at("2026-11-12")),
        _line(3, 9, 4, 1_000, at("2026-11-09", 15, 59)),
        _line(4, 9, 9, 50_000, at("2026-11-12")),
        _line(5, 8, 1, 7_000, at("2026-11-17")),
    ]
    return _shop(tmp_path, orders, lines)


def test_sales_by_product_counted_by_hand(tmp_path: Path) -> None:
    df = product_sales(_hand_shop(tmp_path), start=START, end=END)
    got = df[["product_id", "gmv", "units", "orders", "abc"]].values.tolist()
    # GMV 13,000: product 7 = 9,000 (69 %, A), 8 = 3,000 (before it 69 % < 80 %: A),
    # 9 = 1,000 (before it 92.3 %: B).
    assert got == [[7, 9_000, 3, 2, "A"], [8, 3_000, 1, 1, "A"], [9, 1_000, 4, 1, "B"]]
    assert df["share"].tolist() == pytest.approx([9 / 13, 3 / 13, 1 / 13])
    assert df["cum_share"].tolist()[-1] == pytest.approx(1.0)
    assert abc_summary(df) == [
        {"abc": "A", "products": 2, "gmv": 12_000},
        {"abc": "B", "products": 1, "gmv": 1_000},
        {"abc": "C", "products": 0, "gmv": 0},
    ]


def test_empty_period(tmp_path: Path) -> None:
    df = product_sales(_hand_shop(tmp_path), start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2))
    assert df.empty and "abc" in df.columns


def test_abc_boundaries() -> None:
    # 80 of 95 before the third value is 84 %: B; a zero value is C; 80 of 100 is not under 80 %.
    assert abc_classes([50, 30, 15, 0]) == ["A", "A", "B", "C"]
    assert abc_classes([50, 30, 15, 5]) == ["A", "A", "B", "C"]
    assert abc_classes([100]) == ["A"]
    assert abc_classes([]) == []


def test_daily_units_per_sku(tmp_path: Path) -> None:
    wh = _hand_shop(tmp_path)
    # 28 days ending 11-16: orders 1, 2, 3 → sku 70: 3 units, 80: 1, 90: 4.
    assert sku_daily_units(wh, as_of=END, days=28) == {70: 3 / 28, 80: 1 / 28, 90: 4 / 28}
    # One day (11-17): order 5 only.
    assert sku_daily_units(wh, as_of=dt.date(2026, 11, 17), days=1) == {80: 1.0}


def test_hourly_gmv_in_shop_hours(tmp_path: Path) -> None:
    wh = _hand_shop(tmp_path)
    hours = hourly_gmv(wh, day=dt.date(2026, 11, 10), timezone="Asia/Shanghai")
    # Order 1 paid 10:00 UTC = 18:00 Shanghai, order 3 02:00 UTC = 10:00.
    expected = [0] * 24
    expected[18], expected[10] = 9_000, 1_000
    assert hours == expected
    assert sum(hourly_gmv(wh, day=dt.date(2026, 11, 11), timezone="Asia/Shanghai")) == 0
    days = [dt.date(2026, 11, 10), dt.date(2026, 11, 12)]
    both = hourly_gmv_days(wh, days=days, timezone="Asia/Shanghai")
    assert both[days[0]] == expected
    assert both[days[1]][18] == 3_000 and sum(both[days[1]]) == 3_000


def test_random_shop_matches_plain_python(tmp_path: Path) -> None:
    rng = random.Random(6)
    orders, lines = [], []
    for oid in range(1, 120):
        placed = at("2026-11-05") + dt.timedelta(hours=rng.randrange(0, 24 * 16))
        paid = placed + dt.timedelta(minutes=rng.randrange(1, 90)) if rng.random() < 0.8 else None
        orders.append(order(oid, rng.randrange(1, 30), paid, 0, placed=placed))
        for pid in rng.sample(range(1, 12), rng.randrange(1, 4)):
            qty = rng.randrange(1, 5)
            lines.append(_line(oid, pid, qty, qty * rng.randrange(100, 5_000), placed))
    wh = _shop(tmp_path, orders, lines)
    paid_in = {
        o["order_id"]
        for o in orders
        if o["paid_at"] is not None and START <= o["paid_at"].astimezone(SHOP_TZ).date() <= END
    }
    expect: dict[int, list[int]] = {}
    buyers: dict[int, set[int]] = {}
    for li in lines:
        if li["order_id"] in paid_in:
            row = expect.setdefault(li["product_id"], [0, 0])
            row[0] += li["total"]
            row[1] += li["quantity"]
            buyers.setdefault(li["product_id"], set()).add(li["order_id"])
    df = product_sales(wh, start=START, end=END)
    got = {r.product_id: [r.gmv, r.units, r.orders] for r in df.itertuples()}
    assert got == {p: [g, u, len(buyers[p])] for p, (g, u) in expect.items()}
    ranked = sorted(expect.items(), key=lambda kv: (-kv[1][0], kv[0]))
    total = sum(g for g, _ in expect.values())
    classes, before = [], 0
    for _, (g, _) in ranked:
        share = before / total
        classes.append("A" if share < 0.8 else "B" if share < 0.95 else "C")
        before += g
    assert df["abc"].tolist() == classes
