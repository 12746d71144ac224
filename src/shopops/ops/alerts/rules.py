"""Pure rules of the alerts domain: statuses and their transitions, the lookback a condition
needs, whether a condition holds on a day of a daily series."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from enum import StrEnum

from shopops.ops.alerts.schemas import Condition


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertKind(StrEnum):
    RULE = "rule"
    ANOMALY = "anomaly"


TRANSITIONS: dict[str, frozenset[str]] = {
    AlertStatus.OPEN: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED}),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.RESOLVED}),
    AlertStatus.RESOLVED: frozenset(),
}

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def can_move(status: str, to: str) -> bool:
    return to in TRANSITIONS.get(status, frozenset())


def lookback_days(c: Condition) -> int:
    """How many days before the first checked day the condition reads."""
    base = {None: 0, "previous": 1, "same_weekday": 7, "baseline": 7 * c.baseline_weeks}
    return base[c.compare] + c.consecutive - 1


def base_value(
    c: Condition,
    series: Mapping[dt.date, float | None],
    day: dt.date,
    skip: frozenset[dt.date] = frozenset(),
) -> float | None:
    """What `day` is compared with: the day before, the same weekday a week before, or the
    mean of the same weekday over the last `baseline_weeks` weeks (missing days skipped).
    Days in `skip` (campaigns) are no base: a promotion's lift is not the norm."""

    def get(d: dt.date) -> float | None:
        return None if d in skip else series.get(d)

    if c.compare == "previous":
        return get(day - dt.timedelta(days=1))
    if c.compare == "same_weekday":
        return get(day - dt.timedelta(days=7))
    if c.compare == "baseline":
        vals = [get(day - dt.timedelta(days=7 * k)) for k in range(1, c.baseline_weeks + 1)]
        got = [v for v in vals if v is not None]
        return sum(got) / len(got) if got else None
    return None


def measure(
    c: Condition,
    series: Mapping[dt.date, float | None],
    day: dt.date,
    skip: frozenset[dt.date] = frozenset(),
) -> tuple[float | None, float | None, float | None]:
    """(value, base, tested quantity) of `day`: the value itself or its relative change."""
    value = series.get(day)
    if c.kind == "threshold":
        return value, None, value
    base = base_value(c, series, day, skip)
    if value is None or not base:
        return value, base, None
    return value, base, value / base - 1


def holds(
    c: Condition,
    series: Mapping[dt.date, float | None],
    day: dt.date,
    skip: frozenset[dt.date] = frozenset(),
) -> bool | None:
    """Whether the condition holds on `day` and the `consecutive − 1` days before it; None
    when any of those days has no value to judge (no traffic, no base)."""
    for k in range(c.consecutive):
        _, _, tested = measure(c, series, day - dt.timedelta(days=k), skip)
        if tested is None:
            return None
        if not OPS[c.op](tested, c.value):
            return False
    return True


def level_of_score(score: float) -> int:
    """Anomalies: |z| ≥ 3.5 → level 1, ≥ 5 → 2, ≥ 8 → 3."""
    z = abs(score)
    return 3 if z >= 8 else 2 if z >= 5 else 1
