"""`/analytics/…` routes of the analyses (analyst role). Parse → analysis → JSON.

Periods are shop dates (`start`, `end` inclusive); when omitted, the 30 days ending today by
the store clock (`now(session)`) in the shop's time zone. Bad input is a 4xx
`{code, message, details}`; no data gives empty results, never an error.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from shopops.analytics.analyses import basket as basket_mod
from shopops.analytics.analyses import channel_roi as roi_mod
from shopops.analytics.analyses import clv as clv_mod
from shopops.analytics.analyses import funnel as funnel_mod
from shopops.analytics.analyses import paths as paths_mod
from shopops.analytics.analyses import retention as retention_mod
from shopops.analytics.analyses import rfm as rfm_mod
from shopops.analytics.analyses._common import check_period
from shopops.analytics.engine import Warehouse, open_warehouse
from shopops.api.deps import Analyst, SessionDep
from shopops.db import now

router = APIRouter(prefix="/analytics", tags=["analytics"])
_open_lock = threading.Lock()

DateQ = Annotated[dt.date | None, Query(description="Shop date, inclusive (YYYY-MM-DD)")]


def _warehouse(request: Request) -> tuple[Warehouse, threading.Lock]:
    """The app's warehouse (opened once) and the lock that serialises its connection."""
    state = request.app.state
    with _open_lock:
        wh = getattr(state, "analytics_warehouse", None)
        if wh is None:
            wh = open_warehouse(state.settings.data_dir)
            state.analytics_warehouse = wh
        lock = getattr(state, "analytics_lock", None)
        if lock is None:
            lock = state.analytics_lock = threading.Lock()
    return wh, lock


def _today(request: Request, session: SessionDep) -> dt.date:
    tz = ZoneInfo(request.app.state.settings.timezone)
    return now(session).astimezone(tz).date()


def _period(
    request: Request, session: SessionDep, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    end = end or _today(request, session)
    start = start or end - dt.timedelta(days=29)
    check_period(start, end)
    return start, end


def _run(request: Request, fn: Any, /, **kwargs: Any) -> Any:
    wh, lock = _warehouse(request)
    with lock:
        # See files the loader wrote since the last request (registration is cheap).
        wh.refresh()
        return fn(wh, **kwargs)


@router.get("/funnel")
def get_funnel(
    request: Request,
    session: SessionDep,
    _: Analyst,
    steps: Annotated[
        list[str],
        Query(
            description="Ordered steps: `event` or `event:column=value;column=value`",
            min_length=2,
            max_length=funnel_mod.MAX_STEPS,
        ),
    ],
    start: DateQ = None,
    end: DateQ = None,
    window_hours: Annotated[float, Query(gt=0, le=24 * 90)] = 24,
    breakdown: str | None = None,
) -> dict[str, Any]:
    """Strict-order funnel: counts, conversion, drop-off, breakdown, time to convert."""
    start, end = _period(request, session, start, end)
    parsed = [funnel_mod.parse_step(s) for s in steps]
    result = _run(
        request,
        funnel_mod.funnel,
        steps=parsed,
        start=start,
        end=end,
        window=dt.timedelta(hours=window_hours),
        breakdown=breakdown,
    )
    return result.to_dict()


@router.get("/paths")
def get_paths(
    request: Request,
    session: SessionDep,
    _: Analyst,
    start: DateQ = None,
    end: DateQ = None,
    by: Annotated[str, Query(pattern="^(event|path)$")] = "event",
    to_event: str = "pay",
    max_steps: Annotated[int, Query(ge=2, le=30)] = 6,
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> dict[str, Any]:
    """Most common paths from landing to `to_event`, and exit pages."""
    start, end = _period(request, session, start, end)
    result = _run(
        request,
        paths_mod.paths,
        start=start,
        end=end,
        by=by,
        to_event=to_event,
        max_steps=max_steps,
        top=top,
    )
    return result.to_dict()


@router.get("/retention")
def get_retention(
    request: Request,
    session: SessionDep,
    _: Analyst,
    start: DateQ = None,
    end: DateQ = None,
    grain: str = "month",
    cohort: str = "first_order",
    mode: str = "first_time",
    periods: Annotated[int, Query(ge=1, le=retention_mod.MAX_PERIODS)] = 12,
) -> dict[str, Any]:
    """Cohort × period-offset repurchase retention."""
    start, end = _period(request, session, start, end)
    result = _run(
        request,
        retention_mod.retention,
        start=start,
        end=end,
        grain=grain,
        cohort=cohort,
        mode=mode,
        periods=periods,
    )
    return result.to_dict()


@router.get("/rfm")
def get_rfm(
    request: Request,
    session: SessionDep,
    _: Analyst,
    as_of: DateQ = None,
    start: DateQ = None,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
) -> dict[str, Any]:
    """RFM groups, lifecycle and ACCA stage counts, and the first `limit` customers."""
    as_of = as_of or _today(request, session)
    result = _run(request, rfm_mod.rfm, as_of=as_of, start=start)
    return result.to_dict(limit=limit)


@router.get("/clv")
def get_clv(
    request: Request,
    session: SessionDep,
    _: Analyst,
    as_of: DateQ = None,
    start: DateQ = None,
    horizon_days: Annotated[int, Query(ge=1, le=3650)] = 365,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
) -> dict[str, Any]:
    """Historical and predicted (BG/NBD + Gamma-Gamma) value: totals and top customers."""
    as_of = as_of or _today(request, session)
    result = _run(request, clv_mod.clv, as_of=as_of, start=start, horizon_days=horizon_days)
    return result.to_dict(limit=limit)


@router.get("/basket")
def get_basket(
    request: Request,
    session: SessionDep,
    _: Analyst,
    start: DateQ = None,
    end: DateQ = None,
    level: str = "product",
    min_support: Annotated[float, Query(gt=0, le=1)] = 0.01,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.0,
    item: Annotated[int | None, Query(description="Rules from this item only")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """Frequent itemsets and rules; with `item`, what is frequently bought with it."""
    start, end = _period(request, session, start, end)
    result = _run(
        request,
        basket_mod.basket,
        start=start,
        end=end,
        level=level,
        min_support=min_support,
        min_confidence=min_confidence,
    )
    return result.to_dict(item=item, limit=limit)


@router.get("/channel-roi")
def get_channel_roi(
    request: Request,
    session: SessionDep,
    _: Analyst,
    start: DateQ = None,
    end: DateQ = None,
    by_campaign: bool = False,
) -> dict[str, Any]:
    """Spend, new customers, CAC, attributed GMV and ROI per channel (and campaign)."""
    start, end = _period(request, session, start, end)
    df = _run(request, roi_mod.channel_roi, start=start, end=end, by_campaign=by_campaign)
    return {"start": start.isoformat(), "end": end.isoformat(), **roi_mod.to_dict(df)}
