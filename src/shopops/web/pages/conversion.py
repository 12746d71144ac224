"""Conversion: the shopping funnel (visit → product view → cart → checkout → order → pay)
with drop-off per step, optionally broken down by a dimension, and the top paths to payment
(`analyses.funnel`, `analyses.paths`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.funnel import BREAKDOWNS, FunnelResult, funnel
from shopops.analytics.analyses.paths import PathsResult, paths
from shopops.analytics.engine import Warehouse
from shopops.analytics.periods import Period
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/conversion", "Conversion", Role.OPERATOR, Role.ANALYST)
STEPS = ["page_view", "product_view", "add_to_cart", "begin_checkout", "place_order", "pay"]
TOP_PATHS = 15
MARGIN = {"t": 10, "l": 110, "r": 10, "b": 40}


def _compute(
    wh: Warehouse, period: Period, breakdown: str | None
) -> tuple[FunnelResult, PathsResult]:
    result = funnel(wh, list(STEPS), start=period.start, end=period.end, breakdown=breakdown)
    top = paths(wh, start=period.start, end=period.end, top=TOP_PATHS)
    return result, top


def conversion_data(
    request: Request, period: Period, breakdown: str | None
) -> tuple[FunnelResult, PathsResult]:
    """The funnel and top paths, from the console's cache while the warehouse is unchanged."""
    key = ("conversion", period.start, period.end, breakdown)
    return cached(request, key, lambda wh: _compute(wh, period, breakdown))


@router.get("/conversion")
def conversion(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    breakdown: Annotated[str | None, Query(max_length=40)] = None,
    export: Annotated[str | None, Query(pattern="^(funnel|paths)_(csv|xlsx)$")] = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    breakdown_error = None
    if breakdown and breakdown not in BREAKDOWNS:
        breakdown, breakdown_error = None, "Pick one of the listed dimensions."
    result, top = conversion_data(request, period, breakdown or None)
    if export:
        table, fmt = export.split("_")
        name = f"{table}_{period.start}_{period.end}"
        if table == "paths":
            conv = top.converting_sessions
            header = ["path", "sessions", "share"]
            rows: list[list[Any]] = [
                [" > ".join(p), n, n / conv if conv else None] for p, n in top.paths
            ]
            return table_response(name, fmt, header, rows)
        header = ["group", "step", "event", "count", "conversion", "from_previous", "drop_off"]
        groups = [("", result.steps), *result.groups.items()]
        rows = [
            [g, s.step, s.label, s.count, s.conversion, s.conversion_from_previous, s.drop_off]
            for g, steps in groups
            for s in steps
        ]
        return table_response(name, fmt, header, rows)
    labels = [s.label for s in result.steps]
    figures: dict[str, Any] = {
        "funnel": {
            "data": [
                {
                    "type": "funnel",
                    "y": labels,
                    "x": [s.count for s in result.steps],
                    "textinfo": "value+percent initial",
                }
            ],
            "layout": {"margin": MARGIN, "height": 320},
        },
        "groups": {
            "data": [
                {
                    "type": "bar",
                    "name": str(value),
                    "x": labels,
                    "y": [s.conversion for s in steps],
                    # Drill-down: a channel's bar opens the overview filtered to that channel.
                    "customdata": [
                        f"/console/?start={period.start}&end={period.end}&channel={value}"
                        if breakdown == "channel"
                        else None
                        for _ in steps
                    ],
                }
                for value, steps in result.groups.items()
            ],
            "layout": {"margin": {"t": 10, "l": 50, "r": 10, "b": 60}, "height": 320},
        },
    }
    conv = top.converting_sessions
    path_rows = [(" → ".join(p), n, n / conv if conv else None) for p, n in top.paths]
    return render(
        request,
        "conversion.html",
        viewer,
        period=period,
        date_error=date_error,
        breakdown=breakdown,
        breakdown_error=breakdown_error,
        breakdowns=sorted(BREAKDOWNS),
        result=result,
        top=top,
        path_rows=path_rows,
        figures=json.dumps(figures),
        has_data=bool(result.steps and result.steps[0].count),
    )
