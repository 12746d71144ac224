"""Promotions: campaigns and their phases (warm-up / peak / wrap-up) with results from the
store's redemption records (orders, GMV, discount given, budget charged), promotions with their
status and the activate / pause / end actions (promotions service), coupon templates with the
coupons issued, claimed and redeemed in the range, and the period's discount share and coupon
redemption rate (warehouse metrics, daily)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shopops.accounts.models import Role
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.promotions.models import PHASE_ORDER, PromotionStatus
from shopops.promotions.service import (
    campaign_phases,
    campaign_report,
    change_status,
    list_campaigns,
    list_promotions,
    list_templates,
    template_counts,
)
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.i18n import Formatter
from shopops.web.pages.overview import _period as parse_period
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/promotions", "Promotions", Role.OPERATOR, Role.ANALYST)
ACTION_ROLES = (Role.OPERATOR,)
EXPORTS = "^(campaigns|promotions|coupons)_(csv|xlsx)$"
METRIC_CODES = ["discount_share", "discount_amount", "gmv", "coupon_redemption_rate"]
STATUSES = [s.value for s in PromotionStatus]
# The buttons each status shows; the service decides (and refuses the rest).
ACTIONS = {"draft": ("activate", "end"), "active": ("pause", "end"), "paused": ("activate", "end")}
HEADERS = {
    "campaigns": [
        "campaign_id",
        "campaign",
        "phase",
        "starts_at",
        "ends_at",
        "orders",
        "gmv_fen",
        "discount_fen",
        "cashback_fen",
        "budget_charged_fen",
        "budget_fen",
    ],
    "promotions": [
        "promotion_id",
        "name",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "used_count",
        "spent_fen",
        "budget_fen",
        "campaign_id",
        "phase",
    ],
    "coupons": [
        "template_id",
        "name",
        "promotion_id",
        "trigger",
        "claimable",
        "issued",
        "claimed",
        "redeemed",
        "redemption_rate",
    ],
}


def _iso(value: dt.datetime | None, tz: str) -> str:
    return local_time(value, tz, "minutes")


def _bounds(period: Period, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The range's days in the shop's time zone, as [start, end) instants."""
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(period.start, dt.time(0), zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), zone)
    return start, end


def _campaign_rows(
    s: Session, start: dt.datetime, end: dt.datetime, tz: str, only: int | None
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for c in list_campaigns(s):
        if only is not None and c.id != only:
            continue
        report = campaign_report(s, campaign_id=c.id, starts_at=start, ends_at=end)
        windows = {w.phase: w for w in campaign_phases(s, campaign_id=c.id)}
        # Every declared phase, then redemptions made outside any phase (phase "").
        for phase in [*(p.value for p in PHASE_ORDER if p.value in windows), ""]:
            r = report.get(phase)
            if phase == "" and r is None:
                continue
            r = r or {"orders": 0, "gmv": 0, "discount": 0, "cashback": 0, "charged": 0}
            w = windows.get(phase)
            rows.append(
                [
                    c.id,
                    c.name,
                    phase,
                    _iso(w.starts_at if w else c.starts_at, tz),
                    _iso(w.ends_at if w else c.ends_at, tz),
                    r["orders"],
                    r["gmv"],
                    r["discount"],
                    r["cashback"],
                    r["charged"],
                    c.budget_amount,
                ]
            )
    return rows


def _promotion_rows(
    s: Session, status: str | None, tz: str, campaign: int | None
) -> list[list[Any]]:
    return [
        [
            p.id,
            p.name,
            p.kind,
            p.status,
            _iso(p.starts_at, tz),
            _iso(p.ends_at, tz),
            p.used_count,
            p.spent_amount,
            p.budget_amount,
            p.campaign_id,
            p.campaign_phase,
        ]
        for p in list_promotions(s, status=status, campaign_id=campaign)
    ]


def _coupon_rows(s: Session, start: dt.datetime, end: dt.datetime) -> list[list[Any]]:
    counts = template_counts(s, issued_from=start, issued_to=end)
    rows: list[list[Any]] = []
    for t in list_templates(s):
        n = counts.get(t.id, {"issued": 0, "claimed": 0, "redeemed": 0})
        rate = n["redeemed"] / n["issued"] if n["issued"] else None
        head = [t.id, t.name, t.promotion_id, t.trigger, t.claimable]
        rows.append([*head, n["issued"], n["claimed"], n["redeemed"], rate])
    return rows


def _metrics(wh: Warehouse, period: Period, tz: str) -> dict[str, Any]:
    ev = evaluate(wh, METRIC_CODES, period, grain="day", compare=("previous",), timezone=tz)
    return {
        "cards": [ev[c] for c in METRIC_CODES],
        "daily": [(p["start"], p["value"]) for p in ev["discount_share"].series],
    }


def _figures(
    campaigns: list[list[Any]],
    coupons: list[list[Any]],
    daily: list[tuple[Any, Any]],
    _: Callable[[str], str],
    link: str,
) -> dict[str, Any]:
    margin = {"t": 10, "l": 50, "r": 10, "b": 60}
    labels = [f"{r[1]} · {_(r[2]) if r[2] else '—'}" for r in campaigns]
    figures: dict[str, Any] = {}
    if campaigns:
        figures["campaign-chart"] = {
            "data": [
                {
                    "type": "bar",
                    "name": "GMV",
                    "x": labels,
                    "y": [r[6] / 100 for r in campaigns],
                    # Drill-down: the campaign's phases and its promotions only.
                    "customdata": [f"{link}&campaign={r[0]}" for r in campaigns],
                },
                {
                    "type": "bar",
                    "name": _("Discount given"),
                    "x": labels,
                    "y": [r[7] / 100 for r in campaigns],
                },
            ],
            "layout": {"barmode": "group", "margin": margin, "height": 300},
        }
    if coupons:
        names = [r[1] for r in coupons]
        figures["coupon-chart"] = {
            "data": [
                {"type": "bar", "name": _("Issued"), "x": names, "y": [r[5] for r in coupons]},
                {"type": "bar", "name": _("Redeemed"), "x": names, "y": [r[7] for r in coupons]},
            ],
            "layout": {"barmode": "group", "margin": margin, "height": 300},
        }
    points = [(str(d), v) for d, v in daily if v is not None]
    if points:
        figures["share-chart"] = {
            "data": [
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [d for d, _ in points],
                    "y": [v for _, v in points],
                }
            ],
            "layout": {"margin": margin, "height": 260, "yaxis": {"tickformat": ".1%"}},
        }
    return figures


