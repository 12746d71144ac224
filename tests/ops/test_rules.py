"""Rules as data: validation at save time, and the conditions on hand-made daily series."""

from __future__ import annotations

import datetime as dt

import pytest

from shopops.ops.alerts.defaults import DEFAULT_RULES
from shopops.ops.alerts.errors import InvalidRule
from shopops.ops.alerts.rules import can_move, holds, lookback_days, measure
from shopops.ops.alerts.schemas import Condition
from shopops.ops.alerts.service import parse_rule

D = dt.date(2026, 11, 30)  # a Monday

BASE = {
    "code": "r1",
    "name_zh": "测试",
    "name_en": "Test",
    "metric": "uv",
    "condition": {"kind": "threshold", "op": "<", "value": 100},
    "level": 1,
    "playbook": {"playbook_zh": "做点什么", "playbook_en": "Do something"},
}


def series(values: list[float | None]) -> dict[dt.date, float | None]:
    """values[-1] is day D, values[-2] the day before..."""
    return {D - dt.timedelta(days=len(values) - 1 - i): v for i, v in enumerate(values)}


def test_every_default_rule_validates_and_two_wait_for_data():
    specs = [parse_rule(r) for r in DEFAULT_RULES]
    waiting = sorted(s.code for s in specs if not s.available())
    assert waiting == ["complaint_rate_high", "sentiment_down"]
    assert {s.level for s in specs} == {1, 2, 3}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"metric": "visits_per_hour"}, "unknown metric"),
        ({"metric": "uv/nope"}, "unknown metric"),
        ({"filters": {"planet": ["mars"]}}, "unknown dimension"),
        ({"metric": "conversion_rate", "filters": {"carrier": "sf"}}, "cannot be filtered"),
        ({"attribute_by": ["carrier"]}, "cannot be broken down"),
        (
            {
                "metric": "conversion_rate",
                "condition": {"kind": "threshold", "op": "<", "value": 2.5},
            },
            "ratio",
        ),
        ({"condition": {"kind": "threshold", "op": "<", "value": -1}}, "never"),
        (
            {"condition": {"kind": "change", "op": "<", "value": -1.2, "compare": "previous"}},
            "−100%",
        ),
        ({"condition": {"kind": "change", "op": "<", "value": -0.1}}, "compare"),
        ({"level": 4}, "level"),
        ({"code": "Bad Code"}, "code"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(change, fragment):
    with pytest.raises(InvalidRule) as exc:
        parse_rule({**BASE, **change})
    assert fragment in exc.value.message
    assert exc.value.status_code == 422


def test_threshold_and_consecutive_days():
    c = Condition(kind="threshold", op="<", value=100, consecutive=3)
    assert holds(c, series([90, 80, 70]), D) is True
    assert holds(c, series([120, 80, 70]), D) is False
    assert holds(c, series([None, 80, 70]), D) is None  # one day cannot be judged
    assert lookback_days(c) == 2


def test_change_against_previous_same_weekday_and_baseline():
    prev = Condition(kind="change", op="<", value=-0.15, compare="previous")
    assert measure(prev, series([200, 160]), D) == (160, 200, pytest.approx(-0.2))
    assert holds(prev, series([200, 175]), D) is False  # −12.5%
    week = Condition(kind="change", op="<", value=-0.15, compare="same_weekday")
    vals = [100.0] + [999.0] * 6 + [80.0]  # a week ago 100, today 80: −20%
    assert holds(week, series(vals), D) is True
    base = Condition(kind="change", op="<", value=-0.15, compare="baseline", baseline_weeks=2)
    # Same weekday two and one weeks ago: 100 and 120 → mean 110; today 90: −18.2%.
    vals = [100.0] + [5.0] * 6 + [120.0] + [5.0] * 6 + [90.0]
    value, b, tested = measure(base, series(vals), D)
    assert (value, b) == (90.0, 110.0)
    assert tested == pytest.approx(90 / 110 - 1)
    assert holds(base, series(vals), D) is True
    assert lookback_days(base) == 14


def test_life_cycle():
    assert can_move("open", "acknowledged") and can_move("open", "resolved")
    assert can_move("acknowledged", "resolved")
    assert not can_move("resolved", "open") and not can_move("acknowledged", "open")
