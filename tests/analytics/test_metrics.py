"""Every metric against an independent plain-Python computation over the hand-built fixture:
totals, comparisons, series, breakdowns, filters, edge cases and bad input."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from tests.analytics.reference import METRIC_REFS, expected, restrict
from tests.analytics.warehouse_fixture import write_warehouse

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import DIMENSIONS, METRICS, evaluate
from shopops.analytics.periods import parse_period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.errors import ShopOpsError

AVAILABLE = [m.code for m in METRICS.values() if m.available]
PERIODS = [
    "2026-11-11",
    "2026-11-10",
    "2026-11-12",
    "2026-11-09..2026-11-12",
    "2026-11",
    "2026-W46",
    "2025-11-11",
    "2026-10",
    "2024-02-29",  # nothing happened: 0 and None, never an error
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("wh")
    rows = write_warehouse(root)
    return Warehouse(root, schemas=READ_SCHEMAS), rows


def same(actual, wanted) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-9)


def test_registry_has_the_contract():
    assert len(METRICS) >= 30
    must = [
        "uv",
        "pv",
        "sessions",
        "pv_per_uv",
        "avg_session_seconds",
        "bounce_rate",
        "new_visitor_share",
        "natural_traffic_share",
        "paid_traffic_share",
        "product_view_uv",
        "cart_uv",
        "add_to_cart_rate",
        "order_buyers",
        "buyers",
        "conversion_rate",
        "order_to_pay_rate",
        "payment_success_rate",
        "gmv",
        "paid_orders",
        "aov",
        "avg_order_value",
        "units_per_order",
        "uv_value",
        "gross_profit",
        "gross_margin",
        "discount_share",
        "coupon_redemption_rate",
        "hit_product_share",
        "new_buyers",
        "returning_buyers",
        "returning_buyer_share",
        "repurchase_rate",
        "cac",
        "roi",
        "refund_rate",
        "return_rate",
        "avg_delivery_hours",
        "stockout_rate",
        "turnover_days",
        "complaint_rate",
        "csat",
    ]
    assert set(must) <= set(METRICS)
    for m in METRICS.values():
        assert m.name_zh and m.name_en and m.formula
        assert m.group in ("流量", "转化", "客单价", "复购", "售后库存服务")
        assert m.unit in ("count", "fen", "ratio", "seconds", "hours", "days")
        assert m.good_direction in ("up", "down")
    # Every available metric has an independent check below.
    assert set(AVAILABLE) == set(METRIC_REFS)


@pytest.mark.parametrize("text", PERIODS)
def test_every_metric_matches_the_reference(warehouse, text):
    wh, rows = warehouse
    period = parse_period(text)
    result = evaluate(wh, None, period)
    assert set(result.results) == set(AVAILABLE)
    wrong = {}
    for code in AVAILABLE:
        r = result[code]
        checks = {
            "value": (r.value, expected(code, rows, period.start, period.end)),
            "previous": (
                r.previous,
                expected(code, rows, period.previous().start, period.previous().end),
            ),
            "last_year": (
                r.last_year,
                expected(code, rows, period.last_year().start, period.last_year().end),
            ),
        }
        for what, (actual, wanted) in checks.items():
            if not same(actual, wanted):
                wrong[f"{code}.{what}"] = (actual, wanted)
    assert not wrong


def test_hand_counted_day(warehouse):
    """A few numbers counted on paper for 2026-11-11 (see the fixture's story)."""
    wh, _ = warehouse
    r = evaluate(
        wh,
        "uv,sessions,bounce_rate,gmv,buyers,new_buyers,repurchase_rate,"
        "refund_amount,avg_delivery_hours,return_rate,natural_traffic_share",
        parse_period("2026-11-11"),
    )
    assert r["uv"].value == 5  # 1, 2 (after midnight), anon-x, anon-y, 3
    assert r["sessions"].value == 7  # s3 s4 s8 s9 s10 s11 s12 (s5 started the day before)
    assert r["bounce_rate"].value == pytest.approx(3 / 7)
    assert r["gmv"].value == 11000 + 3500 + 6000 + 8500  # 1009 is paid after midnight
    assert r["buyers"].value == 4
    assert r["new_buyers"].value == 2  # 3 and 5; 1 bought on 11-10, 2 last year
    assert r["repurchase_rate"].value == 0
    assert r["refund_amount"].value == 6000 + 1000  # same-day refund + shipping refund
    assert r["avg_delivery_hours"].value == pytest.approx((24 + 12 + 10.5) / 3)
    assert r["return_rate"].value == pytest.approx(1 / 8)
    assert r["natural_traffic_share"].value == pytest.approx(3 / 5)
    two_days = evaluate(wh, "repurchase_rate,new_buyers", parse_period("2026-11-10..2026-11-11"))
    assert two_days["repurchase_rate"].value == pytest.approx(1 / 4)  # customer 1
    assert two_days["new_buyers"].value == 3


def test_sessions_across_midnight_count_on_their_start_day(warehouse):
    wh, _ = warehouse
    r10 = evaluate(wh, "sessions,avg_session_seconds", parse_period("2026-11-10"), compare=())
    # s2 (15 min) and s5 (23:50 → 00:15 next day, 25 min) both start on 11-10.
    assert r10["sessions"].value == 2
    assert r10["avg_session_seconds"].value == pytest.approx((900 + 1500) / 2)


def test_events_before_the_first_order_make_an_old_visitor(warehouse):
    wh, _ = warehouse
    first = evaluate(wh, "new_visitors,uv", parse_period("2026-11-09"), compare=())
    assert first["uv"].value == first["new_visitors"].value == 1  # anonymous 'anon-a'
    r = evaluate(wh, "new_visitors,uv,new_buyers", parse_period("2026-11-10"), compare=())
    # customer 1 first came anonymously on 11-09 (merged into them), customer 2 last year.
    assert r["uv"].value == 2
    assert r["new_visitors"].value == 0
    assert r["new_buyers"].value == 1  # customer 1's first order


def test_series_per_grain(warehouse):
    wh, rows = warehouse
    period = parse_period("2026-11-09..2026-11-18")
    result = evaluate(wh, "gmv,uv,conversion_rate,dau", period, grain="day", compare=())
    for code in ("gmv", "uv", "conversion_rate", "dau"):
        series = result[code].series
        assert [p["bucket"] for p in series] == [d.label for d in period.buckets("day")]
        for p in series:
            day = dt.date.fromisoformat(p["start"])
            assert same(p["value"], expected(code, rows, day, day)), (code, day)
    weekly = evaluate(wh, "gmv,new_buyers,aov", period, grain="week", compare=())
    buckets = period.buckets("week")
    assert [p["bucket"] for p in weekly["gmv"].series] == [b.label for b in buckets]
    for code in ("gmv", "new_buyers", "aov"):
        for p, b in zip(weekly[code].series, buckets, strict=True):
            assert same(p["value"], expected(code, rows, b.start, b.end)), (code, b)
    monthly = evaluate(wh, "gmv", parse_period("2026-Q4"), grain="month", compare=())
    assert [p["value"] for p in monthly["gmv"].series] == [
        expected("gmv", rows, b.start, b.end) for b in parse_period("2026-Q4").buckets("month")
    ]


BREAKDOWNS = [
    (
        "channel",
        [
            "uv",
            "gmv",
            "conversion_rate",
            "cac",
            "roi",
            "sessions",
            "bounce_rate",
            "natural_traffic_share",
            "gross_profit",
            "new_buyers",
            "ad_spend",
        ],
    ),
    ("sales_channel", ["gmv", "buyers", "order_buyers", "order_to_pay_rate", "gross_margin"]),
    ("pay_channel", ["payment_success_rate"]),
    ("province", ["gmv", "uv", "sessions"]),
    (
        "category",
        [
            "gross_profit",
            "stockout_rate",
            "turnover_days",
            "returned_units",
            "product_view_uv",
            "refund_amount",
        ],
    ),
    ("brand", ["gross_margin", "stockout_rate"]),
    ("role", ["turnover_days"]),
    (
        "tier",
        ["gmv", "new_buyers", "repurchase_rate", "uv", "coupon_redemption_rate", "refund_rate"],
    ),
    ("age_band", ["aov", "payment_success_rate"]),
    ("device", ["uv", "bounce_rate", "avg_session_seconds"]),
    ("carrier", ["avg_delivery_hours", "shipped_units"]),
]


@pytest.mark.parametrize(("dim", "codes"), BREAKDOWNS, ids=[d for d, _ in BREAKDOWNS])
@pytest.mark.parametrize("text", ["2026-11-11", "2026-11-10..2026-11-12"])
def test_breakdowns_match_the_reference(warehouse, dim, codes, text):
    wh, rows = warehouse
    period = parse_period(text)
    prev = period.previous()
    result = evaluate(wh, codes, period, by=dim, compare=("previous",))
    for code in codes:
        got = result[code].breakdown
        assert got, code
        for row in got:
            sliced = restrict(rows, dim, row["key"])
            wanted = expected(code, rows, period.start, period.end, sliced)
            assert same(row["value"], wanted), (code, row["key"], row["value"], wanted)
            wanted_prev = expected(code, rows, prev.start, prev.end, sliced)
            assert same(row["previous"], wanted_prev), (code, row["key"])


def test_filters_equal_the_breakdown_row(warehouse):
    wh, _rows = warehouse
    period = parse_period("2026-11-11")
    by = evaluate(wh, "gmv,uv,conversion_rate", period, by="channel", compare=())
    for row in by["gmv"].breakdown:
        only = evaluate(
            wh, "gmv,uv,conversion_rate", period, filters={"channel": row["key"]}, compare=()
        )
        for code in ("gmv", "uv", "conversion_rate"):
            match = next(r for r in by[code].breakdown if r["key"] == row["key"])
            assert same(only[code].value, match["value"])
    both = evaluate(
        wh, "gmv", period, filters={"channel": ["direct", "organic_search"]}, compare=()
    )
    assert both["gmv"].value == 11000 + 8500 + 3500
    assert evaluate(wh, "gmv", period, filters={"channel": "nowhere"})["gmv"].value == 0


def test_breakdown_by_channel_attributes_orders_to_the_paying_session(warehouse):
    wh, _ = warehouse
    r = evaluate(wh, "gmv,roi,cac", parse_period("2026-11-11"), by="channel", compare=())
    gmv = {row["key"]: row["value"] for row in r["gmv"].breakdown}
    # 1008 (douyin, no tracked visit) counts as direct.
    assert gmv == {"direct": 19500, "organic_search": 3500, "private_domain": 6000}
    cac = {row["key"]: row["value"] for row in r["cac"].breakdown}
    assert cac["paid_search"] == 10000  # customer 5 was acquired by paid search
    assert cac["display"] is None  # spend but no new buyer


def test_comparisons_and_changes(warehouse):
    wh, _rows = warehouse
    r = evaluate(wh, "gmv,stockout_rate", parse_period("2026-11-11"))
    g = r["gmv"]
    assert g.previous == 10000 and g.last_year == 5000 + 9000
    assert g.change == pytest.approx(29000 / 10000 - 1)
    assert g.yoy == pytest.approx(29000 / 14000 - 1)
    assert r["stockout_rate"].last_year is None and r["stockout_rate"].yoy is None
    month = evaluate(wh, "gmv", parse_period("2026-11"), compare=("previous",))
    assert month.previous_period == parse_period("2026-10")
    assert month.last_year_period is None and month["gmv"].last_year is None
    assert month["gmv"].previous == 8000


def test_empty_warehouse_gives_zero_and_none(tmp_path):
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    result = evaluate(wh, None, parse_period("2026-11-11"), grain="day", by=None)
    for r in result.results.values():
        assert r.value in (0, None), r.metric.code
        if r.metric.unit == "ratio":
            assert r.value is None
    assert evaluate(wh, "gmv", parse_period("2026-11-11"), by="channel")["gmv"].breakdown == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"codes": "gmv,nope"}, "unknown_metric"),
        ({"codes": "csat"}, "metric_unavailable"),
        ({"codes": "complaint_rate"}, "metric_unavailable"),
        ({"codes": "gmv", "by": "planet"}, "unknown_dimension"),
        ({"codes": "gmv,stockout_rate", "by": "channel"}, "dimension_not_applicable"),
        ({"codes": "return_rate", "by": "carrier"}, "dimension_not_applicable"),
        ({"codes": "gmv", "filters": {"color": "red"}}, "unknown_dimension"),
        ({"codes": "uv", "filters": {"pay_channel": "alipay"}}, "dimension_not_applicable"),
        ({"codes": "gmv", "filters": {"channel": []}}, "invalid_filter"),
        ({"codes": "gmv", "grain": "hour"}, "invalid_grain"),
        ({"codes": "gmv", "compare": ("yesterday",)}, "invalid_compare"),
    ],
)
def test_bad_input(warehouse, kwargs, code):
    wh, _ = warehouse
    codes = kwargs.pop("codes")
    with pytest.raises(ShopOpsError) as caught:
        evaluate(wh, codes, parse_period("2026-11-11"), **kwargs)
    assert caught.value.code == code
    assert 400 <= caught.value.status_code < 500
    assert caught.value.message
    if code == "unknown_metric":
        assert "gmv" in caught.value.details["valid"]
        assert caught.value.details["unknown"] == ["nope"]
    if code == "unknown_dimension":
        assert set(caught.value.details["valid"]) == set(DIMENSIONS)
    if code == "dimension_not_applicable":
        assert caught.value.details["metrics"]