def _page(
    request: Request,
    viewer: ConsoleViewer,
    start: str | None,
    end: str | None,
    status: str | None,
    campaign: int | None = None,
    export: str | None = None,
    status_code: int = 200,
    message: str | None = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    status_error = None
    if status and status not in STATUSES:
        status_error, status = "Unknown status.", None
    tz = request.app.state.settings.timezone
    lo, hi = _bounds(period, tz)
    with session_scope(request.app.state.engine, readonly=True) as s:
        tables = {
            "campaigns": _campaign_rows(s, lo, hi, tz, campaign),
            "promotions": _promotion_rows(s, status or None, tz, campaign),
            "coupons": _coupon_rows(s, lo, hi),
        }
    if export:
        table, fmt = export.split("_")
        name = f"promotions_{table}_{period.start}_{period.end}"
        return table_response(name, fmt, HEADERS[table], tables[table])
    metrics = cached(
        request, ("promotions", period.start, period.end), lambda wh: _metrics(wh, period, tz)
    )
    _ = Formatter(viewer.locale).gettext
    link = f"/console/promotions?start={period.start}&end={period.end}"
    figures = _figures(tables["campaigns"], tables["coupons"], metrics["daily"], _, link)
    return render(
        request,
        "promotions.html",
        viewer,
        status_code,
        period=period,
        date_error=date_error,
        status=status,
        status_error=status_error,
        statuses=STATUSES,
        cards=metrics["cards"],
        campaigns=tables["campaigns"],
        promotions=tables["promotions"],
        coupons=tables["coupons"],
        actions=ACTIONS,
        can_act=viewer.may(frozenset(ACTION_ROLES)),
        message=message,
        campaign=campaign,
        all_campaigns=f"{link}&status={status or ''}",
        q=f"start={period.start}&end={period.end}&status={status or ''}"
        + (f"&campaign={campaign}" if campaign else ""),
        figures=json.dumps(figures, ensure_ascii=False).replace("</", "<\\/"),
    )


@router.get("/promotions")
def promotions(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    campaign: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    export: Annotated[str | None, Query(pattern=EXPORTS)] = None,
) -> Response:
    return _page(request, viewer, start, end, status, campaign, export)


@router.post("/promotions/{promotion_id}/{action}")
def promotion_action(
    request: Request,
    promotion_id: int,
    action: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    # The page's range and filter ride along in the query string, back to the same view.
    form = request.query_params
    try:
        with session_scope(request.app.state.engine) as s:
            change_status(s, promotion_id=promotion_id, action=action)
    except ShopOpsError as exc:
        return _page(
            request,
            viewer,
            form.get("start"),
            form.get("end"),
            form.get("status"),
            int(form["campaign"]) if form.get("campaign", "").isdigit() else None,
            status_code=exc.status_code,
            message=f"#{promotion_id}: {exc.message}",
        )
    return RedirectResponse(f"/console/promotions?{form}", status_code=303)
