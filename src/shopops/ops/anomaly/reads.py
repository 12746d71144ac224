"""Direct daily reads for the evaluation's hottest, simplest series, one small query each
instead of one registry evaluation per day: a count of distinct visitors per member per day
(per-channel rules), and paid-search sessions and ad spend per day (the CPC rules). Each
mirrors its registry definition exactly (`tests/ops/test_reads.py` checks them against
`shopops.analytics.metrics.evaluate` on the hand-built warehouse); anything else goes
through the registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import ibis

from shopops.analytics.engine import Warehouse

UNKNOWN = "unknown"
# (registry measure-metric, fact table, how a day's value is aggregated)
_DAILY: dict[str, tuple[str, str]] = {"sessions": ("fact_sessions", "count"),
                                      "ad_spend": ("fact_ad_spend", "spend")}  # fmt: skip
# Dimensions that are plain columns of fact_events (the uv source).
EVENT_DIMS = ("channel", "device", "os", "province")


def _text(col: Any) -> Any:
    # As the registry labels members: empty or missing → "unknown".
    text = col.cast("string")
    return ibis.ifelse(text.isnull() | (text == ""), UNKNOWN, text)


def can_read_daily(metric: str, filters: Mapping[str, Sequence[str]]) -> bool:
    return metric in _DAILY and set(filters) <= {"channel"}


def daily(
    wh: Warehouse,
    metric: str,
    filters: Mapping[str, Sequence[str]],
    start: dt.date,
    end: dt.date,
) -> dict[dt.date, int]:
    """{day: value} of `metric` (see `_DAILY`) over start..end, every day present."""
    table, agg = _DAILY[metric]
    t = wh.table(table)
    t = t.filter((t.date >= start) & (t.date <= end))
    for dim, values in filters.items():
        t = t.filter(_text(t[dim]).isin(list(values)))
    value = t.count() if agg == "count" else t[agg].sum()
    rows = wh.con.to_pyarrow(t.group_by("date").aggregate(v=value)).to_pylist()
    got = {r["date"]: int(r["v"] or 0) for r in rows}
    n = (end - start).days + 1
    return {d: got.get(d, 0) for d in (start + dt.timedelta(days=i) for i in range(n))}


def can_read_members(metric: str, dim: str, filters: Mapping[str, Sequence[str]]) -> bool:
    return metric == "uv" and dim in EVENT_DIMS and set(filters) <= set(EVENT_DIMS)


def members_daily(
    wh: Warehouse,
    dim: str,
    days: Sequence[dt.date],
    filters: Mapping[str, Sequence[str]],
) -> dict[str, dict[dt.date, float | None]]:
    """{member: {day: distinct visitors}} of `dim` on each of `days`, in one query."""
    t = wh.table("fact_events")
    t = t.filter(t.date.isin(list(days)))
    for f, values in filters.items():
        t = t.filter(_text(t[f]).isin(list(values)))
    t = t.mutate(_m=_text(t[dim]))
    q = t.group_by(["date", "_m"]).aggregate(v=t.person_id.nunique())
    out: dict[str, dict[dt.date, float | None]] = {}
    for r in wh.con.to_pyarrow(q).to_pylist():
        out.setdefault(r["_m"], {})[r["date"]] = int(r["v"])
    return out
