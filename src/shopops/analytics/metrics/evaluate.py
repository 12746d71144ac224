"""Evaluate metrics for a period: totals, comparisons, a series per grain bucket, a breakdown.

Every scope (the period, the previous period, the same period last year, each grain bucket)
is a set of shop dates; a small calendar table maps each date to its scopes, and one
aggregate query per source computes all measures of that source for all scopes at once
(`group by _scope`). Metrics are then formulas over each scope's measure totals.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics.errors import (
    DimensionNotApplicable,
    InvalidCompare,
    InvalidFilter,
    MetricUnavailable,
    UnknownDimension,
    UnknownMetric,
)
from shopops.analytics.metrics.measures import MEASURES, Measure
from shopops.analytics.metrics.registry import METRICS, Metric
from shopops.analytics.metrics.scoped import _run_source
from shopops.analytics.metrics.sources import DIMENSIONS, Context, merge_ranges
from shopops.analytics.periods import Period, check_grain

COMPARISONS = ("previous", "last_year")
# Evaluations reading at most this many days run their queries on one DuckDB thread.
SMALL_DAYS = 7
CURRENT, PREVIOUS, LAST_YEAR = "current", "previous", "last_year"

Key = tuple[str, str | None]  # (scope, dimension value or None for the total)


def change(value: float | int | None, base: float | int | None) -> float | None:
    """Relative change value/base − 1, or None when there is nothing to compare with."""
    if value is None or base is None or base == 0:
        return None
    return (value - base) / abs(base)


@dataclass
class MetricResult:
    metric: Metric
    value: float | int | None
    previous: float | int | None = None
    change: float | None = None
    last_year: float | int | None = None
    yoy: float | None = None
    series: list[dict[str, Any]] = field(default_factory=list)
    breakdown: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        m = self.metric
        return {
            "code": m.code,
            "name_zh": m.name_zh,
            "name_en": m.name_en,
            "group": m.group,
            "unit": m.unit,
            "format": m.format,
            "good_direction": m.good_direction,
            "value": self.value,
            "previous": self.previous,
            "change": self.change,
            "last_year": self.last_year,
            "yoy": self.yoy,
            "series": self.series,
            "breakdown": self.breakdown,
        }


@dataclass
class Evaluation:
    """The tidy answer: per metric its value and comparisons, series and breakdown."""

    period: Period
    previous_period: Period | None
    last_year_period: Period | None
    grain: str | None
    by: str | None
    filters: dict[str, list[str]]
    results: dict[str, MetricResult]
    # Measure totals per scope (current/previous/last_year), for decompositions.
    measures: dict[str, dict[str, float | int]] = field(default_factory=dict)

    def __getitem__(self, code: str) -> MetricResult:
        return self.results[code]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.to_dict(),
            "previous_period": self.previous_period.to_dict() if self.previous_period else None,
            "last_year_period": (
                self.last_year_period.to_dict() if self.last_year_period else None
            ),
            "grain": self.grain,
            "by": self.by,
            "filters": self.filters,
            "metrics": [r.to_dict() for r in self.results.values()],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Long format: one row per metric and (total | bucket | breakdown key)."""
        out: list[dict[str, Any]] = []
        for r in self.results.values():
            base = {
                "metric": r.metric.code,
                "name_zh": r.metric.name_zh,
                "name_en": r.metric.name_en,
                "unit": r.metric.unit,
            }
            out.append(
                {
                    **base,
                    "part": "total",
                    "key": self.period.label,
                    "value": r.value,
                    "previous": r.previous,
                    "change": r.change,
                    "last_year": r.last_year,
                    "yoy": r.yoy,
                }
            )
            for point in r.series:
                out.append(
                    {
                        **base,
                        "part": "series",
                        "key": point["bucket"],
                        "value": point["value"],
                        "previous": None,
                        "change": None,
                        "last_year": None,
                        "yoy": None,
                    }
                )
            for row in r.breakdown:
                out.append(
                    {
                        **base,
                        "part": f"by {self.by}",
                        "key": row["key"],
                        "value": row["value"],
                        "previous": row["previous"],
                        "change": row["change"],
                        "last_year": row["last_year"],
                        "yoy": row["yoy"],
                    }
                )
        return out


def resolve_codes(
    codes: Iterable[str] | str | None, *, include_unavailable: bool = False
) -> list[Metric]:
    """The metrics named by `codes` (None / 'all': every available metric), validated."""
    if codes is None or codes == "all" or (isinstance(codes, str) and not codes.strip()):
        return [m for m in METRICS.values() if m.available or include_unavailable]
    if isinstance(codes, str):
        codes = [c for c in codes.split(",")]
    wanted = [c.strip() for c in codes if c.strip()]
    unknown = [c for c in wanted if c not in METRICS]
    if unknown:
        raise UnknownMetric(
            f"unknown metric(s) {', '.join(unknown)}; valid: {', '.join(METRICS)}",
            details={"unknown": unknown, "valid": list(METRICS)},
        )
    metrics = [METRICS[c] for c in dict.fromkeys(wanted)]
    missing = [m.code for m in metrics if not m.available]
    if missing:
        raise MetricUnavailable(
            f"metric(s) {', '.join(missing)} not available yet: "
            + "; ".join(f"{METRICS[c].code} {METRICS[c].note}" for c in missing),
            details={"unavailable": missing},
        )
    return metrics


