"""Customers: RFM groups (treemap) with counts and value, lifecycle stages, the cohort
retention heatmap and the CLV distribution (`analyses.rfm`, `retention`, `clv`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.clv import clv
from shopops.analytics.analyses.retention import retention
from shopops.analytics.analyses.rfm import LIFECYCLE, rfm
from shopops.analytics.engine import open_warehouse
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.export import table_response
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/customers", "Customers", Role.OPERATOR, Role.ANALYST)
PERIODS = 8
CLV_BINS = 20
EXPORTS = "^(segments|retention|clv)_(csv|xlsx)$"


@router.get("/customers")
def customers(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    grain: Annotated[str, Query(pattern="^(week|month)$")] = "week",
    export: Annotated[str | None, Query(pattern=EXPORTS)] = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    wh = open_warehouse(request.app.state.settings.data_dir)
    scored = rfm(wh, as_of=period.end, start=period.start)
    segments = scored.segments()
    stages = scored.stage_counts()["lifecycle"]
    cohorts = retention(wh, start=period.start, end=period.end, grain=grain, periods=PERIODS)
    values = clv(wh, as_of=period.end, start=period.start)
    # The predicted value when BG/NBD could be fitted, else what customers have paid so far.
    column = "predicted_value" if values.bgnbd is not None else "historical_value"
    if export:
        table, fmt = export.split("_")
        name = f"customers_{table}_{period.start}_{period.end}"
        if table == "segments":
            header = ["segment", "name_zh", "name_en", "customers", "share", "monetary"]
            rows: list[list[Any]] = [[s[h] for h in header] for s in segments]
        elif table == "retention":
            header = ["cohort", "size", *[f"p{i}" for i in range(PERIODS)]]
            rows = [[r.cohort, r.size, *r.retained] for r in cohorts.rows]
        else:
            header = ["customer_id", "historical_value", "p_alive", "predicted_value"]
            df = values.customers[header].astype(object)
            rows = df.where(df.notna(), None).values.tolist()  # no "nan" cells in the export
        return table_response(name, fmt, header, rows)
    zh = viewer.locale == "zh_CN"
    shown = [s for s in segments if s["customers"]]
    figures: dict[str, Any] = {
        "rfm": {
            "data": [
                {
                    "type": "treemap",
                    "labels": [s["name_zh"] if zh else s["name_en"] for s in shown],
                    "parents": ["" for _ in shown],
                    "values": [s["customers"] for s in shown],
                    "text": [f"¥{s['monetary'] / 100:,.0f}" for s in shown],
                    "textinfo": "label+value+text",
                }
            ],
            "layout": {"margin": {"t": 10, "l": 10, "r": 10, "b": 10}, "height": 320},
        },
        "lifecycle": {
            "data": [{"type": "bar", "x": list(stages), "y": list(stages.values())}],
            "layout": {"margin": {"t": 10, "l": 40, "r": 10, "b": 40}, "height": 260},
        },
        "retention": {
            "data": [
                {
                    "type": "heatmap",
                    "x": [f"+{i}" for i in range(PERIODS)],
                    "y": [r.cohort.isoformat() for r in cohorts.rows],
                    "z": [r.rates for r in cohorts.rows],
                    "colorscale": "Blues",
                    "zmin": 0,
                    "zmax": 1,
                }
            ],
            "layout": {"margin": {"t": 10, "l": 90, "r": 10, "b": 40}, "height": 320},
        },
        "clv": {
            "data": [
                {
                    "type": "histogram",
                    # No value (NaN) for customers the model could not score: JSON has no NaN.
                    "x": [v / 100 for v in values.customers[column].dropna().tolist()],
                    "nbinsx": CLV_BINS,
                }
            ],
            "layout": {"margin": {"t": 10, "l": 40, "r": 10, "b": 40}, "height": 280},
        },
    }
    return render(
        request,
        "customers.html",
        viewer,
        period=period,
        date_error=date_error,
        grain=grain,
        segments=segments,
        total=len(scored.customers),
        stages=stages,
        stage_names=LIFECYCLE,
        cohorts=cohorts.rows,
        periods=PERIODS,
        clv_totals=values.totals(),
        clv_fitted=values.bgnbd is not None,
        horizon=values.horizon_days,
        figures=json.dumps(figures),
        has_data=len(scored.customers) > 0,
    )
