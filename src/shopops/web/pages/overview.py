"""Overview: period KPI cards with change vs the previous period and a sparkline, the
GMV = UV × CVR × AOV decomposition, hourly GMV of a day vs the same weekday a week before,
daily GMV and GMV by channel (click a bar to filter). Warehouse results come from the
console's cache (`web/cache.py`), recomputed when the loader writes new data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.product_sales import hourly_gmv_days
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS, evaluate
from shopops.analytics.metrics.decomposition import decompose_evaluation
from shopops.analytics.periods import Period, shop_today
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.render import register_page, render

ROLES = register_page("/console/", "Overview", Role.OPERATOR, Role.ANALYST)
KPIS = ("uv", "conversion_rate", "aov", "gmv", "paid_orders", "repurchase_rate", "refund_rate")
MAX_DAYS = 366
# The measures the GMV = UV × CVR × AOV decomposition reads (as daily_report adds them).
DECOMPOSITION_NEEDS = ("uv", "buyers", "gmv", "new_buyer_gmv")


def _period(request: Request, start: str | None, end: str | None) -> tuple[Period, str | None]:
    """The chosen range (default: the last 7 shop days) and an error for the date field."""
    today = shop_today(request.app.state.settings.timezone)
    try:
        last = dt.date.fromisoformat(end) if end else today - dt.timedelta(days=1)
        first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=6)
    except ValueError:
        return _default(today), "Dates are written YYYY-MM-DD."
    if first > last:
        return _default(today), "The start date is after the end date."
    if (last - first).days >= MAX_DAYS:
        return _default(today), "Choose at most 366 days."
    return Period(first, last), None


def _default(today: dt.date) -> Period:
    last = today - dt.timedelta(days=1)
    return Period(last - dt.timedelta(days=6), last)


def parse_day(request: Request, day: str | None) -> tuple[dt.date, str | None]:
    """The day of the hourly chart (default: the shop's today) and an error for its field."""
    today = shop_today(request.app.state.settings.timezone)
    if not day:
        return today, None
    try:
        return dt.date.fromisoformat(day), None
    except ValueError:
        return today, "Dates are written YYYY-MM-DD."


def _compute(
    wh: Warehouse, period: Period, channel: str | None, day: dt.date, tz: str
) -> dict[str, Any]:
    filters = {"channel": [channel]} if channel else None
    # Under a channel filter, only the metrics that can be sliced by channel (refund rate can't).
    codes = [c for c in KPIS if not channel or "channel" in METRICS[c].dims]
    codes += [c for c in DECOMPOSITION_NEEDS if c not in codes]
    ev = evaluate(wh, codes, period, grain="day", filters=filters, timezone=tz)
    # GMV only: the chart needs nothing else, and visitors by channel cost a second second.
    by_channel = evaluate(wh, ["gmv"], period, by="channel", compare=None, timezone=tz)
    assert ev.previous_period is not None
    decomposition = decompose_evaluation(ev.measures, period, ev.previous_period)
    week_before = day - dt.timedelta(days=7)
    both = hourly_gmv_days(wh, days=[day, week_before], timezone=tz)
    hourly = {
        "day": day,
        "week_before": week_before,
        "today": both[day],
        "before": both[week_before],
    }
    return {
        "evaluation": ev,
        "by_channel": by_channel,
        "decomposition": decomposition,
        "hourly": hourly,
    }


def overview_data(
    request: Request, period: Period, channel: str | None, day: dt.date | None = None
) -> dict[str, Any]:
    tz = request.app.state.settings.timezone
    day = day or shop_today(tz)
    key = ("overview", period.start, period.end, channel, day)
    return cached(request, key, lambda wh: _compute(wh, period, channel, day, tz))


@router.get("/")
def overview(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx|hourly_csv|hourly_xlsx)$")] = None,
) -> Response:
    period, date_error = _period(request, start, end)
    hour_day, day_error = parse_day(request, day)
    data = overview_data(request, period, channel or None, hour_day)
    hourly = data["hourly"]
    ev = data["evaluation"]
    cards = [ev[c] for c in KPIS if c in ev.results]
    if export and export.startswith("hourly"):
        header = ["hour", f"gmv_{hourly['day']}", f"gmv_{hourly['week_before']}"]
        rows_h = [[h, hourly["today"][h], hourly["before"][h]] for h in range(24)]
        name = f"overview_hourly_{hourly['day']}"
        return table_response(name, export.removeprefix("hourly_"), header, rows_h)
    if export:
        header = ["code", "name_zh", "name_en", "value", "previous", "change"]
        rows = [
            [r.metric.code, r.metric.name_zh, r.metric.name_en, r.value, r.previous, r.change]
            for r in cards
        ]
        return table_response(f"overview_{period.start}_{period.end}", export, header, rows)
    gmv = ev["gmv"]
    series = [p for p in gmv.series if p["value"] is not None]
    chans = data["by_channel"]["gmv"].breakdown
    hours = list(range(24))
    figures = {
        "gmv_hourly": {
            "data": [
                {
                    "type": "bar",
                    "name": str(hourly["day"]),
                    "x": hours,
                    "y": [v / 100 for v in hourly["today"]],
                },
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": str(hourly["week_before"]),
                    "x": hours,
                    "y": [v / 100 for v in hourly["before"]],
                },
            ],
            "layout": {
                "margin": {"t": 10, "l": 50, "r": 10, "b": 40},
                "height": 280,
                "xaxis": {"dtick": 2},
                "legend": {"orientation": "h"},
            },
        },
        "gmv_daily": {
            "data": [
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [p["start"] for p in series],
                    "y": [p["value"] / 100 for p in series],
                    "name": "GMV",
                }
            ],
            "layout": {"margin": {"t": 10, "l": 50, "r": 10, "b": 40}, "height": 280},
        },
        "gmv_channel": {
            "data": [
                {
                    "type": "bar",
                    "x": [c["key"] for c in chans],
                    "y": [(c["value"] or 0) / 100 for c in chans],
                    # Drill-down: a click opens the overview filtered to that channel.
                    "customdata": [
                        f"/console/?start={period.start}&end={period.end}&channel={c['key']}"
                        for c in chans
                    ],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 50, "r": 10, "b": 60}, "height": 280},
        },
    }
    sparks = {
        r.metric.code: json.dumps([p["value"] for p in r.series if p["value"] is not None])
        for r in cards
    }
    return render(
        request,
        "overview.html",
        viewer,
        period=period,
        channel=channel,
        date_error=date_error,
        day_error=day_error,
        hourly=hourly,
        hourly_totals=(sum(hourly["today"]), sum(hourly["before"])),
        cards=cards,
        sparks=sparks,
        decomposition=data["decomposition"],
        figures=json.dumps(figures),
        has_data=bool(series) or any(r.value for r in cards),
    )
