"""Goals: every goal's progress in the period holding a day, with a progress bar, the pace
(on track / behind) and the forecast to the period's end (shopops.ops.goals)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.accounts.models import Role
from shopops.analytics.engine import Warehouse
from shopops.analytics.periods import shop_today
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.ops.goals.service import (
    GoalProgress,
    install_default_goals,
    list_goals,
    parse_goal,
    progress,
    save_goal,
)
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.cache import cached
from shopops.web.render import register_page, render

ROLES = register_page("/console/goals", "Goals", Role.OPERATOR, Role.ANALYST)
ACTION_ROLES = (Role.OPERATOR,)
FIELDS = ("code", "metric", "period", "target", "dimension", "member")


def _show(unit: str, v: float | None) -> str:
    if v is None:
        return "—"
    if unit == "ratio":
        return f"{v:.2%}"
    if unit == "fen":
        return f"¥{v / 100:,.0f}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


@router.get("/goals")
def goals_page(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    date: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    return _page(request, viewer, date)


def _page(
    request: Request,
    viewer: ConsoleViewer,
    date: str | None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    form_errors: dict[str, str] | None = None,
) -> Response:
    settings = request.app.state.settings
    yesterday = shop_today(settings.timezone) - dt.timedelta(days=1)
    error = None
    try:
        day = dt.date.fromisoformat(date) if date else yesterday
    except ValueError:
        day, error = yesterday, "Dates are written YYYY-MM-DD."
    engine = request.app.state.engine
    # Installing the seed's targets on first view is a write: its own unit of work.
    with session_scope(engine) as s:
        install_default_goals(s)
        goals = tuple(
            (g.code, g.metric, g.period, g.target, g.dimension, g.member, g.updated_at)
            for g in list_goals(s)
        )

    def compute(wh: Warehouse) -> list[GoalProgress]:
        with session_scope(engine, readonly=True) as s:
            return progress(s, wh, day, timezone=settings.timezone)

    # Cached while neither the warehouse nor any goal changes (the goals are in the key).
    got = cached(request, ("goals", day.isoformat(), settings.timezone, goals), compute)
    rows: list[dict[str, Any]] = []
    for g in got:
        rows.append(
            {
                **g.to_dict(),
                "name": g.name_en if viewer.locale == "en" else g.name_zh,
                "scope": f"{g.dimension}={g.member}" if g.dimension else "",
                "bar": 0 if g.attainment is None else round(min(g.attainment, 1.0) * 100),
                "expected_bar": round(g.share_elapsed * 100) if g.additive else 100,
                "show": {
                    k: _show(g.unit, getattr(g, k))
                    for k in ("target", "actual", "expected", "forecast")
                },
            }
        )
    return render(
        request,
        "ops_goals.html",
        viewer,
        status_code,
        rows=rows,
        day=day,
        error=error,
        can_edit=viewer.may(frozenset(ACTION_ROLES)),
        form=form or dict.fromkeys(FIELDS, ""),
        form_errors=form_errors or {},
    )


@router.post("/goals")
def goal_save(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    code: Annotated[str, Form(max_length=60)] = "",
    metric: Annotated[str, Form(max_length=80)] = "",
    period: Annotated[str, Form(max_length=10)] = "month",
    target: Annotated[str, Form(max_length=30)] = "",
    dimension: Annotated[str, Form(max_length=40)] = "",
    member: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"code": code, "metric": metric, "period": period, "target": target}
    form |= {"dimension": dimension, "member": member}
    data: dict[str, Any] = {k: v.strip() for k, v in form.items() if v.strip()}
    try:
        data["target"] = float(data.get("target", ""))
    except ValueError:
        return _page(request, viewer, None, 422, form, {"target": "Target: a number."})
    try:
        spec = parse_goal(data)
        with session_scope(request.app.state.engine) as s:
            save_goal(s, spec)
    except ShopOpsError as exc:
        errors: dict[str, str] = {}
        for e in exc.details.get("errors", []):
            # A registry check fails the whole model: place it by the field it names.
            field = (
                e["loc"]
                if e["loc"] in FIELDS
                else next((f for f in ("dimension", "metric", "target") if f in e["msg"]), "code")
            )
            errors.setdefault(field, e["msg"])
        return _page(request, viewer, None, 422, form, errors or {"code": exc.message})
    return RedirectResponse("/console/goals", status_code=303)
