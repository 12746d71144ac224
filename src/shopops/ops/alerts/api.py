"""Alert routes: rules as data (list, save, import/export YAML), alerts and their life cycle,
an on-demand evaluation, the delivery log. Analysts read; operators change."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import PlainTextResponse

from shopops.analytics.engine import open_warehouse
from shopops.api.deps import Analyst, Operator, SessionDep
from shopops.ops.alerts import service
from shopops.ops.alerts.schemas import Transition
from shopops.ops.notify.service import list_deliveries

router = APIRouter(prefix="/ops", tags=["operations"])


def _actor(who: Any) -> str:
    return f"{who.role.value}:{who.key_id}"


def _rule(r: Any) -> dict[str, Any]:
    return {"id": r.id, **r.spec}


@router.get("/alert-rules")
def list_rules(session: SessionDep, _: Analyst) -> list[dict[str, Any]]:
    return [_rule(r) for r in service.list_rules(session)]


@router.put("/alert-rules/{code}")
def save_rule(
    code: str, body: Annotated[dict[str, Any], Body()], session: SessionDep, _: Operator
) -> dict[str, Any]:
    spec = service.parse_rule({**body, "code": code})
    return _rule(service.save_rule(session, spec))


@router.delete("/alert-rules/{code}")
def disable_rule(code: str, session: SessionDep, _: Operator) -> dict[str, Any]:
    service.delete_rule(session, code)
    return _rule(service.get_rule(session, code))


@router.post("/alert-rules/import")
def import_rules(
    session: SessionDep, _: Operator, text: Annotated[str, Body(media_type="application/yaml")]
) -> list[dict[str, Any]]:
    return [_rule(r) for r in service.import_rules(session, text)]


@router.get("/alert-rules/export", response_class=PlainTextResponse)
def export_rules(session: SessionDep, _: Analyst) -> str:
    return service.export_rules(session)


@router.get("/alerts")
def list_alerts(
    session: SessionDep,
    _: Analyst,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")] = None,
    day: dt.date | None = None,
) -> list[dict[str, Any]]:
    return [service.alert_to_dict(a) for a in service.list_alerts(session, status=status, day=day)]


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: int, session: SessionDep, _: Analyst) -> dict[str, Any]:
    return service.alert_to_dict(service.get_alert(session, alert_id))


@router.post("/alerts/{alert_id}/ack")
def ack(alert_id: int, body: Transition, session: SessionDep, who: Operator) -> dict[str, Any]:
    return service.alert_to_dict(
        service.acknowledge_alert(session, alert_id, _actor(who), body.note)
    )


@router.post("/alerts/{alert_id}/resolve")
def resolve(alert_id: int, body: Transition, session: SessionDep, who: Operator) -> dict[str, Any]:
    return service.alert_to_dict(service.resolve_alert(session, alert_id, _actor(who), body.note))


@router.post("/alerts/evaluate")
def evaluate(day: dt.date, request: Request, session: SessionDep, _: Operator) -> dict[str, Any]:
    """Evaluate one day now (idempotent: a rerun opens nothing twice); no notifications."""
    settings = request.app.state.settings
    service.install_default_rules(session)
    wh = open_warehouse(settings.data_dir)
    return service.evaluate_day(session, wh, day, timezone=settings.timezone).to_dict()


@router.get("/deliveries")
def deliveries(session: SessionDep, _: Analyst) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "alert_id": d.alert_id,
            "channel": d.channel,
            "platform": d.platform,
            "status": d.status,
            "attempts": d.attempts,
            "error": d.error,
            "created_at": d.created_at.isoformat(),
            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
        }
        for d in list_deliveries(session)
    ]
