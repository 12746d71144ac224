"""Traffic: visitors and sessions per channel, natural vs paid share, and per channel the
ad spend, new customers, CAC and ROI (`analyses.channel_roi`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.channel_roi import channel_roi
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.i18n import Formatter
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/traffic", "Traffic", Role.OPERATOR, Role.ANALYST)
MARGIN = {"t": 10, "l": 50, "r": 10, "b": 60}
HEADER = [
    "channel",
    "name_zh",
    "name_en",
    "kind",
    "uv",
    "sessions",
    "spend",
    "new_customers",
    "cac",
    "paid_orders",
    "gmv",
    "roi",
]


def traffic_rows(request: Request, period: Period) -> tuple[list[dict[str, Any]], Any]:
    """One row per channel (from the console's cache while the warehouse is unchanged)."""
    tz = request.app.state.settings.timezone
    key = ("traffic", period.start, period.end)
    return cached(request, key, lambda wh: _compute(wh, period, tz))  # type: ignore[no-any-return]


def _compute(wh: Warehouse, period: Period, tz: str) -> tuple[list[dict[str, Any]], Any]:
    """Visitors/sessions from the metrics, money from channel_roi."""
    ev = evaluate(
        wh,
        ["uv", "sessions", "natural_traffic_share", "paid_traffic_share"],
        period,
        by="channel",
        compare=None,
        timezone=tz,
    )
    df = channel_roi(wh, start=period.start, end=period.end)
    roi = {r["channel"]: r for r in df.to_dict("records")}
    uv = {b["key"]: b["value"] for b in ev["uv"].breakdown}
    sessions = {b["key"]: b["value"] for b in ev["sessions"].breakdown}
    rows: list[dict[str, Any]] = []
    for ch in sorted(set(uv) | set(sessions) | set(roi), key=lambda c: -(uv.get(c) or 0)):
        r = roi.get(ch, {})
        rows.append(
            {
                "channel": ch,
                "name_zh": r.get("name_zh", ch),
                "name_en": r.get("name_en", ch),
                "kind": r.get("kind", ""),
                "uv": uv.get(ch) or 0,
                "sessions": sessions.get(ch) or 0,
                "spend": int(r.get("spend") or 0),
                "new_customers": int(r.get("new_customers") or 0),
                "cac": _num(r.get("cac")),
                "paid_orders": int(r.get("paid_orders") or 0),
                "gmv": int(r.get("gmv") or 0),
                "roi": _num(r.get("roi")),
            }
        )
    return rows, ev


def _num(value: Any) -> float | None:
    # pandas gives NaN/None for "no spend" / "no new customers": both mean no figure.
    return None if value is None or value != value else float(value)


@router.get("/traffic")
def traffic(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    rows, ev = traffic_rows(request, period)
    if export:
        data = [[r[h] for h in HEADER] for r in rows]
        return table_response(f"traffic_{period.start}_{period.end}", export, HEADER, data)
    zh = viewer.locale == "zh_CN"
    _ = Formatter(viewer.locale).gettext  # chart legends speak the viewer's language
    names = [r["name_zh"] if zh else r["name_en"] for r in rows]
    link = f"/console/?start={period.start}&end={period.end}&channel="
    paid = [r for r in rows if r["spend"]]
    figures = {
        "uv_channel": {
            "data": [
                {
                    "type": "bar",
                    "name": _("Visitors"),
                    "x": names,
                    "y": [r["uv"] for r in rows],
                    # Drill-down: the overview filtered to that channel.
                    "customdata": [link + r["channel"] for r in rows],
                },
                {
                    "type": "bar",
                    "name": _("Sessions"),
                    "x": names,
                    "y": [r["sessions"] for r in rows],
                    "customdata": [link + r["channel"] for r in rows],
                },
            ],
            "layout": {"margin": MARGIN, "height": 300, "barmode": "group"},
        },
        "share": {
            "data": [
                {
                    "type": "pie",
                    "hole": 0.5,
                    "labels": [_("natural"), _("paid")],
                    "values": [
                        ev["natural_traffic_share"].value or 0,
                        ev["paid_traffic_share"].value or 0,
                    ],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 10, "r": 10, "b": 10}, "height": 300},
        },
        "roi_channel": {
            "data": [
                {
                    "type": "bar",
                    "name": "ROI",
                    "x": [r["name_zh"] if zh else r["name_en"] for r in paid],
                    "y": [r["roi"] for r in paid],
                    "customdata": [link + r["channel"] for r in paid],
                }
            ],
            "layout": {"margin": MARGIN, "height": 300},
        },
    }
    return render(
        request,
        "traffic.html",
        viewer,
        period=period,
        date_error=date_error,
        rows=rows,
        natural=ev["natural_traffic_share"].value,
        paid_share=ev["paid_traffic_share"].value,
        figures=json.dumps(figures),
        has_data=any(r["uv"] or r["spend"] or r["gmv"] for r in rows),
    )
