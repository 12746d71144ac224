"""Goals' use cases (they never commit): save, list, delete, install the seed's defaults, and
the progress of every goal as of a day (reads the warehouse through the metrics registry)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS, evaluate
from shopops.analytics.periods import Period
from shopops.db import now
from shopops.ops.goals.defaults import DEFAULT_GOALS
from shopops.ops.goals.errors import GoalNotFound, InvalidGoal
from shopops.ops.goals.models import Goal
from shopops.ops.goals.rules import (
    attainment,
    elapsed_days,
    goal_period,
    is_additive,
    pace,
    run_rate_forecast,
)
from shopops.ops.goals.schemas import GoalSpec


def parse_goal(data: Any) -> GoalSpec:
    try:
        return GoalSpec.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()
        ]
        code = data.get("code") if isinstance(data, dict) else None
        raise InvalidGoal(
            f"goal {code or '?'}: "
            + "; ".join(f"{e['loc'] or 'goal'}: {e['msg']}" for e in errors),
            details={"goal": code, "errors": errors},
        ) from None


def list_goals(session: Session) -> list[Goal]:
    return list(session.scalars(select(Goal).order_by(Goal.id)))


def get_goal(session: Session, code: str) -> Goal:
    goal = session.scalar(select(Goal).where(Goal.code == code))
    if goal is None:
        raise GoalNotFound(f"no goal {code!r}", details={"code": code})
    return goal


def save_goal(session: Session, spec: GoalSpec) -> Goal:
    """Create or replace the goal with `spec.code`."""
    goal = session.scalar(select(Goal).where(Goal.code == spec.code))
    if goal is None:
        goal = Goal(code=spec.code)
        session.add(goal)
    for k, v in spec.model_dump(exclude={"code"}).items():
        setattr(goal, k, v)
    goal.updated_at = now(session)
    session.flush()
    return goal


def delete_goal(session: Session, code: str) -> None:
    session.delete(get_goal(session, code))
    session.flush()


def install_default_goals(session: Session) -> list[Goal]:
    """The seed's targets when the shop has no goal at all (a deleted default stays deleted
    as long as any goal remains)."""
    if session.scalar(select(Goal.id).limit(1)) is not None:
        return []
    return [save_goal(session, parse_goal(g)) for g in DEFAULT_GOALS]


def goal_dict(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "code": goal.code,
        "metric": goal.metric,
        "period": goal.period,
        "target": goal.target,
        "dimension": goal.dimension,
        "member": goal.member,
        "name_zh": goal.name_zh,
        "name_en": goal.name_en,
    }


@dataclass
class GoalProgress:
    code: str
    metric: str
    name_zh: str
    name_en: str
    unit: str
    dimension: str | None
    member: str | None
    period: str  # the period's label
    start: str
    end: str
    target: float
    additive: bool
    actual: float | None  # period to date
    share_elapsed: float
    expected: float | None  # what the actual should be by now
    pace: str  # on_track | behind | no_data
    forecast: float | None
    attainment: float | None  # actual / target
    forecast_attainment: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def goal_progress(
    wh: Warehouse, goal: Goal, as_of: dt.date, *, timezone: str = "Asia/Shanghai"
) -> GoalProgress:
    """Progress of one goal in the period holding `as_of`, counting days up to `as_of`."""
    metric = METRICS[goal.metric]
    period = goal_period(goal.period, as_of)
    additive = is_additive(metric)
    filters = {goal.dimension: [goal.member]} if goal.dimension else None
    actual: float | None = None
    forecast: float | None = None
    if elapsed_days(period, as_of) > 0:
        to_date = Period(period.start, min(as_of, period.end))
        grain = "day" if additive and to_date.days > 1 else None
        r = evaluate(
            wh, [goal.metric], to_date, grain=grain, filters=filters, compare=(), timezone=timezone
        )[goal.metric]
        actual = None if r.value is None else float(r.value)
        if not additive or actual is None:
            forecast = actual
        elif to_date.end == period.end:
            forecast = actual  # the period is over
        else:
            daily = {dt.date.fromisoformat(p["start"]): p["value"] for p in r.series} or {
                to_date.end: actual
            }
            forecast = run_rate_forecast(actual, daily, period, as_of)
    p = pace(metric, goal.target, actual, period, as_of)
    return GoalProgress(
        code=goal.code,
        metric=goal.metric,
        name_zh=goal.name_zh,
        name_en=goal.name_en,
        unit=metric.unit,
        dimension=goal.dimension,
        member=goal.member,
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        target=goal.target,
        additive=additive,
        actual=actual,
        share_elapsed=p.share_elapsed,
        expected=p.expected,
        pace=p.status,
        forecast=forecast,
        attainment=attainment(metric, goal.target, actual),
        forecast_attainment=attainment(metric, goal.target, forecast),
    )


def progress(
    session: Session, wh: Warehouse, as_of: dt.date, *, timezone: str = "Asia/Shanghai"
) -> list[GoalProgress]:
    return [goal_progress(wh, g, as_of, timezone=timezone) for g in list_goals(session)]


def targets_for(session: Session, period_kind: str) -> dict[str, Goal]:
    """Shop-wide goals (no dimension) of a period kind, by metric: the reviews' 'vs target'."""
    q = select(Goal).where(Goal.period == period_kind, Goal.dimension.is_(None))
    return {g.metric: g for g in session.scalars(q.order_by(Goal.id))}
