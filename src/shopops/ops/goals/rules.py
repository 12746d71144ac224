"""Pure rules of goals: the period a day falls in, pace and forecast.

Additive metrics (sums and counts: GMV, UV, orders) accrue over a period, so their pace
compares the actual so far with the target times the elapsed share of the period, and the
forecast projects the period-to-date value by a weekday-aware run rate. Ratios (conversion,
repurchase, shares) do not accrue: the period-to-date value is both their pace measure
(compared with the target as is) and their forecast.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from shopops.analytics.metrics import Metric
from shopops.analytics.periods import Period, day_period, month_period, year_period

PERIOD_KINDS = ("day", "month", "quarter", "year")


def goal_period(kind: str, day: dt.date) -> Period:
    """The period of `kind` that holds `day`."""
    if kind == "day":
        return day_period(day)
    if kind == "month":
        return month_period(day.year, day.month)
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        last = month_period(day.year, first + 2)
        return Period(dt.date(day.year, first, 1), last.end, "quarter")
    if kind == "year":
        return year_period(day.year)
    raise ValueError(kind)


def is_additive(metric: Metric) -> bool:
    """A plain measure counted or summed (no formula): it accrues over the period."""
    return metric.compute is None and metric.unit in ("count", "fen")


def elapsed_days(period: Period, as_of: dt.date) -> int:
    """Days of `period` up to and including `as_of` (0 before it starts)."""
    if as_of < period.start:
        return 0
    return (min(as_of, period.end) - period.start).days + 1


def run_rate_forecast(
    actual: float, daily: Mapping[dt.date, float | None], period: Period, as_of: dt.date
) -> float | None:
    """Project `actual` to the period end: each remaining day is expected like the mean of
    the elapsed days of its weekday (all elapsed days when that weekday has not been seen);
    the projection scales `actual` by (elapsed + expected remaining) / elapsed daily totals,
    so distinct counts (UV over a month) scale in proportion rather than by a plain sum.
    Days before the first active one are no data (the shop had not opened), not quiet days."""
    seen = {d: float(v) for d, v in sorted(daily.items()) if v is not None and d <= as_of}
    first = next((d for d, v in seen.items() if v > 0), None)
    seen = {d: v for d, v in seen.items() if first is not None and d >= first}
    done = sum(seen.values())
    if not seen or done <= 0:
        return None
    by_weekday: dict[int, list[float]] = defaultdict(list)
    for d, v in seen.items():
        by_weekday[d.weekday()].append(v)
    mean_all = done / len(seen)
    rest = 0.0
    d = as_of + dt.timedelta(days=1)
    while d <= period.end:
        vals = by_weekday.get(d.weekday())
        rest += sum(vals) / len(vals) if vals else mean_all
        d += dt.timedelta(days=1)
    return actual * (done + rest) / done


@dataclass(frozen=True)
class Pace:
    status: str  # on_track | behind | no_data
    expected: float | None  # what the actual should be by now
    share_elapsed: float


def pace(
    metric: Metric, target: float, actual: float | None, period: Period, as_of: dt.date
) -> Pace:
    """On track or behind. Additive: actual vs target × elapsed share; ratios: actual vs
    target. A metric whose good direction is down (refund rate) is on track at or below."""
    share = elapsed_days(period, as_of) / period.days
    expected = target * share if is_additive(metric) else target
    if actual is None or share == 0:
        return Pace("no_data", expected, share)
    ok = actual <= expected if metric.good_direction == "down" else actual >= expected
    return Pace("on_track" if ok else "behind", expected, share)


def attainment(metric: Metric, target: float, value: float | None) -> float | None:
    """value / target (how much of the target is met); for down-is-good, target / value."""
    if value is None:
        return None
    if metric.good_direction == "down":
        return None if value == 0 else target / value
    return value / target
