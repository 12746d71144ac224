"""Goals: every goal's progress in the period holding a day, with a progress bar, the pace
(on track / behind) and the forecast to the period's end (shopops.ops.goals)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.engine import open_warehouse
from shopops.analytics.periods import shop_today
from shopops.db import session_scope
from shopops.ops.goals.service import install_default_goals, progress
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.render import register_page, render

ROLES = register_page("/console/goals", "目标 Goals", Role.OPERATOR, Role.ANALYST)


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
    settings = request.app.state.settings
    yesterday = shop_today(settings.timezone) - dt.timedelta(days=1)
    error = None
    try:
        day = dt.date.fromisoformat(date) if date else yesterday
    except ValueError:
        day, error = yesterday, "Dates are written YYYY-MM-DD."
    # Installing the seed's targets on first view is a write: its own unit of work.
    with session_scope(request.app.state.engine) as s:
        install_default_goals(s)
        got = progress(s, open_warehouse(settings.data_dir), day, timezone=settings.timezone)
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
    return render(request, "ops_goals.html", viewer, rows=rows, day=day, error=error)
