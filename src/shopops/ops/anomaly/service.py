"""Read the warehouse for the alerts: daily series of rule metrics (one evaluation per
filter set), attribution of a day's change across dimensions, the seasonal detector."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS, evaluate
from shopops.analytics.periods import Period
from shopops.ops.anomaly import reads
from shopops.ops.anomaly.rules import (
    Attribution,
    Contribution,
    Score,
    additive_split,
    best_explanation,
    ratio_split,
    seasonal_score,
)

Series = dict[dt.date, float | None]
# Metrics the detector watches besides the rules (no filters), and how far back it looks.
Filters = tuple[tuple[str, tuple[str, ...]], ...]
PAID_SEARCH: Filters = (("channel", ("paid_search",)),)


@dataclass(frozen=True)
class Watch:
    """A metric the detector watches. `units` counts the day's independent draws behind the
    value (visitors, orders), which bounds how calm a day can honestly be expected to be:
    Poisson for counts, binomial for a rate, compound Poisson (order values of CV≈1) for GMV."""

    metric: str
    filters: Filters = ()
    units: str | None = None
    noise: str = "none"  # "poisson" | "binomial" | "compound" | "none"
    # Weekday factors: traffic and sales have a weekly rhythm, an auction price does not.
    seasonal: bool = True

    def relative_floor(self, expected: float, units: float | None) -> float:
        if self.noise == "poisson":
            return 1 / math.sqrt(expected) if expected > 0 else 0.0
        if not units:
            return 0.0
        if self.noise == "binomial":
            return math.sqrt(max(1 - expected, 0) / (expected * units)) if expected > 0 else 0.0
        if self.noise == "compound":
            return math.sqrt(2 / units)
        return 0.0


DETECTOR: tuple[Watch, ...] = (
    Watch("uv", noise="poisson"),
    Watch("conversion_rate", units="uv", noise="binomial"),
    Watch("gmv", units="paid_orders", noise="compound"),
    Watch("paid_orders", noise="poisson"),
    Watch("ad_spend/sessions", PAID_SEARCH, seasonal=False),  # paid-search CPC per visit
)
DETECTOR_METRICS: tuple[tuple[str, Filters], ...] = tuple(
    dict.fromkeys(
        [(w.metric, w.filters) for w in DETECTOR] + [(w.units, ()) for w in DETECTOR if w.units]
    )
)  # type: ignore[misc]
DETECTOR_HISTORY_DAYS = 42
# A single-measure, formula-free metric per measure: how ratio members are read.
_MEASURE_METRIC = {
    m.measures[0]: m.code
    for m in METRICS.values()
    if m.available and m.compute is None and len(m.measures) == 1
}


def _codes(metric: str) -> list[str]:
    return [p.strip() for p in metric.split("/")]


def _combine(values: Sequence[float | int | None]) -> float | None:
    if len(values) == 1:
        return None if values[0] is None else float(values[0])
    num, den = values
    return None if num is None or not den else float(num) / float(den)


def daily_series(
    wh: Warehouse,
    wanted: Iterable[tuple[str, Filters]],
    start: dt.date,
    end: dt.date,
    timezone: str,
) -> dict[tuple[str, tuple], Series]:
    """{(metric expression, filters): {day: value}}, one evaluate() per distinct filter set;
    days before the shop's first activity in the span read None."""
    raw = raw_daily_series(wh, wanted, start, end, timezone)
    return {key: trim_leading(vals) for key, vals in raw.items()}


def raw_daily_series(
    wh: Warehouse,
    wanted: Iterable[tuple[str, Filters]],
    start: dt.date,
    end: dt.date,
    timezone: str,
) -> dict[tuple[str, tuple], Series]:
    """`daily_series` before the leading zeros are trimmed: each day's value is that day's
    alone, so a longer span holds the same value for every day a shorter one does."""
    by_filters: dict[tuple, set[str]] = defaultdict(set)
    items = list(dict.fromkeys(wanted))
    for metric, filters in items:
        by_filters[filters].update(_codes(metric))
    period = Period(start, end)
    out: dict[tuple[str, tuple], Series] = {}
    for filters, codes in by_filters.items():
        cols: dict[str, dict[dt.date, Any]] = {}
        # Simple measures read directly (one small query each); the rest in one evaluation.
        direct = {c for c in codes if reads.can_read_daily(c, dict(filters))}
        for c in direct:
            cols[c] = dict(reads.daily(wh, c, dict(filters), start, end))
        rest = sorted(codes - direct)
        if rest:
            ev = evaluate(
                wh, rest, period, grain="day", filters=dict(filters), compare=(), timezone=timezone
            )
            for c in rest:
                cols[c] = {dt.date.fromisoformat(p["start"]): p["value"] for p in ev[c].series}
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        for metric, f in items:
            if f != filters:
                continue
            vals = {d: _combine([cols[c].get(d) for c in _codes(metric)]) for d in days}
            out[(metric, f)] = vals
    return out


def trim_leading(series: Series) -> Series:
    """Days before the shop's first activity read 0: they are no data, not a quiet day."""
    out: Series = {}
    started = False
    for day in sorted(series):
        v = series[day]
        started = started or bool(v)
        out[day] = v if started else None
    return out