def _check_dimension(dim: str, metrics: Sequence[Metric], role: str) -> None:
    if dim not in DIMENSIONS:
        raise UnknownDimension(
            f"unknown dimension {dim!r} ({role}); valid: {', '.join(DIMENSIONS)}",
            details={role: dim, "valid": list(DIMENSIONS)},
        )
    misfits = [m for m in metrics if dim not in m.dims]
    if misfits:
        raise DimensionNotApplicable(
            f"metric(s) {', '.join(m.code for m in misfits)} cannot be sliced by {dim!r} "
            f"({role}); "
            + "; ".join(f"{m.code}: {', '.join(m.dims) or 'no dimension'}" for m in misfits),
            details={
                role: dim,
                "metrics": [m.code for m in misfits],
                "valid": {m.code: list(m.dims) for m in misfits},
            },
        )


def _normalize_filters(filters: Mapping[str, Any] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for dim, raw in (filters or {}).items():
        values = [raw] if isinstance(raw, str | int) else list(raw)
        values = [str(v) for v in values if str(v) != ""]
        if not values:
            raise InvalidFilter(f"filter on {dim!r} has no value", details={"filter": dim})
        out[dim] = values
    return out


def evaluate(
    wh: Warehouse,
    codes: Iterable[str] | str | None,
    period: Period,
    *,
    grain: str | None = None,
    by: str | None = None,
    filters: Mapping[str, Any] | None = None,
    compare: Sequence[str] | None = COMPARISONS,
    timezone: str = "Asia/Shanghai",
) -> Evaluation:
    """Evaluate metrics `codes` over `period` (see the module docstring). Raises 4xx errors
    (unknown_metric, metric_unavailable, unknown_dimension, dimension_not_applicable,
    invalid_grain, invalid_compare, invalid_filter) before reading anything."""
    metrics = resolve_codes(codes)
    check_grain(grain)
    compare = tuple(compare or ())
    bad = [c for c in compare if c not in COMPARISONS]
    if bad:
        raise InvalidCompare(
            f"unknown comparison(s) {', '.join(bad)}; valid: {', '.join(COMPARISONS)}",
            details={"compare": bad, "valid": list(COMPARISONS)},
        )
    filt = _normalize_filters(filters)
    if by:
        _check_dimension(by, metrics, "by")
    for dim in filt:
        _check_dimension(dim, metrics, "filter")
    tz = ZoneInfo(timezone)

    prev = period.previous() if PREVIOUS in compare else None
    ly = period.last_year() if LAST_YEAR in compare else None
    totals: dict[str, Period] = {CURRENT: period}
    if prev:
        totals[PREVIOUS] = prev
    if ly:
        totals[LAST_YEAR] = ly
    buckets = {f"bucket:{i}": b for i, b in enumerate(period.buckets(grain))} if grain else {}

    needed: dict[str, list[Measure]] = defaultdict(list)
    # Orders seen by acquisition channel differ from paid orders only when sliced by channel.
    merge_acquired = by != "channel" and "channel" not in filt
    for name in dict.fromkeys(n for m in metrics for n in m.measures):
        source = MEASURES[name].source
        if merge_acquired and source == "orders_acquired":
            source = "orders"
        needed[source].append(MEASURES[name])
    ctx = Context(wh, merge_ranges([(p.start, p.end) for p in totals.values()]))

    values: dict[Key, dict[str, float | int]] = defaultdict(dict)
    # A few days' reads are small queries: one DuckDB thread (`Warehouse.small_queries`).
    days = sum((hi - lo).days + 1 for lo, hi in ctx.ranges)
    small = wh.small_queries() if days <= SMALL_DAYS else contextlib.nullcontext()
    # One state of the warehouse for every source (summaries checked once).
    with wh.pinned(), small:
        for source_name, ms in needed.items():
            found = _run_source(ctx, source_name, ms, {**totals, **buckets}, None, filt, tz)
            for key, got in found.items():
                values[key].update(got)
            if by:
                found = _run_source(ctx, source_name, ms, totals, by, filt, tz)
                for key, got in found.items():
                    values[key].update(got)

    scopes = {**totals, **buckets}

    def metric_value(metric: Metric, key: Key) -> float | int | None:
        vals: dict[str, float | int | None] = {n: 0 for n in metric.measures}
        vals.update(values.get(key, {}))
        vals["_days"] = scopes[key[0]].days
        return metric.value(vals)

    results: dict[str, MetricResult] = {}
    for metric in metrics:
        r = MetricResult(metric, metric_value(metric, (CURRENT, None)))
        if prev:
            r.previous = metric_value(metric, (PREVIOUS, None))
            r.change = change(r.value, r.previous)
        if ly:
            r.last_year = metric_value(metric, (LAST_YEAR, None))
            r.yoy = change(r.value, r.last_year)
        for sid, bucket in buckets.items():
            r.series.append(
                {
                    "bucket": bucket.label,
                    "start": bucket.start.isoformat(),
                    "end": bucket.end.isoformat(),
                    "value": metric_value(metric, (sid, None)),
                }
            )
        if by:
            # The dimension values where any of this metric's measures has rows.
            keys = sorted(
                {
                    k
                    for (sid, k), got in values.items()
                    if k is not None and sid in totals and any(n in got for n in metric.measures)
                }
            )
            for k in keys:
                row: dict[str, Any] = {"key": k, "value": metric_value(metric, (CURRENT, k))}
                row["previous"] = metric_value(metric, (PREVIOUS, k)) if prev else None
                row["change"] = change(row["value"], row["previous"])
                row["last_year"] = metric_value(metric, (LAST_YEAR, k)) if ly else None
                row["yoy"] = change(row["value"], row["last_year"])
                r.breakdown.append(row)
            r.breakdown.sort(
                key=lambda row: (row["value"] is None, -(row["value"] or 0), row["key"])
            )
        results[metric.code] = r
    measures_out = {sid: dict(values.get((sid, None), {})) for sid in totals}
    return Evaluation(
        period=period,
        previous_period=prev,
        last_year_period=ly,
        grain=grain,
        by=by,
        filters=filt,
        results=results,
        measures=measures_out,
    )
