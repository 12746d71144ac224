"""Review metrics (avg_rating, review_rate, good/negative review shares) over a warehouse small
enough to count on paper, against hand counts and a plain-Python computation (`REVIEW_REFS`,
which `reference.py` also uses for the main fixture, where no reviews exist).

The story, in shop time (Asia/Shanghai) in November 2026:
- order 1 completed 11-11 10:00; reviewed 11-11: r1 5★ (SKU 101, T恤, photo), r2 4★ (SKU 102);
- order 2 completed 11-11 23:30; r3 1★ submitted 11-12 00:10 (still 11-11 in UTC);
- order 3 completed 11-11 00:05 (11-10 in UTC), never reviewed;
- order 4 completed 11-12 09:00; r4 2★ submitted 11-12 and rejected (the order counts as
  reviewed; the stars do not count);
- order 5 delivered, not completed; r5 3★ (SKU 102) submitted 11-11;
- order 6 completed 11-10; r6 4★ (SKU 101) submitted 11-09, before it completed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.analytics.warehouse_fixture import write_warehouse

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS, evaluate
from shopops.analytics.periods import parse_period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.warehouse import derived

TZ = ZoneInfo("Asia/Shanghai")
CODES = ("reviews", "avg_rating", "review_rate", "good_review_rate", "negative_review_rate")


def _at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{day}T{hhmm}").replace(tzinfo=TZ).astimezone(dt.UTC)


def _day(ts: dt.datetime) -> dt.date:
    return ts.astimezone(TZ).date()


# --- the plain-Python definitions -------------------------------------------------------------


def _div(a: float, b: float) -> float | None:
    return None if not b else a / b


def _kept(r: Any) -> list[dict[str, Any]]:
    return [
        x
        for x in r.rows.get("fact_reviews", [])
        if r.inside(x["date"]) and x["status"] not in (None, "rejected")
    ]


def _completed(r: Any) -> list[dict[str, Any]]:
    return [
        o
        for o in r.rows.get("fact_orders", [])
        if o.get("completed_at") is not None and r.inside(_day(o["completed_at"]))
    ]


def _review_rate(r: Any) -> float | None:
    reviewed = {x["order_id"] for x in r.full.get("fact_reviews", [])}
    done = _completed(r)
    return _div(sum(1 for o in done if o["order_id"] in reviewed), len(done))


REVIEW_REFS: dict[str, Callable[[Any], Any]] = {
    "reviews": lambda r: len(_kept(r)),
    "avg_rating": lambda r: _div(sum(x["rating"] for x in _kept(r)), len(_kept(r))),
    "review_rate": _review_rate,
    "good_review_rate": lambda r: _div(sum(x["rating"] >= 4 for x in _kept(r)), len(_kept(r))),
    "negative_review_rate": lambda r: _div(sum(x["rating"] <= 2 for x in _kept(r)), len(_kept(r))),
}


class _Ref:
    def __init__(self, rows: dict[str, list[dict[str, Any]]], lo: dt.date, hi: dt.date) -> None:
        self.rows = self.full = rows
        self.lo, self.hi = lo, hi

    def inside(self, day: dt.date | None) -> bool:
        return day is not None and self.lo <= day <= self.hi


# --- the fixture ---------------------------------------------------------------------------------


def _order(oid: int, placed: dt.datetime, completed: dt.datetime | None) -> dict[str, Any]:
    return {
        "event_id": f"o{oid}", "order_id": oid, "number": f"N{oid}", "customer_id": 1,
        "sales_channel": "storefront", "status": "completed" if completed else "delivered",
        "placed_at": placed, "paid_at": placed, "paid_date": _day(placed),
        "completed_at": completed, "total": 10000, "paid_amount": 10000, "units": 1,
        "province": "广东", "date": _day(placed), "updated_seq": oid,
    }  # fmt: skip


def _review(
    rid: int, oid: int, sku: int, stars: int, at: dt.datetime, status: str = "published"
) -> dict[str, Any]:
    return {
        "event_id": f"r{rid}", "review_id": rid, "order_id": oid, "line_id": rid * 10,
        "customer_id": 1, "product_id": sku * 10, "sku_id": sku, "rating": stars,
        "photo_count": 1 if rid == 1 else 0, "has_photos": rid == 1, "followed_up": False,
        "status": status, "submitted_at": at, "date": _day(at), "updated_seq": 100 + rid,
    }  # fmt: skip


def build_rows() -> dict[str, list[dict[str, Any]]]:
    placed = _at("11-01", "12:00")
    return {
        "dim_product": [
            {"sku_id": 101, "product_id": 1010, "category": "T恤", "top_category": "服装"},
            {"sku_id": 102, "product_id": 1020, "category": "外套", "top_category": "服装"},
        ],
        "dim_customer": [{"customer_id": 1, "tier": "gold"}],
        "fact_orders": [
            _order(1, placed, _at("11-11", "10:00")),
            _order(2, placed, _at("11-11", "23:30")),
            _order(3, placed, _at("11-11", "00:05")),
            _order(4, placed, _at("11-12", "09:00")),
            _order(5, placed, None),
            _order(6, placed, _at("11-10", "12:00")),
        ],
        "fact_reviews": [
            _review(1, 1, 101, 5, _at("11-11", "11:00")),
            _review(2, 1, 102, 4, _at("11-11", "11:00")),
            _review(3, 2, 101, 1, _at("11-12", "00:10")),
            _review(4, 4, 102, 2, _at("11-12", "10:00"), status="rejected"),
            _review(5, 5, 102, 3, _at("11-11", "20:00"), status="pending"),
            _review(6, 6, 101, 4, _at("11-09", "09:00")),
        ],
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("reviews_wh")
    rows = write_warehouse(root, build_rows())
    return Warehouse(root, schemas=READ_SCHEMAS), rows


def _same(actual: Any, wanted: Any) -> bool:
    if actual is None or wanted is None:
        return actual is wanted
    return math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-12)


# Counted on paper from the story above.
HAND = {
    "2026-11-11": {
        "reviews": 3, "avg_rating": 4.0, "review_rate": 2 / 3,
        "good_review_rate": 2 / 3, "negative_review_rate": 0.0,
    },
    "2026-11-12": {
        "reviews": 1, "avg_rating": 1.0, "review_rate": 1.0,
        "good_review_rate": 0.0, "negative_review_rate": 1.0,
    },
    "2026-11-10": {
        "reviews": 0, "avg_rating": None, "review_rate": 1.0,
        "good_review_rate": None, "negative_review_rate": None,
    },
    "2026-11-09..2026-11-12": {
        "reviews": 5, "avg_rating": 17 / 5, "review_rate": 4 / 5,
        "good_review_rate": 3 / 5, "negative_review_rate": 1 / 5,
    },
    "2024-02-29": {
        "reviews": 0, "avg_rating": None, "review_rate": None,
        "good_review_rate": None, "negative_review_rate": None,
    },
}  # fmt: skip


def test_the_registry_defines_them_in_its_form() -> None:
    for code in CODES:
        m = METRICS[code]
        assert m.available and m.group == "售后库存服务" and m.name_zh and m.formula
    assert METRICS["negative_review_rate"].good_direction == "down"
    assert "category" in METRICS["avg_rating"].dims
    assert "sales_channel" in METRICS["review_rate"].dims


@pytest.mark.parametrize("text", list(HAND))
def test_values_equal_the_hand_count_and_the_reference(warehouse, text: str) -> None:
    wh, rows = warehouse
    period = parse_period(text)
    result = evaluate(wh, list(CODES), period, compare=())
    for code in CODES:
        got = result[code].value
        assert _same(got, HAND[text][code]), (code, got, HAND[text][code])
        wanted = REVIEW_REFS[code](_Ref(rows, period.start, period.end))
        assert _same(got, wanted), (code, got, wanted)


@pytest.mark.parametrize("text", list(HAND))
def test_through_the_completion_lag_summary_the_values_stay(tmp_path: Path, text: str) -> None:
    rows = write_warehouse(tmp_path, build_rows())
    assert "completion_lag" in derived.refresh_derived(tmp_path)
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    lags = [
        (o["completed_at"].astimezone(dt.UTC).date() - o["date"]).days
        for o in rows["fact_orders"]
        if o["completed_at"] is not None
    ]
    found = wh.derived("completion_lag")
    assert found is not None
    assert found[1] == {"min_lag_days": min(lags), "max_lag_days": max(lags)}
    result = evaluate(wh, list(CODES), parse_period(text), compare=())
    for code in CODES:
        assert _same(result[code].value, HAND[text][code]), code


def test_previous_period_and_category_breakdown(warehouse) -> None:
    wh, _ = warehouse
    period = parse_period("2026-11-11")
    result = evaluate(wh, ["avg_rating", "reviews"], period, by="category", compare=("previous",))
    assert _same(result["avg_rating"].previous, None)  # 11-10: no review submitted
    by = {row["key"]: row["value"] for row in result["avg_rating"].breakdown}
    assert by == {"T恤": 5.0, "外套": 3.5}  # r1 | r2, r5
    counts = {row["key"]: row["value"] for row in result["reviews"].breakdown}
    assert counts == {"T恤": 1, "外套": 2}


def test_an_old_warehouse_without_reviews_reads_as_empty(tmp_path: Path) -> None:
    rows = build_rows()
    del rows["fact_reviews"]
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    write_warehouse(tmp_path, rows)
    result = evaluate(wh, list(CODES), parse_period("2026-11-11"), compare=())
    assert result["reviews"].value == 0 and result["avg_rating"].value is None
    assert result["review_rate"].value == 0.0  # three completed, none reviewed
