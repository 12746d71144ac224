"""Build a review for a period (reads the warehouse and the alerts; writes nothing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import decompose, evaluate
from shopops.analytics.periods import Period, day_period, month_period
from shopops.analytics.report import FACTOR_NAMES, format_change, format_value
from shopops.money import format_money
from shopops.ops.alerts.models import Alert
from shopops.ops.goals.rules import attainment
from shopops.ops.goals.service import targets_for

KPIS = (
    "uv", "conversion_rate", "aov", "gmv", "paid_orders", "new_buyers", "returning_buyers",
    "repurchase_rate", "natural_traffic_share", "hit_product_share", "refund_rate",
    "stockout_rate", "ad_spend", "roi",
)  # fmt: skip
MOVERS = (("gmv", "channel"), ("uv", "channel"), ("gross_profit", "top_category"))
KINDS = ("daily", "weekly", "monthly")
# The goal period a review compares with (weekly reviews have no weekly goals).
GOAL_PERIOD = {"daily": "day", "monthly": "month"}


def review_period(kind: str, day: dt.date) -> Period:
    """daily: the day; weekly: the ISO week (Mon–Sun) holding it; monthly: its month."""
    if kind == "daily":
        return day_period(day)
    if kind == "weekly":
        start = day - dt.timedelta(days=day.weekday())
        return Period(start, start + dt.timedelta(days=6))
    if kind == "monthly":
        return month_period(day.year, day.month)
    raise ValueError(kind)


@dataclass
class Review:
    kind: str
    period: Period
    previous: Period
    kpis: list[dict[str, Any]] = field(default_factory=list)
    decomposition: list[dict[str, str]] = field(default_factory=list)
    gmv_change: str = ""
    movers: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_targets(self) -> bool:
        return any(k["target"] != "—" for k in self.kpis)

    @property
    def title(self) -> str:
        zh = {"daily": "日报", "weekly": "周报", "monthly": "月报"}[self.kind]
        return f"{zh} {self.kind.title()} review · {self.period.label}"


def build_review(
    session: Session, wh: Warehouse, kind: str, day: dt.date, *, timezone: str = "Asia/Shanghai"
) -> Review:
    period = review_period(kind, day)
    ev = evaluate(wh, list(KPIS), period, compare=("previous",), timezone=timezone)
    assert ev.previous_period is not None
    rev = Review(kind, period, ev.previous_period)
    goals = targets_for(session, GOAL_PERIOD[kind]) if kind in GOAL_PERIOD else {}
    for code in KPIS:
        r = ev[code]
        goal = goals.get(code)
        met = attainment(r.metric, goal.target, r.value) if goal else None
        rev.kpis.append(
            {
                "code": code,
                "name_zh": r.metric.name_zh,
                "name_en": r.metric.name_en,
                "value": format_value(r.metric, r.value),
                "previous": format_value(r.metric, r.previous),
                "change": format_change(r.change),
                "raw_change": r.change,
                "target": format_value(r.metric, goal.target) if goal else "—",
                "vs_target": "—" if met is None else f"{met:.0%}",
                "met": None if met is None else met >= 1,
                "good": None
                if r.change is None or r.change == 0
                else (r.change > 0) == (r.metric.good_direction == "up"),
            }
        )
    d = decompose(wh, period, timezone=timezone)
    rev.gmv_change = format_money(d.change)
    for f, (zh, en) in FACTOR_NAMES.items():
        rev.decomposition.append(
            {"factor": f"{zh} {en}", "contribution": format_money(d.parts_fen[f])}
        )
    for metric, dim in MOVERS:
        r = evaluate(wh, [metric], period, by=dim, compare=("previous",), timezone=timezone)[metric]
        rows = [row for row in r.breakdown if row["key"] != "unknown"]

        def move(row: dict[str, Any]) -> float:
            return float((row["value"] or 0) - (row["previous"] or 0))

        delta = sorted(rows, key=move)
        falls, rises = [r for r in delta if move(r) < 0], [r for r in delta[::-1] if move(r) > 0]
        for label, pick in (("top", rises[:3]), ("bottom", falls[:3])):
            for row in pick:
                rev.movers.append(
                    {
                        "metric": r.metric.name_zh + " " + r.metric.name_en,
                        "dimension": dim,
                        "side": label,
                        "member": row["key"],
                        "value": format_value(r.metric, row["value"]),
                        "previous": format_value(r.metric, row["previous"]),
                        "change": format_change(row["change"]),
                    }
                )
    q = select(Alert).where(Alert.day >= period.start, Alert.day <= period.end)
    for a in session.scalars(q.order_by(Alert.day, Alert.level.desc())):
        attr = a.attribution or {}
        rev.alerts.append(
            {
                "day": a.day.isoformat(),
                "level": a.level,
                "status": a.status,
                "message": f"{a.message_zh} / {a.message_en}",
                "attribution": f"{attr['dimension']}={attr['member']} ({attr['share']:.0%})"
                if attr
                else "—",
                "playbook": a.playbook_zh,
            }
        )
    return rev
