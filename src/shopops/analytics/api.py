"""Analytics routes: the metric registry, metric values, the daily report, the GMV
decomposition (analyst role). Parse → evaluate → JSON; every bad input is a 4xx with a code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from shopops.analytics.engine import Warehouse, open_warehouse
from shopops.analytics.metrics import DIMENSIONS, METRICS, decompose, evaluate
from shopops.analytics.metrics.errors import InvalidFilter
from shopops.analytics.metrics.registry import GROUP_EN, GROUPS
from shopops.analytics.periods import InvalidPeriod, Period, parse_period, shop_today
from shopops.analytics.report import daily_report
from shopops.api.deps import Analyst, SessionDep
from shopops.db import now

router = APIRouter(prefix="/analytics", tags=["analytics"])


def _warehouse(request: Request) -> Warehouse:
    return open_warehouse(request.app.state.settings.data_dir)


def _timezone(request: Request) -> str:
    return request.app.state.settings.timezone


def _period(text: str, request: Request, session: SessionDep) -> Period:
    return parse_period(text, today=shop_today(_timezone(request), now(session)))


def _filters(items: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        dim, sep, value = item.partition(":")
        if not sep or not dim.strip() or not value.strip():
            raise InvalidFilter(
                f"bad filter {item!r}: write DIMENSION:VALUE (e.g. channel:paid_search)",
                details={"filter": item},
            )
        out.setdefault(dim.strip(), []).extend(v.strip() for v in value.split(","))
    return out


@router.get("/metrics")
def list_metrics(_: Analyst) -> dict[str, Any]:
    """Every metric of the registry (with its dimensions), the dimensions and the groups."""
    return {
        "metrics": [m.to_dict() for m in METRICS.values()],
        "dimensions": [
            {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}
            for d in DIMENSIONS.values()
        ],
        "groups": [{"name_zh": g, "name_en": GROUP_EN[g]} for g in GROUPS],
    }


@router.get("/metrics/values")
def metric_values(
    _: Analyst,
    request: Request,
    session: SessionDep,
    period: Annotated[str, Query(max_length=64)] = "yesterday",
    codes: Annotated[str | None, Query(max_length=2000)] = None,
    grain: Annotated[str | None, Query(max_length=16)] = None,
    by: Annotated[str | None, Query(max_length=64)] = None,
    compare: Annotated[str, Query(max_length=64)] = "previous,last_year",
    filter: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Metrics `codes` (comma-separated; default all) for `period`, with `compare`
    (previous,last_year or none), a series per `grain`, a breakdown `by` a dimension and
    `filter=dimension:value` (repeatable)."""
    chosen = _period(period, request, session)
    comparisons = [] if compare.strip() in ("", "none") else [c.strip() for c in compare.split(",")]
    result = evaluate(
        _warehouse(request),
        codes,
        chosen,
        grain=grain or None,
        by=by or None,
        filters=_filters(filter or []),
        compare=comparisons,
        timezone=_timezone(request),
    )
    return result.to_dict()


@router.get("/report")
def report(
    _: Analyst,
    request: Request,
    session: SessionDep,
    date: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """The daily report of `date` (default: yesterday in the shop's time zone)."""
    chosen = _period(date or "yesterday", request, session)
    if chosen.kind != "day":
        raise InvalidPeriod(
            f"date takes one day (YYYY-MM-DD), not {date!r}", details={"date": date}
        )
    return daily_report(_warehouse(request), chosen.start, timezone=_timezone(request)).to_dict()


@router.get("/decomposition")
def decomposition(
    _: Analyst,
    request: Request,
    session: SessionDep,
    period: Annotated[str, Query(max_length=64)] = "yesterday",
    against: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """gmv = uv × conversion_rate × aov for `period` against `against` (default: the previous
    period), the change split by LMDI, and new vs returning buyers' gmv."""
    chosen = _period(period, request, session)
    base = _period(against, request, session) if against else None
    result = decompose(_warehouse(request), chosen, base, timezone=_timezone(request))
    return result.to_dict()
