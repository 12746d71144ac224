"""Use cases of the alerts domain (verbs; they never commit: the edge owns the transaction):
rules as data (save, import/export YAML), alerts' life cycle. The day's evaluation lives in
alerts/evaluation.py and is re-exported here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.ops.actions.service import action_to_dict
from shopops.ops.alerts.defaults import DEFAULT_RULES
from shopops.ops.alerts.errors import (
    AlertNotFound,
    IllegalAlertTransition,
    InvalidRule,
    InvalidRuleFile,
    RuleNotFound,
)
from shopops.ops.alerts.evaluation import (
    EvaluationReport,
    RuleOutcome,
    campaign_days,
    evaluate_day,
    list_rules,
)
from shopops.ops.alerts.models import Alert, AlertEvent, AlertRule
from shopops.ops.alerts.rules import AlertKind, AlertStatus, can_move
from shopops.ops.alerts.schemas import RuleSpec

__all__ = [
    "EvaluationReport",
    "RuleOutcome",
    "campaign_days",
    "evaluate_day",
    "list_rules",
]


def parse_rule(data: Any) -> RuleSpec:
    try:
        return RuleSpec.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()
        ]
        code = data.get("code") if isinstance(data, dict) else None
        raise InvalidRule(
            f"rule {code or '?'}: "
            + "; ".join(f"{e['loc'] or 'rule'}: {e['msg']}" for e in errors),
            details={"rule": code, "errors": errors},
        ) from None


def save_rule(session: Session, spec: RuleSpec) -> AlertRule:
    """Create or replace the rule with `spec.code`."""
    rule = session.scalar(select(AlertRule).where(AlertRule.code == spec.code))
    if rule is None:
        rule = AlertRule(code=spec.code)
        session.add(rule)
    rule.spec = spec.model_dump(mode="json")
    rule.enabled = spec.enabled
    rule.updated_at = now(session)
    session.flush()
    return rule


def install_default_rules(session: Session) -> list[AlertRule]:
    """The seed's rules, for those not defined yet (never overwrites an edited rule)."""
    have = set(session.scalars(select(AlertRule.code)))
    return [save_rule(session, parse_rule(r)) for r in DEFAULT_RULES if r["code"] not in have]


def get_rule(session: Session, code: str) -> AlertRule:
    rule = session.scalar(select(AlertRule).where(AlertRule.code == code))
    if rule is None:
        raise RuleNotFound(f"no alert rule {code!r}", details={"code": code})
    return rule


def delete_rule(session: Session, code: str) -> None:
    rule = get_rule(session, code)
    rule.enabled = False
    rule.spec = {**rule.spec, "enabled": False}


def import_rules(session: Session, text: str) -> list[AlertRule]:
    """Validate every rule of a YAML document first, then save them all (all or nothing)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRuleFile(f"malformed YAML: {exc}", details={"error": str(exc)}) from None
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InvalidRuleFile("a rule file is a list of rules (or {rules: [...]})")
    specs = [parse_rule(r) for r in data]
    codes = [s.code for s in specs]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise InvalidRuleFile(
            f"rule code(s) repeated: {', '.join(dupes)}", details={"codes": dupes}
        )
    return [save_rule(session, s) for s in specs]


def export_rules(session: Session) -> str:
    specs = [r.spec for r in list_rules(session)]
    return yaml.safe_dump({"rules": specs}, allow_unicode=True, sort_keys=False)


def list_alerts(
    session: Session, *, status: str | None = None, day: dt.date | None = None, limit: int = 200
) -> list[Alert]:
    q = select(Alert).order_by(Alert.day.desc(), Alert.level.desc(), Alert.id)
    if status:
        q = q.where(Alert.status == status)
    if day:
        q = q.where(Alert.day == day)
    return list(session.scalars(q.limit(limit)))


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}", details={"id": alert_id})
    return alert


def _move(session: Session, alert_id: int, to: AlertStatus, actor: str, note: str) -> Alert:
    alert = get_alert(session, alert_id)
    if not can_move(alert.status, to):
        raise IllegalAlertTransition(
            f"alert {alert_id} is {alert.status}: cannot become {to.value}",
            details={"id": alert_id, "status": alert.status, "to": to.value},
        )
    at = now(session)
    alert.status = to
    if to is AlertStatus.ACKNOWLEDGED:
        alert.acknowledged_by, alert.acknowledged_at = actor, at
    else:
        alert.resolved_by, alert.resolved_at = actor, at
    alert.history.append(AlertEvent(status=to, actor=actor, note=note, at=at))
    session.flush()
    return alert


def acknowledge_alert(session: Session, alert_id: int, actor: str, note: str = "") -> Alert:
    return _move(session, alert_id, AlertStatus.ACKNOWLEDGED, actor, note)


def resolve_alert(session: Session, alert_id: int, actor: str, note: str = "") -> Alert:
    return _move(session, alert_id, AlertStatus.RESOLVED, actor, note)


def alert_to_dict(a: Alert) -> dict[str, Any]:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {
        "id": a.id,
        "rule_code": a.key if a.kind == AlertKind.RULE else None,
        "kind": a.kind,
        "day": a.day.isoformat(),
        "level": a.level,
        "status": a.status,
        "metric": a.metric,
        "filters": a.filters,
        "value": a.value,
        "base": a.base,
        "change": a.change,
        "score": a.score,
        "message_zh": a.message_zh,
        "message_en": a.message_en,
        "playbook_zh": a.playbook_zh,
        "playbook_en": a.playbook_en,
        "attribution": a.attribution,
        "opened_at": iso(a.opened_at),
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": iso(a.acknowledged_at),
        "resolved_by": a.resolved_by,
        "resolved_at": iso(a.resolved_at),
        "history": [
            {"status": e.status, "actor": e.actor, "note": e.note, "at": iso(e.at)}
            for e in a.history
        ],
        "actions": [action_to_dict(x) for x in a.actions],
    }
