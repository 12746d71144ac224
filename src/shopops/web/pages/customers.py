"""Customers: RFM groups (treemap) with counts and value, lifecycle stages, the cohort
retention heatmap and the CLV distribution (`analyses.rfm`, `retention`, `clv`). Every chart
drills down to a paged, exportable list of its customers (`/console/customers/list`): an RFM
group, a retention cell (`analyses.cohort_members`) or a CLV band."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.clv import ClvResult, clv
from shopops.analytics.analyses.cohort_members import cohort_members
from shopops.analytics.analyses.retention import RetentionResult, retention
from shopops.analytics.analyses.rfm import LIFECYCLE, SEGMENTS, RfmResult, rfm
from shopops.analytics.periods import Period
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/customers", "Customers", Role.OPERATOR, Role.ANALYST)
PERIODS = 8
CLV_BINS = 20
EXPORTS = "^(segments|retention|clv)_(csv|xlsx)$"
PAGE_SIZE = 50
SEGMENT_CODES = "^(" + "|".join(code for code, _, _ in SEGMENTS.values()) + ")$"


def scored(request: Request, period: Period) -> RfmResult:
    key = ("rfm", period.start, period.end)
    return cached(request, key, lambda wh: rfm(wh, as_of=period.end, start=period.start))


def cohorts_of(request: Request, period: Period, grain: str) -> RetentionResult:
    key = ("retention", period.start, period.end, grain)
    return cached(
        request,
        key,
        lambda wh: retention(wh, start=period.start, end=period.end, grain=grain, periods=PERIODS),
    )


def values_of(request: Request, period: Period) -> ClvResult:
    key = ("clv", period.start, period.end)
    return cached(request, key, lambda wh: clv(wh, as_of=period.end, start=period.start))


def clv_column(values: ClvResult) -> str:
    # The predicted value when BG/NBD could be fitted, else what customers have paid so far.
    return "predicted_value" if values.bgnbd is not None else "historical_value"


def clv_bins(values: ClvResult) -> tuple[int, list[int]]:
    """Bin width (fen, ≥ 1) and customers per bin; every value v falls in bin ⌊v / width⌋."""
    col = values.customers[clv_column(values)].dropna()
    if col.empty:
        return 1, []
    width = int(col.max() // CLV_BINS) + 1
    counts = [0] * CLV_BINS
    for v in col.tolist():
        counts[min(CLV_BINS - 1, max(0, int(v // width)))] += 1
    return width, counts


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
    result = scored(request, period)
    segments = result.segments()
    stages = result.stage_counts()["lifecycle"]
    cohorts = cohorts_of(request, period, grain)
    values = values_of(request, period)
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
    q = f"start={period.start}&end={period.end}&grain={grain}"
    drill = f"/console/customers/list?{q}"
    width, counts = clv_bins(values)
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
                    # Drill-down: the customers of that group.
                    "customdata": [f"{drill}&segment={s['segment']}" for s in shown],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 10, "r": 10, "b": 10}, "height": 320},
        },
        "lifecycle": {
            "data": [
                {
                    "type": "bar",
                    "x": [LIFECYCLE[code] if zh else code for code in stages],
                    "y": list(stages.values()),
                }
            ],
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
                    # Drill-down: the customers of that cohort who bought in that period.
                    "customdata": [
                        [f"{drill}&cohort={r.cohort}&k={k}" for k in range(PERIODS)]
                        for r in cohorts.rows
                    ],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 90, "r": 10, "b": 40}, "height": 320},
        },
        "clv": {
            "data": [
                {
                    # Bins made here (not by plotly.js) so a bar knows its band's customers.
                    "type": "bar",
                    "x": [(i + 0.5) * width / 100 for i in range(len(counts))],
                    "y": counts,
                    "width": [width / 100] * len(counts),
                    "customdata": [
                        f"{drill}&clv_lo={i * width}&clv_hi={(i + 1) * width}"
                        for i in range(len(counts))
                    ],
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
        total=len(result.customers),
        stages=stages,
        stage_names=LIFECYCLE,
        cohorts=cohorts.rows,
        periods=PERIODS,
        clv_totals=values.totals(),
        clv_fitted=values.bgnbd is not None,
        horizon=values.horizon_days,
        figures=json.dumps(figures),
        has_data=len(result.customers) > 0,
    )


LIST_HEADER = [
    "customer_id",
    "segment",
    "lifecycle",
    "recency_days",
    "frequency",
    "monetary",
    "clv",
]


@router.get("/customers/list")
def customer_list(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    grain: Annotated[str, Query(pattern="^(week|month)$")] = "week",
    segment: Annotated[str | None, Query(pattern=SEGMENT_CODES)] = None,
    cohort: Annotated[dt.date | None, Query()] = None,
    k: Annotated[int, Query(ge=0, lt=PERIODS)] = 0,
    clv_lo: Annotated[int | None, Query(ge=0)] = None,
    clv_hi: Annotated[int | None, Query(ge=1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    """The customers behind a chart element: an RFM group, a retention cell or a CLV band."""
    period, date_error = parse_period(request, start, end)
    result = scored(request, period)
    values = values_of(request, period)
    column = clv_column(values)
    base = result.customers.merge(
        values.customers[["customer_id", column]].rename(columns={column: "clv"}),
        on="customer_id",
        how="left",
    )
    extra: list[str] = []
    if segment:
        rows_df = base[base["segment"] == segment]
        names = {code: (zh, en) for code, zh, en in SEGMENTS.values()}
        zh, en = names[segment]
        title = zh if viewer.locale == "zh_CN" else en
    elif cohort is not None:
        members = cached(
            request,
            ("cohort", cohort, k, grain, period.end),
            lambda wh: cohort_members(wh, cohort=cohort, k=k, grain=grain, end=period.end),
        )
        rows_df = members.merge(base, on="customer_id", how="left")
        extra = ["orders", "paid_amount"]
        title = f"{cohort} +{k}"
    elif clv_lo is not None and clv_hi is not None and clv_lo < clv_hi:
        rows_df = base[(base["clv"] >= clv_lo) & (base["clv"] < clv_hi)]
        title = None
    else:
        rows_df = base
        title = None
    rows_df = rows_df.sort_values(["monetary", "customer_id"], ascending=[False, True])
    header = [*LIST_HEADER, *extra]
    rows = [[_cell(v) for v in r] for r in rows_df.reindex(columns=header).values.tolist()]
    if export:
        name = f"customers_list_{period.start}_{period.end}"
        return table_response(name, export, header, rows)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    params = {k_: v for k_, v in request.query_params.items() if k_ not in ("page", "export")}
    query = "&".join(f"{k_}={v}" for k_, v in params.items())
    return render(
        request,
        "customer_list.html",
        viewer,
        period=period,
        date_error=date_error,
        grain=grain,
        title=title,
        segment=segment,
        cohort=cohort,
        k=k,
        clv_band=(clv_lo, clv_hi) if clv_lo is not None and clv_hi is not None else None,
        header=header,
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        query=query,
        segment_names={code: (zh, en) for code, zh, en in SEGMENTS.values()},
        stage_names=LIFECYCLE,
    )


def _cell(value: Any) -> Any:
    """A frame value as a plain cell: NaN/NA → None, whole floats → int."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value
