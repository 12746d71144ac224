"""The loader's first-date summaries (`shopops.warehouse.derived`): what they hold, counted
from the fixture's rows; that metrics read through them equal the reference; and that a
summary older than its facts is ignored (the facts are read instead) until refreshed."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.analytics.reference import expected
from tests.analytics.test_metrics import AVAILABLE, same
from tests.analytics.warehouse_fixture import write_warehouse

from shopops.analytics.analyses.retention import retention
from shopops.analytics.analyses.rfm import rfm
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import parse_period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.warehouse import derived


@pytest.fixture(scope="module")
def summarised(tmp_path_factory):
    root = tmp_path_factory.mktemp("wh-derived")
    rows = write_warehouse(root)
    assert sorted(derived.refresh_derived(root)) == [
        "completion_lag",
        "delivery_lag",
        "first_paid",
        "first_seen",
        "line_refunds",
        "paid_days",
    ]  # no reviews in this fixture: `reviewed_orders` is tested over the reviews one below
    return root, rows


def _first(rows, key, date):
    out: dict = {}
    for r in rows:
        if r.get(key) is not None and r.get(date) is not None:
            out[r[key]] = min(out.get(r[key], r[date]), r[date])
    return out


def test_summaries_hold_each_first_date(summarised):
    root, rows = summarised
    for d, table, key, date in (
        (derived.FIRST_SEEN, "fact_sessions", "person_id", "date"),
        (derived.FIRST_PAID, "fact_orders", "customer_id", "paid_date"),
    ):
        got = pq.read_table(derived.path_of(root, d)).to_pylist()
        assert {r["key"]: r["first_date"] for r in got} == _first(rows[table], key, date)
        assert [r["key"] for r in got] == sorted(r["key"] for r in got)
    _, info = derived.current(root, derived.FIRST_PAID)
    lags = [(r["paid_date"] - r["date"]).days for r in rows["fact_orders"] if r["paid_date"]]
    assert info["max_lag_days"] == max(lags) == 1  # order 1009: placed 23:58, paid 00:01
    assert info["min_lag_days"] == min(lags) == 0
    _, info = derived.current(root, derived.DELIVERY_LAG)
    lags = [
        (r["delivered_at"].astimezone(dt.UTC).date() - r["date"]).days
        for r in rows["fact_shipments"]
        if r["delivered_at"]
    ]
    assert info["max_lag_days"] == max(lags) > 0 and info["min_lag_days"] == min(lags)


def test_paid_days_hold_each_customers_paid_days(summarised):
    root, rows = summarised
    want: dict = {}
    for r in rows["fact_orders"]:
        if r.get("customer_id") is None or r.get("paid_date") is None:
            continue
        n, m = want.get((r["customer_id"], r["paid_date"]), (0, None))
        if r.get("paid_amount") is not None:
            m = (m or 0) + r["paid_amount"]
        want[(r["customer_id"], r["paid_date"])] = (n + 1, m)
    got = pq.read_table(derived.path_of(root, derived.PAID_DAYS)).to_pylist()
    assert {(g["customer_id"], g["paid_date"]): (g["orders"], g["amount"]) for g in got} == want
    keys = [(g["customer_id"], g["paid_date"]) for g in got]
    assert keys == sorted(keys)


def test_reviewed_orders_hold_the_reviews_and_give_the_hand_counts(tmp_path):
    from tests.analytics import test_reviews_metrics as tr

    rows = write_warehouse(tmp_path, tr.build_rows())
    assert "reviewed_orders" in derived.refresh_derived(tmp_path)
    got = pq.read_table(derived.path_of(tmp_path, derived.REVIEWED_ORDERS)).column("order_id")
    assert got.to_pylist() == sorted({r["order_id"] for r in rows["fact_reviews"]})
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    assert wh.derived("reviewed_orders") is not None
    for text, hand in tr.HAND.items():
        result = evaluate(wh, list(tr.CODES), parse_period(text), compare=())
        assert all(tr._same(result[c].value, hand[c]) for c in tr.CODES), text


def test_line_refunds_hold_each_lines_refunds(summarised):
    root, rows = summarised
    want: dict = {}
    for r in rows["fact_refunds"]:
        if r.get("line_id") is None:
            continue
        a, c = want.get(r["line_id"], (0, 0))
        want[r["line_id"]] = (a + r["amount"], c + r["cost"])
    got_lines = pq.read_table(derived.path_of(root, derived.LINE_REFUNDS)).to_pylist()
    assert {g["line_id"]: (g["amount"], g["cost"]) for g in got_lines} == want and want
    assert [g["line_id"] for g in got_lines] == sorted(want)


@pytest.mark.parametrize("as_of", [dt.date(2026, 11, 11), dt.date(2026, 11, 30)])
def test_rfm_and_retention_through_paid_days_equal_the_facts(summarised, tmp_path, as_of):
    root, _ = summarised
    bare = tmp_path / "bare"
    shutil.copytree(root, bare)
    shutil.rmtree(bare / derived.DERIVED)
    via, facts = (Warehouse(r, schemas=READ_SCHEMAS) for r in (root, bare))
    assert via.derived("paid_days") is not None and facts.derived("paid_days") is None
    a, b = rfm(via, as_of=as_of), rfm(facts, as_of=as_of)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.acca, b.acca)
    assert a.medians == b.medians and len(a.customers) > 0
    for grain in ("month", "week"):
        for mode in ("first_time", "recurring"):
            ra, rb = (
                retention(w, start=dt.date(2025, 11, 1), end=as_of, grain=grain, mode=mode)
                for w in (via, facts)
            )
            assert ra.to_dict() == rb.to_dict() and ra.rows


def test_refresh_is_a_no_op_while_the_facts_stay(summarised):
    root, _ = summarised
    assert derived.refresh_derived(root) == []


@pytest.mark.parametrize("text", ["2026-11-11", "2026-11-12", "2026-11", "2026-W46", "2025-11-11"])
def test_metrics_through_the_summaries_equal_the_reference(summarised, text):
    root, rows = summarised
    wh = Warehouse(root, schemas=READ_SCHEMAS)
    assert all(wh.derived(d.name) is not None for d in derived.ALL if d.source != "fact_reviews")
    period = parse_period(text)
    result = evaluate(wh, None, period)
    wrong = {}
    for code in AVAILABLE:
        r = result[code]
        for what, actual, p in (
            ("value", r.value, period),
            ("previous", r.previous, period.previous()),
            ("last_year", r.last_year, period.last_year()),
        ):
            wanted = expected(code, rows, p.start, p.end)
            if not same(actual, wanted):
                wrong[f"{code}.{what}"] = (actual, wanted)
    assert not wrong


def test_a_summary_older_than_its_facts_is_ignored(summarised, tmp_path):
    root = tmp_path / "wh"
    shutil.copytree(summarised[0], root)
    rows = summarised[1]
    wh = Warehouse(root, schemas=READ_SCHEMAS)
    # copytree keeps mtimes: the copy's summaries still match its facts.
    assert wh.derived("first_paid") is not None
    # Customer 3's first payment (11-11) moved to a new, earlier order on 11-05: the stale
    # summary would still say 11-11 and make customer 3 a new buyer on 11-11.
    orders = [dict(r) for r in rows["fact_orders"]]
    first3 = min(
        (r for r in orders if r["customer_id"] == 3 and r["paid_date"]), key=lambda r: r["paid_at"]
    )
    early = dict(first3, order_id=99_001, number="E99001", event_id="early-3")
    early["date"] = early["paid_date"] = dt.date(2026, 11, 5)
    early["placed_at"] = early["paid_at"] = first3["paid_at"] - dt.timedelta(days=6)
    same_day = [r for r in orders if r["date"] == early["date"]]
    day = root / "fact_orders" / "date=2026-11-05"
    write_warehouse(root, {"fact_orders": [*same_day, early]})
    assert wh.derived("first_paid") is None
    period = parse_period("2026-11-11")
    got = evaluate(wh, ["new_buyers"], period)["new_buyers"].value
    all_orders = {**{t: rows[t] for t in rows}, "fact_orders": [*rows["fact_orders"], early]}
    assert got == expected("new_buyers", all_orders, period.start, period.end)
    assert got == expected("new_buyers", rows, period.start, period.end) - 1
    # Refreshed, the summary is used again and gives the same answer.
    assert derived.refresh_derived(root) == ["first_paid", "completion_lag", "paid_days"]
    assert wh.derived("first_paid") is not None
    assert evaluate(wh, ["new_buyers"], period)["new_buyers"].value == got
    os.utime(day / "part-0.parquet", ns=(1, 1))  # any change of a file's time: stale again
    assert wh.derived("first_paid") is None
