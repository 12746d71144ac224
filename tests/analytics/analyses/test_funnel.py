"""Funnels against an explicit per-person computation written separately here."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.analyses.builders import at, ev

from shopops.analytics.analyses._common import BadWindow, UnknownDimension, UnknownEvent
from shopops.analytics.analyses.funnel import BadParameter, funnel, parse_step

DAY = "2026-11-10"
START = END = dt.date(2026, 11, 10)
STEPS = ["product_view", "add_to_cart", "pay"]


def reference(
    events: list[dict[str, Any]],
    steps: list[str],
    start: dt.date,
    end: dt.date,
    window: dt.timedelta,
) -> tuple[list[int], list[float]]:
    """Per person, in time order: first step-1 event in the period, then each next step's
    first event strictly after the previous step and within the window from step 1."""
    people: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        people.setdefault(e["person_id"], []).append(e)
    counts = [0] * len(steps)
    durations = []
    for rows in people.values():
        rows = sorted(rows, key=lambda r: r["ts_at"])
        entry = next(
            (r for r in rows if r["event"] == steps[0] and start <= r["date"] <= end), None
        )
        if entry is None:
            continue
        t1 = prev = entry["ts_at"]
        reached = 1
        for step in steps[1:]:
            hit = next(
                (r for r in rows if r["event"] == step and prev < r["ts_at"] <= t1 + window),
                None,
            )
            if hit is None:
                break
            prev = hit["ts_at"]
            reached += 1
        for k in range(reached):
            counts[k] += 1
        if reached == len(steps):
            durations.append((prev - t1).total_seconds())
    return counts, durations


def _case_events() -> list[dict[str, Any]]:
    t = at(DAY, 2)
    m = dt.timedelta(minutes=1)
    day = dt.timedelta(days=1)
    return [
        # a: the whole funnel in 20 minutes, from paid search.
        ev("a", "product_view", t, channel="paid_search"),
        ev("a", "add_to_cart", t + 5 * m, channel="paid_search"),
        ev("a", "pay", t + 20 * m, channel="paid_search"),
        # b: steps out of order: the cart before the view does not count.
        ev("b", "add_to_cart", t),
        ev("b", "product_view", t + m),
        ev("b", "pay", t + 2 * m),
        # c: cart exactly at the end of the window counts, pay after it does not.
        ev("c", "product_view", t),
        ev("c", "add_to_cart", t + day),
        ev("c", "pay", t + day + dt.timedelta(seconds=1)),
        # d: repeated views; the funnel starts at the first one (window from there).
        ev("d", "product_view", t),
        ev("d", "product_view", t + 2 * day),
        ev("d", "add_to_cart", t + 2 * day + m),
        # e: first view before the period: enters at its first view inside the period.
        ev("e", "product_view", at("2026-11-09", 2)),
        ev("e", "product_view", t + 3 * m, channel="feed_ads"),
        ev("e", "add_to_cart", t + 4 * m, channel="feed_ads"),
        ev("e", "pay", t + 70 * m, channel="feed_ads"),
        # f: never viewed: not in the funnel.
        ev("f", "add_to_cart", t),
        ev("f", "pay", t + m),
        # g: cart and pay at the same instant: pay is not strictly after the cart.
        ev("g", "product_view", t),
        ev("g", "add_to_cart", t + m),
        ev("g", "pay", t + m),
    ]


def test_hand_counted_case(make_wh):
    events = _case_events()
    wh = make_wh(fact_events=events)
    result = funnel(wh, STEPS, start=START, end=END, window=dt.timedelta(days=1))
    assert result.counts == [6, 4, 2]  # a,b,c,d,e,g view; a,c,e,g cart; a,e pay
    expected, durations = reference(events, STEPS, START, END, dt.timedelta(days=1))
    assert result.counts == expected
    assert durations == [1200.0, 4020.0]
    assert result.median_seconds_to_convert == statistics.median(durations)
    cart, pay = result.steps[1], result.steps[2]
    assert cart.drop_off == 2 and pay.drop_off == 2
    assert cart.conversion == pytest.approx(4 / 6) and pay.conversion_from_previous == 0.5
    assert pay.median_seconds_from_start == statistics.median(durations)
    # The histogram counts every converter once, all within the window.
    assert sum(b["count"] for b in result.histogram) == 2
    assert result.histogram[-1]["to_seconds"] >= 86_400 and result.histogram[0]["count"] == 2


def test_breakdown_by_entry_channel_adds_up(make_wh):
    events = _case_events()
    wh = make_wh(fact_events=events)
    result = funnel(wh, STEPS, start=START, end=END, breakdown="channel")
    by = {k: [s.count for s in v] for k, v in result.groups.items()}
    assert by == {"direct": [4, 2, 0], "paid_search": [1, 1, 1], "feed_ads": [1, 1, 1]}
    totals = [sum(v[k] for v in by.values()) for k in range(3)]
    assert totals == result.counts


def test_repeated_step_needs_a_later_event(make_wh):
    t = at(DAY, 2)
    m = dt.timedelta(minutes=1)
    events = [
        ev("a", "page_view", t),
        ev("b", "page_view", t),
        ev("b", "page_view", t + m),
        ev("c", "page_view", t),
        ev("c", "page_view", t + m),
        ev("c", "page_view", t + 2 * m),
    ]
    wh = make_wh(fact_events=events)
    steps = ["page_view", "page_view", "page_view"]
    result = funnel(wh, steps, start=START, end=END)
    assert result.counts == [3, 2, 1]
    assert result.counts == reference(events, steps, START, END, dt.timedelta(days=1))[0]


def test_step_filters(make_wh):
    t = at(DAY, 2)
    events = [
        ev("a", "product_view", t, device="desktop"),
        ev("a", "pay", t + dt.timedelta(minutes=1)),
        ev("b", "product_view", t, device="mobile"),
        ev("b", "pay", t + dt.timedelta(minutes=1)),
    ]
    wh = make_wh(fact_events=events)
    result = funnel(wh, ["product_view:device=desktop", "pay"], start=START, end=END)
    assert result.counts == [1, 1]
    assert parse_step("product_view:sku_id=5").filters == (("sku_id", 5),)
    with pytest.raises(BadParameter):
        parse_step("product_view:colour=red")
    with pytest.raises(BadParameter):
        parse_step("product_view:sku_id=abc")


def test_empty_and_bad_input(make_wh):
    wh = make_wh()  # no tables at all
    result = funnel(wh, STEPS, start=START, end=END, breakdown="device")
    assert result.counts == [0, 0, 0]
    assert result.steps[1].conversion is None and result.groups == {}
    assert result.median_seconds_to_convert is None
    assert sum(b["count"] for b in result.histogram) == 0
    with pytest.raises(UnknownEvent) as info:
        funnel(wh, ["product_view", "teleport"], start=START, end=END)
    assert info.value.details["events"] == ["teleport"]
    with pytest.raises(UnknownDimension):
        funnel(wh, STEPS, start=START, end=END, breakdown="shoe_size")
    with pytest.raises(BadWindow):
        funnel(wh, STEPS, start=START, end=END, window=dt.timedelta(0))
    with pytest.raises(BadParameter):
        funnel(wh, ["pay"], start=START, end=END)


def test_custom_event_present_in_data_is_accepted(make_wh):
    t = at(DAY, 2)
    wh = make_wh(fact_events=[ev("a", "spin_wheel", t), ev("a", "pay", t + dt.timedelta(1))])
    assert funnel(wh, ["spin_wheel", "pay"], start=START, end=END).counts == [1, 1]


_EVENTS = ["product_view", "add_to_cart", "pay"]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("pqrs"),
            st.sampled_from(_EVENTS),
            st.integers(min_value=0, max_value=60),  # hours after 2026-11-09 20:00 UTC
        ),
        max_size=25,
    ),
    st.integers(min_value=1, max_value=30),
)
def test_random_events_match_reference(make_wh, rows, window_hours):
    base = dt.datetime(2026, 11, 9, 20, tzinfo=dt.UTC)
    events = [ev(p, e, base + dt.timedelta(hours=h)) for p, e, h in rows]
    window = dt.timedelta(hours=window_hours)
    wh = make_wh(fact_events=events)
    result = funnel(wh, _EVENTS, start=START, end=END, window=window)
    expected, durations = reference(events, _EVENTS, START, END, window)
    assert result.counts == expected
    assert all(a >= b for a, b in zip(result.counts, result.counts[1:], strict=False))
    if durations:
        assert result.median_seconds_to_convert == statistics.median(durations)
        assert max(durations) <= window.total_seconds()