def _members(
    wh: Warehouse,
    codes: Sequence[str],
    days: Sequence[dt.date],
    dim: str,
    filters: Mapping[str, list[str]],
    timezone: str,
) -> dict[str, dict[str, float]]:
    """{metric code: {member: mean value over `days`}} for additive metrics."""
    sums: dict[str, dict[str, float]] = {c: defaultdict(float) for c in codes}
    for day in days:
        ev = evaluate(
            wh,
            list(codes),
            Period(day, day),
            by=dim,
            filters=filters,
            compare=(),
            timezone=timezone,
        )
        for c in codes:
            for row in ev[c].breakdown:
                sums[c][row["key"]] += float(row["value"] or 0) / len(days)
    return sums


@dataclass(frozen=True)
class _Plan:
    kind: str  # "additive" or "ratio"
    codes: tuple[str, ...]  # (metric,) or (numerator, denominator)


def _plan(metric: str) -> _Plan | None:
    codes = _codes(metric)
    if len(codes) == 2:
        if all(METRICS[c].compute is None and len(METRICS[c].measures) == 1 for c in codes):
            return _Plan("ratio", tuple(codes))
        return None
    m = METRICS[codes[0]]
    if m.compute is None and len(m.measures) == 1:
        return _Plan("additive", (m.code,))
    if len(m.measures) == 2 and m.unit in ("ratio", "fen", "count", "seconds", "hours"):
        num, den = (_MEASURE_METRIC.get(n) for n in m.measures)
        # Only true quotients num/den split by mix and rate (a formula like returning share
        # is not one).
        if num and den and m.formula and "/" in m.formula:
            return _Plan("ratio", (num, den))
    return None


def attribute(
    wh: Warehouse,
    metric: str,
    filters: Mapping[str, list[str]],
    day: dt.date,
    base_days: Sequence[dt.date],
    dims: Sequence[str],
    timezone: str,
) -> Attribution | None:
    """Which member of which dimension explains most of the change from `base_days` (their
    mean) to `day`: shares of the change for additive metrics, a mix/rate split for ratios."""
    plan = _plan(metric)
    if plan is None or not base_days or not dims:
        return None
    splits: dict[str, list[Contribution]] = {}
    for dim in dims:
        now = _members(wh, plan.codes, [day], dim, filters, timezone)
        base = _members(wh, plan.codes, base_days, dim, filters, timezone)
        if plan.kind == "additive":
            c = plan.codes[0]
            splits[dim] = additive_split(now[c], base[c])
        else:
            n, d = plan.codes
            splits[dim] = ratio_split(now[n], now[d], base[n], base[d])
    return best_explanation(splits)


@dataclass(frozen=True)
class Anomaly:
    metric: str
    filters: Filters
    day: dt.date
    score: Score


def detect(
    wh: Warehouse,
    day: dt.date,
    timezone: str,
    *,
    watches: Sequence[Watch] = DETECTOR,
    campaign_days: frozenset[dt.date] = frozenset(),
    threshold: float = 4.0,
    min_change: float = 0.15,
    series: Mapping[tuple[str, Filters], Series] | None = None,
) -> tuple[list[Anomaly], dict[tuple[str, Filters], Score | None]]:
    """Score `day` of each watched metric against its weekday-seasonal baseline. Campaign
    days are left out of the history and on a campaign day the bar is twice as high (a
    promotion's peak is expected, not an incident). Only moves in the metric's bad direction
    (traffic down, CPC up...) that are unusual (|z| ≥ threshold) and large (≥ min_change off
    the baseline) are anomalies. Returns (anomalies, every score)."""
    start = day - dt.timedelta(days=DETECTOR_HISTORY_DAYS)
    got = series or daily_series(wh, list(DETECTOR_METRICS), start, day, timezone)
    bar = threshold * (2 if day in campaign_days else 1)
    past = [start + dt.timedelta(days=i) for i in range(DETECTOR_HISTORY_DAYS)]
    skip = frozenset(i for i, d in enumerate(past) if d in campaign_days)
    found: list[Anomaly] = []
    scores: dict[tuple[str, Filters], Score | None] = {}
    for w in watches:
        s = got[(w.metric, w.filters)]
        value = s.get(day)
        sc = None
        if value is not None:
            units = got[(w.units, ())].get(day) if w.units else None
            sc = seasonal_score(
                [(d.weekday(), s.get(d)) for d in past],
                value,
                day.weekday(),
                skip=skip,
                floor=lambda e, units=units, w=w: w.relative_floor(e, units),
                seasonal=w.seasonal,
            )
        scores[(w.metric, w.filters)] = sc
        if sc is None or not sc.expected:
            continue
        bad_up = _good_direction(w.metric) == "down"
        bad = sc.score > 0 if bad_up else sc.score < 0
        big = abs(sc.value / sc.expected - 1) >= min_change
        if bad and big and abs(sc.score) >= bar:
            found.append(Anomaly(w.metric, w.filters, day, sc))
    return found, scores


def _good_direction(metric: str) -> str:
    codes = _codes(metric)
    if len(codes) == 2:
        # A ratio is good when its numerator's direction is good (spend per visit: down).
        return METRICS[codes[0]].good_direction
    return METRICS[codes[0]].good_direction
