"""Goal routes: list, set, delete, progress as of a day. Analysts read; operators change."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from shopops.analytics.engine import open_warehouse
from shopops.analytics.periods import shop_today
from shopops.api.deps import Analyst, Operator, SessionDep
from shopops.db import now
from shopops.ops.goals import service

router = APIRouter(prefix="/ops", tags=["operations"])


@router.get("/goals")
def list_goals(session: SessionDep, _: Analyst) -> list[dict[str, Any]]:
    return [service.goal_dict(g) for g in service.list_goals(session)]


@router.put("/goals/{code}")
def save_goal(
    code: str, body: Annotated[dict[str, Any], Body()], session: SessionDep, _: Operator
) -> dict[str, Any]:
    spec = service.parse_goal({**body, "code": code})
    return service.goal_dict(service.save_goal(session, spec))


@router.delete("/goals/{code}", status_code=204)
def delete_goal(code: str, session: SessionDep, _: Operator) -> None:
    service.delete_goal(session, code)


@router.post("/goals/defaults")
def install_defaults(session: SessionDep, _: Operator) -> list[dict[str, Any]]:
    """The seed's targets, when the shop has no goal yet."""
    return [service.goal_dict(g) for g in service.install_default_goals(session)]


@router.get("/goals/progress")
def progress(
    request: Request, session: SessionDep, _: Analyst, date: dt.date | None = None
) -> dict[str, Any]:
    """Every goal's actual so far, pace and forecast in the period holding `date` (default:
    the shop's today)."""
    settings = request.app.state.settings
    day = date or shop_today(settings.timezone, now(session))
    wh = open_warehouse(settings.data_dir)
    rows = service.progress(session, wh, day, timezone=settings.timezone)
    return {"date": day.isoformat(), "goals": [r.to_dict() for r in rows]}
