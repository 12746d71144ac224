"""Periods: parsing, buckets, previous period and last year, bad input."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.analytics.periods import (
    InvalidGrain,
    InvalidPeriod,
    Period,
    check_grain,
    parse_period,
    shop_today,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2026-11-11", D(2026, 11, 11), D(2026, 11, 11), "day"),
        ("2026-W45", D(2026, 11, 2), D(2026, 11, 8), "week"),
        ("2026-w01", D(2025, 12, 29), D(2026, 1, 4), "week"),
        ("2026-11", D(2026, 11, 1), D(2026, 11, 30), "month"),
        ("2024-2", D(2024, 2, 1), D(2024, 2, 29), "month"),
        ("2026-Q4", D(2026, 10, 1), D(2026, 12, 31), "quarter"),
        ("2026-q1", D(2026, 1, 1), D(2026, 3, 31), "quarter"),
        ("2026", D(2026, 1, 1), D(2026, 12, 31), "year"),
        ("2026-11-01..2026-11-15", D(2026, 11, 1), D(2026, 11, 15), "range"),
        (" 2026-11-01 .. 2026-11-01 ", D(2026, 11, 1), D(2026, 11, 1), "range"),
    ],
)
def test_parse(text, start, end, kind):
    p = parse_period(text)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert parse_period(p.label) == p


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", D(2026, 11, 12), D(2026, 11, 12)),
        ("yesterday", D(2026, 11, 11), D(2026, 11, 11)),
        ("last-7-days", D(2026, 11, 5), D(2026, 11, 11)),
        ("LAST-1-DAYS", D(2026, 11, 11), D(2026, 11, 11)),
        ("this-month", D(2026, 11, 1), D(2026, 11, 12)),
        ("last-month", D(2026, 10, 1), D(2026, 10, 31)),
        ("this-week", D(2026, 11, 9), D(2026, 11, 12)),
    ],
)
def test_relative(text, start, end):
    p = parse_period(text, today=D(2026, 11, 12))
    assert (p.start, p.end) == (start, end)


def test_shop_today_is_in_the_shop_time_zone():
    late = dt.datetime(2026, 11, 10, 16, 30, tzinfo=dt.UTC)  # 00:30 on 11-11 in Shanghai
    assert shop_today("Asia/Shanghai", late) == D(2026, 11, 11)
    assert shop_today("UTC", late) == D(2026, 11, 10)


def test_previous_and_last_year():
    assert parse_period("2026-11-11").previous() == parse_period("2026-11-10")
    assert parse_period("2026-03").previous() == parse_period("2026-02")
    assert parse_period("2026-01").previous() == parse_period("2025-12")
    assert parse_period("2026-Q1").previous() == parse_period("2025-Q4")
    assert parse_period("2026").previous() == parse_period("2025")
    assert parse_period("2026-W01").previous() == parse_period("2025-W52")
    r = parse_period("2026-11-01..2026-11-15")
    assert r.previous() == Period(D(2026, 10, 17), D(2026, 10, 31), "range")
    assert parse_period("2026-11-11").last_year() == parse_period("2025-11-11")
    assert parse_period("2024-02-29").last_year() == parse_period("2023-02-28")
    assert parse_period("2024-02").last_year() == parse_period("2023-02")
    assert parse_period("2026-W45").last_year() == parse_period("2025-W45")
    assert parse_period("2021-W10").last_year() == parse_period("2020-W10")
    assert parse_period("2026-W53").last_year() == parse_period("2025-W52")  # 2025 has 52


def test_buckets():
    p = parse_period("2026-11-04..2026-12-02")
    weeks = p.buckets("week")
    assert weeks[0] == Period(D(2026, 11, 4), D(2026, 11, 8), "range")  # clipped Wed–Sun
    assert weeks[1] == parse_period("2026-W46")
    assert weeks[-1] == Period(D(2026, 11, 30), D(2026, 12, 2), "range")
    months = p.buckets("month")
    assert [(b.start, b.end) for b in months] == [
        (D(2026, 11, 4), D(2026, 11, 30)),
        (D(2026, 12, 1), D(2026, 12, 2)),
    ]
    assert len(parse_period("2026-11").buckets("day")) == 30
    assert parse_period("2026-Q4").buckets("month")[1] == parse_period("2026-11")


@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2098, 1, 1)), st.integers(0, 400))
def test_buckets_cover_the_period_exactly(start, length):
    p = Period(start, start + dt.timedelta(days=length))
    for grain in ("day", "week", "month"):
        buckets = p.buckets(grain)
        assert buckets[0].start == p.start and buckets[-1].end == p.end
        assert sum(b.days for b in buckets) == p.days
        for a, b in itertools.pairwise(buckets):
            assert b.start == a.end + dt.timedelta(days=1)
    prev = p.previous()
    assert prev.end == p.start - dt.timedelta(days=1) and prev.days == p.days


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "2026-13",
        "2026-02-30",
        "2026-W54",
        "2025-W53",
        "2026-Q5",
        "11/11/2026",
        "2026-11-15..2026-11-01",
        "2026-11-01..",
        "last-0-days",
        "last-week-days",
        "tomorrow",
        "0000",
        "2000-01-01..2026-01-01",  # longer than allowed
        "yesterday",  # no today given
    ],
)
def test_bad_periods(text):
    with pytest.raises(InvalidPeriod) as caught:
        parse_period(text)
    assert caught.value.code == "invalid_period"
    assert caught.value.status_code == 422
    assert caught.value.message.startswith("bad period") or "period" in caught.value.message
    assert caught.value.details


def test_bad_grain():
    assert check_grain(None) is None and check_grain("week") == "week"
    with pytest.raises(InvalidGrain) as caught:
        parse_period("2026-11").buckets("hour")
    assert caught.value.code == "invalid_grain"
    assert caught.value.details["valid"] == ["day", "week", "month"]
