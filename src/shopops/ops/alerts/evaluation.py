"""Evaluate a day (a verb of the alerts domain; it never commits): every enabled rule over
the metrics registry, per-member rules, and the anomaly detector, opening alerts
idempotently — one per (rule or anomaly key, day) — with cool-downs and attribution."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS
from shopops.db import now
from shopops.ops.alerts.calendar import campaign_days
from shopops.ops.alerts.models import Alert, AlertEvent, AlertRule
from shopops.ops.alerts.rules import (
    AlertKind,
    AlertStatus,
    base_value,
    holds,
    level_of_score,
    lookback_days,
    measure,
)
from shopops.ops.alerts.schemas import RuleSpec
from shopops.ops.anomaly import reads
from shopops.ops.anomaly.series_cache import SeriesCache
from shopops.ops.anomaly.service import (
    DETECTOR_HISTORY_DAYS,
    DETECTOR_METRICS,
    attribute,
    daily_series,
    detect,
)


def list_rules(session: Session) -> list[AlertRule]:
    return list(session.scalars(select(AlertRule).order_by(AlertRule.id)))


def _filters_key(filters: dict[str, list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(v)) for k, v in filters.items()))


@dataclass
class RuleOutcome:
    code: str
    status: str  # fired | quiet | cooling_down | waiting_for_data | no_data | already_open
    value: float | None = None
    base: float | None = None
    change: float | None = None
    alert_id: int | None = None


@dataclass
class EvaluationReport:
    day: dt.date
    outcomes: list[RuleOutcome] = field(default_factory=list)
    anomalies: list[RuleOutcome] = field(default_factory=list)
    opened: list[Alert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "rules": [o.__dict__ for o in self.outcomes],
            "anomalies": [o.__dict__ for o in self.anomalies],
            "opened": [a.id for a in self.opened],
        }


def _cooling(session: Session, key: str, day: dt.date, days: int) -> bool:
    if days <= 0:
        return False
    since = day - dt.timedelta(days=days)
    return (
        session.scalar(
            select(Alert.id).where(Alert.key == key, Alert.day >= since, Alert.day < day).limit(1)
        )
        is not None
    )


def _base_days(spec: RuleSpec, day: dt.date) -> list[dt.date]:
    c = spec.condition
    if c.compare == "previous":
        return [day - dt.timedelta(days=1)]
    if c.compare == "baseline":
        return [day - dt.timedelta(days=7 * k) for k in range(1, c.baseline_weeks + 1)]
    return [day - dt.timedelta(days=7)]  # same weekday; for thresholds: explain vs a week ago


def _fmt(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    unit = METRICS[metric].unit if metric in METRICS else "count"
    if unit == "ratio":
        return f"{v:.2%}"
    if unit == "fen" or metric.startswith("ad_spend/"):
        return f"¥{v / 100:,.2f}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


def _open(session: Session, **kw: Any) -> Alert:
    alert = Alert(status=AlertStatus.OPEN, opened_at=now(session), **kw)
    alert.history.append(AlertEvent(status=AlertStatus.OPEN, actor="system", at=alert.opened_at))
    session.add(alert)
    session.flush()
    return alert


def evaluate_day(
    session: Session,
    wh: Warehouse,
    day: dt.date,
    *,
    timezone: str = "Asia/Shanghai",
    anomalies: bool = True,
    series_cache: SeriesCache | None = None,
) -> EvaluationReport:
    """Evaluate every enabled rule (and the detector) for shop-local `day` (a backfill passes
    one `series_cache` for all its days: each series read once, not once a day)."""
    read_series = series_cache.daily_series if series_cache else daily_series
    report = EvaluationReport(day)
    rules = [(r, RuleSpec.model_validate(r.spec)) for r in list_rules(session) if r.enabled]
    live = [(r, s) for r, s in rules if s.available() and not s.split_by]
    # Each series is read over the longest look-back any reader needs (a 5-day stock rule
    # need not scan six weeks of stock snapshots); series of equal look-back share one read.
    need: dict[tuple[str, Any], int] = {}
    for _, s in live:
        key = (s.metric, _filters_key(s.filters))
        need[key] = max(need.get(key, 0), lookback_days(s.condition))
    if anomalies:
        for key in DETECTOR_METRICS:
            need[key] = max(need.get(key, 0), DETECTOR_HISTORY_DAYS)
    span = max(need.values(), default=0)
    start = day - dt.timedelta(days=span)
    by_span: dict[int, list[tuple[str, Any]]] = {}
    for key, n in need.items():
        by_span.setdefault(n, []).append(key)
    series: dict[tuple[str, Any], Any] = {}
    for n, keys in sorted(by_span.items()):
        series.update(read_series(wh, keys, day - dt.timedelta(days=n), day, timezone))
    existing = {a.key: a for a in session.scalars(select(Alert).where(Alert.day == day))}
    skip = campaign_days(session, start, day, timezone, warm_up=True)
    for rule, spec in rules:
        if not spec.available():
            report.outcomes.append(RuleOutcome(spec.code, "waiting_for_data"))
            continue
        if spec.split_by:
            _evaluate_split(session, wh, rule, spec, day, timezone, existing, report, skip)
            continue
        s = series[(spec.metric, _filters_key(spec.filters))]
        value, base, tested = measure(spec.condition, s, day, skip)
        out = RuleOutcome(
            spec.code, "quiet", value, base, tested if spec.condition.kind == "change" else None
        )
        report.outcomes.append(out)
        verdict = holds(spec.condition, s, day, skip)
        if verdict is None:
            out.status = "no_data"
            continue
        if not verdict:
            continue
        if spec.metric == "stockout_rate" and _stockouts(session, wh, rule, spec, day, existing,
                                                         report, out, timezone):  # fmt: skip
            continue
        if spec.code in existing:
            out.status, out.alert_id = "already_open", existing[spec.code].id
            continue
        if _cooling(session, spec.code, day, spec.cooldown_days):
            out.status = "cooling_down"
            continue
        attr_d = _attribution(wh, spec, day, skip, timezone)
        base_shown = (
            base
            if base is not None
            else base_value(spec.condition.model_copy(update={"compare": "same_weekday"}), s, day)
        )
        scope = ", ".join(f"{k}={'/'.join(v)}" for k, v in spec.filters.items())
        where = f" ({scope})" if scope else ""
        why_zh = why_en = ""
        if attr_d and attr_d["dimension"] == "sku":
            skus = ", ".join(m["member"] for m in attr_d["members"][:5])
            why_zh = f"；断货SKU：{skus}"
            why_en = f"; out of stock: SKU {skus}"
        elif attr_d:
            dim, member, share = attr_d["dimension"], attr_d["member"], attr_d["share"]
            why_zh = f"；主要来自 {dim}={member}（占变化 {share:.0%}）"
            why_en = f"; mostly {dim}={member} ({share:.0%} of the change)"
        alert = _open(
            session,
            key=spec.code,
            rule_id=rule.id,
            kind=AlertKind.RULE,
            day=day,
            level=spec.level,
            metric=spec.metric,
            filters=spec.filters,
            value=value,
            base=base_shown,
            change=out.change,
            score=None,
            message_zh=f"{spec.name_zh}{where}：{_fmt(spec.metric, value)}"
            f"（对比 {_fmt(spec.metric, base_shown)}）{why_zh}"[:500],
            message_en=f"{spec.name_en}{where}: {_fmt(spec.metric, value)}"
            f" (vs {_fmt(spec.metric, base_shown)}){why_en}"[:500],
            playbook_zh=spec.playbook.playbook_zh,
            playbook_en=spec.playbook.playbook_en,
            attribution=attr_d,
        )
        out.status, out.alert_id = "fired", alert.id
        report.opened.append(alert)
        if spec.action:
            from shopops.ops.actions.service import run_action

            run_action(session, wh, alert, spec.action, day, timezone)
    if anomalies:
        _anomalies(session, wh, day, timezone, series, existing, report)
    return report


def _stockouts(
    session: Session,
    wh: Warehouse,
    rule: AlertRule,
    spec: RuleSpec,
    day: dt.date,
    existing: dict[str, Alert],
    report: EvaluationReport,
    out: RuleOutcome,
    timezone: str,
) -> bool:
    """A stock-out rule opens one alert per SKU out of stock (key `code@sku=CODE`), so one
    SKU's cool-down never hides another's stock-out. False when no SKU can be named (the
    rule's filters are not product columns): the rule then alerts as a whole."""
    from shopops.ops.actions.reader import stockout_attribution

    attr = stockout_attribution(wh, day, spec.filters)
    if attr is None:
        return False
    statuses = []
    for m in attr["members"]:
        key = f"{spec.code}@sku={m['member']}"[:80]
        if key in existing:
            statuses.append("already_open")
            continue
        if _cooling(session, key, day, spec.cooldown_days):
            statuses.append("cooling_down")
            continue
        own = {**attr, **{k: m[k] for k in ("member", "member_id", "share", "change")}}
        alert = _open(
            session,
            key=key,
            rule_id=rule.id,
            kind=AlertKind.RULE,
            day=day,
            level=spec.level,
            metric=spec.metric,
            filters=spec.filters,
            value=out.value,
            base=None,
            change=None,
            score=None,
            message_zh=f"{spec.name_zh}：SKU {m['member']} 断货（近28天日均售出 "
            f"{m['change']:.1f} 件，占断货爆款销量 {m['share']:.0%}）"[:500],
            message_en=f"{spec.name_en}: SKU {m['member']} out of stock ({m['change']:.1f} "
            f"units a day over 28 days, {m['share']:.0%} of the stocked-out hits' sales)"[:500],
            playbook_zh=spec.playbook.playbook_zh,
            playbook_en=spec.playbook.playbook_en,
            attribution=own,
        )
        report.opened.append(alert)
        statuses.append("fired")
        if spec.action:
            from shopops.ops.actions.service import run_action

            run_action(session, wh, alert, spec.action, day, timezone)
    out.status = next((st for st in ("fired", "already_open", "cooling_down") if st in statuses),
                      "quiet")  # fmt: skip
    out.alert_id = next((a.id for a in report.opened if a.key.startswith(f"{spec.code}@")), None)
    return True


def _attribution(
    wh: Warehouse, spec: RuleSpec, day: dt.date, skip: frozenset[dt.date], timezone: str
) -> dict[str, Any] | None:
    """What explains the alert: for stock-outs the SKUs (the registry has no SKU dimension),
    otherwise the member of a dimension with the largest share of the change."""
    if spec.metric == "stockout_rate":
        from shopops.ops.actions.reader import stockout_attribution

        return stockout_attribution(wh, day, spec.filters)
    attr = attribute(
        wh,
        spec.metric,
        spec.filters,
        day,
        [d for d in _base_days(spec, day) if d not in skip] or _base_days(spec, day),
        spec.dimensions(),
        timezone,
    )
    return attr.to_dict() if attr else None


def _checked_days(spec: RuleSpec, day: dt.date) -> list[dt.date]:
    """Every day the condition reads: the checked days and each one's base days."""
    out: set[dt.date] = set()
    for k in range(spec.condition.consecutive):
        d = day - dt.timedelta(days=k)
        out.add(d)
        if spec.condition.compare:
            out.update(_base_days(spec, d))
    return sorted(out)


def _evaluate_split(
    session: Session,
    wh: Warehouse,
    rule: AlertRule,
    spec: RuleSpec,
    day: dt.date,
    timezone: str,
    existing: dict[str, Alert],
    report: EvaluationReport,
    skip: frozenset[dt.date] = frozenset(),
) -> None:
    """A rule judged per member of `split_by`: one alert per member that meets it."""
    from shopops.analytics.metrics import evaluate
    from shopops.analytics.periods import Period

    dim = spec.split_by or ""
    per: dict[str, dict[dt.date, float | None]] = {}
    wanted = [
        d
        for d in _checked_days(spec, day)
        if d not in skip or d > day - dt.timedelta(days=spec.condition.consecutive)
    ]
    if reads.can_read_members(spec.metric, dim, spec.filters):
        # Every member on every checked day in one query, not one evaluation per day.
        per = reads.members_daily(wh, dim, wanted, spec.filters)
        wanted = []
    for d in wanted:
        ev = evaluate(
            wh,
            [spec.metric],
            Period(d, d),
            by=dim,
            filters=spec.filters,
            compare=(),
            timezone=timezone,
        )
        r = ev[spec.metric]
        for row in r.breakdown:
            per.setdefault(row["key"], {})[d] = row["value"]
    fired = 0
    for member, s in sorted(per.items()):
        for d in _checked_days(spec, day):
            s.setdefault(d, 0)
        value, base, tested = measure(spec.condition, s, day, skip)
        if member == "unknown" or base is None or base < spec.min_base:
            continue
        if not holds(spec.condition, s, day, skip):
            continue
        key = f"{spec.code}@{dim}={member}"[:80]
        if key in existing or _cooling(session, key, day, spec.cooldown_days):
            continue
        # Its share of the moves in the same direction among all members (a growing shop can
        # hide one channel's collapse in the total).
        moves = [
            (m, (x.get(day) or 0) - (base_value(spec.condition, x, day, skip) or 0))
            for m, x in per.items()
        ]
        own = (value or 0) - base
        same = sum(v for _, v in moves if v * own > 0)
        attr = {
            "dimension": dim,
            "member": member,
            "change": own,
            "share": own / same if same else 0.0,
            "members": [{"member": m, "change": v} for m, v in sorted(moves)],
        }
        alert = _open(
            session,
            key=key,
            rule_id=rule.id,
            kind=AlertKind.RULE,
            day=day,
            level=spec.level,
            metric=spec.metric,
            filters={**spec.filters, dim: [member]},
            value=value,
            base=base,
            change=tested,
            score=None,
            message_zh=f"{spec.name_zh}（{dim}={member}）：{_fmt(spec.metric, value)}"
            f"（基线 {_fmt(spec.metric, base)}，{tested:+.0%}）"[:500],
            message_en=f"{spec.name_en} ({dim}={member}): {_fmt(spec.metric, value)}"
            f" (baseline {_fmt(spec.metric, base)}, {tested:+.0%})"[:500],
            playbook_zh=spec.playbook.playbook_zh,
            playbook_en=spec.playbook.playbook_en,
            attribution=attr,
        )
        report.opened.append(alert)
        fired += 1
    report.outcomes.append(RuleOutcome(spec.code, "fired" if fired else "quiet"))


def _anomalies(
    session: Session,
    wh: Warehouse,
    day: dt.date,
    timezone: str,
    series: dict,
    existing: dict[str, Alert],
    report: EvaluationReport,
) -> None:
    start = day - dt.timedelta(days=DETECTOR_HISTORY_DAYS)
    found, scores = detect(
        wh, day, timezone, campaign_days=campaign_days(session, start, day, timezone), series=series
    )
    flagged = {(a.metric, a.filters) for a in found}
    scores = {k: v for k, v in scores.items()}
    for (metric, fkey), sc in scores.items():
        filters = {k: list(v) for k, v in fkey}
        scope = ",".join(f"{k}={'/'.join(v)}" for k, v in fkey)
        key = f"anomaly:{metric}" + (f"@{scope}" if scope else "")
        out = RuleOutcome(
            key,
            "quiet" if sc else "no_data",
            sc.value if sc else None,
            sc.expected if sc else None,
            sc.score if sc else None,
        )
        report.anomalies.append(out)
        if (metric, fkey) not in flagged or sc is None:
            continue
        if key in existing:
            out.status, out.alert_id = "already_open", existing[key].id
            continue
        dims = [
            d
            for d in ("channel", "top_category", "category", "province")
            if d not in filters and all(d in METRICS[c].dims for c in metric.split("/"))
        ]
        attr = attribute(wh, metric, filters, day, [day - dt.timedelta(days=7)], dims, timezone)
        direction = "高于" if sc.score > 0 else "低于"
        why_zh = f"；主要来自 {attr.dimension}={attr.member}（占 {attr.share:.0%}）" if attr else ""
        why_en = f"; mostly {attr.dimension}={attr.member} ({attr.share:.0%})" if attr else ""
        name = (METRICS[metric].name_zh if metric in METRICS else metric) + (
            f"({scope})" if scope else ""
        )
        name_en = (METRICS[metric].name_en if metric in METRICS else metric) + (
            f" ({scope})" if scope else ""
        )
        alert = _open(
            session,
            key=key,
            rule_id=None,
            kind=AlertKind.ANOMALY,
            day=day,
            level=level_of_score(sc.score),
            metric=metric,
            filters=filters,
            value=sc.value,
            base=sc.expected,
            change=sc.value / sc.expected - 1 if sc.expected else None,
            score=sc.score,
            message_zh=f"异常：{name} {_fmt(metric, sc.value)}，{direction}季节基线 "
            f"{_fmt(metric, sc.expected)}（得分 {sc.score:+.1f}）{why_zh}"[:500],
            message_en=f"Anomaly: {name_en} {_fmt(metric, sc.value)} vs seasonal baseline "
            f"{_fmt(metric, sc.expected)} (score {sc.score:+.1f}){why_en}"[:500],
            playbook_zh="核查归因维度的成员（渠道/类目/地区），确认是否为真实事件并指派负责人",
            playbook_en="Check the attributed member (channel/category/region), confirm the "
            "incident and assign an owner",
            attribution=attr.to_dict() if attr else None,
        )
        out.status, out.alert_id = "fired", alert.id
        report.opened.append(alert)