@pytest.mark.slow
def test_every_metric_has_a_dimension_list_that_works(warehouse):
    """Each (metric, dimension) the registry advertises evaluates."""
    wh, _ = warehouse
    period = parse_period("2026-11-11")
    for dim in DIMENSIONS:
        codes = [m.code for m in METRICS.values() if m.available and dim in m.dims]
        if codes:
            result = evaluate(wh, codes, period, by=dim, compare=())
            assert set(result.results) == set(codes)


SPARK_METRICS = (
    "uv,pv,sessions,bounce_rate,new_visitor_share,natural_traffic_share,gmv,buyers,"
    "new_buyers,repurchase_rate,gross_profit,hit_product_share,payment_success_rate,"
    "avg_delivery_hours,stockout_rate,cac,roi"
)


@pytest.mark.slow
def test_spark_gives_the_same_answers(warehouse):
    pytest.importorskip("pyspark")
    wh, _ = warehouse
    spark = Warehouse(wh.root, backend="pyspark", schemas=READ_SCHEMAS)
    for kwargs in ({"grain": "day"}, {"by": "channel", "compare": ("previous",)}):
        codes = SPARK_METRICS
        if "by" in kwargs:
            codes = "uv,gmv,conversion_rate,roi,cac,sessions"
        period = parse_period("2026-11-10..2026-11-11")
        on_duck = evaluate(wh, codes, period, **kwargs).to_dict()
        on_spark = evaluate(spark, codes, period, **kwargs).to_dict()
        assert on_spark == on_duck
