"""Alerts: open alerts with their attribution and playbook, acknowledge/resolve (CSRF, through
the alerts service), their history; the rules as data with a YAML import whose errors are
shown next to the field (shopops.ops.alerts)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.accounts.models import Role
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.ops.actions.service import close_action, list_actions
from shopops.ops.alerts import service
from shopops.ops.alerts.rules import AlertStatus
from shopops.ops.alerts.schemas import RuleSpec
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/alerts", "Alerts", Role.OPERATOR, Role.ANALYST)
ACTION_ROLES = (Role.OPERATOR,)
STATUSES = [s.value for s in AlertStatus]


def _alert(a: Any, en: bool, tz: str) -> dict[str, Any]:
    attr = a.attribution or {}
    return {
        "id": a.id,
        "day": a.day.isoformat(),
        "level": a.level,
        "status": a.status,
        "message": a.message_en if en else a.message_zh,
        "playbook": a.playbook_en if en else a.playbook_zh,
        "attribution": f"{attr['dimension']}={attr['member']} ({attr['share']:.0%})"
        if attr
        else "—",
        "history": [
            # On the shop's clock, like every time the console shows.
            (local_time(e.at, tz, "minutes"), e.status, e.actor, e.note)
            for e in a.history
        ],
        "actions": [_action(x, en) for x in a.actions],
    }


def _action(x: Any, en: bool) -> dict[str, Any]:
    return {
        "id": x.id,
        "alert_id": x.alert_id,
        "kind": x.kind,
        "status": x.status,
        "summary": x.summary_en if en else x.summary_zh,
        "link": None,  # the promotion is activated where promotions are managed
        "ref": f"{x.ref_type} #{x.ref_id}" if x.ref_id is not None else "",
    }


def _rule(r: Any) -> dict[str, Any]:
    spec = RuleSpec.model_validate(r.spec)
    c = spec.condition
    cond = f"{c.kind} {c.op} {c.value:g}"
    if c.compare:
        cond += f" vs {c.compare}"
    if c.consecutive > 1:
        cond += f" ×{c.consecutive}"
    scope = ", ".join(f"{k}={'/'.join(v)}" for k, v in spec.filters.items())
    return {
        "code": spec.code,
        "name": f"{spec.name_zh} {spec.name_en}",
        "metric": spec.metric + (f" ({scope})" if scope else ""),
        "condition": cond,
        "level": spec.level,
        "enabled": r.enabled,
        "waiting": not spec.available(),
        "action": spec.action,
    }


def _page(
    request: Request, viewer: ConsoleViewer, status: str | None, code: int = 200, **extra: Any
) -> Response:
    en = viewer.locale == "en"
    with session_scope(request.app.state.engine, readonly=True) as s:
        tz = request.app.state.settings.timezone
        alerts = [_alert(a, en, tz) for a in service.list_alerts(s, status=status)]
        rules = [_rule(r) for r in service.list_rules(s)]
        open_actions = [_action(x, en) for x in list_actions(s, status="open")]
    ctx: dict[str, Any] = {"yaml_text": "", "yaml_errors": [], "action_error": None}
    ctx.update(extra)
    return render(
        request,
        "ops_alerts.html",
        viewer,
        code,
        alerts=alerts,
        rules=rules,
        open_actions=open_actions,
        status=status,
        statuses=STATUSES,
        can_act=viewer.may(frozenset(ACTION_ROLES)),
        **ctx,
    )


@router.get("/alerts")
def alerts_page(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    status: Annotated[str | None, Query(max_length=14)] = "open",
) -> Response:
    if status == "all" or status not in STATUSES:
        status = None
    return _page(request, viewer, status)


@router.post("/alerts/{alert_id:int}/{step}")
def alert_move(
    request: Request,
    alert_id: int,
    step: Annotated[str, Path(pattern="^(ack|resolve)$")],
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Acknowledge or resolve an alert, with who and an optional note."""
    check_csrf(request, csrf)
    move = service.resolve_alert if step == "resolve" else service.acknowledge_alert
    try:
        # The edge owns the transaction: a refused move rolls back and changes nothing.
        with session_scope(request.app.state.engine) as s:
            move(s, alert_id, f"console:{viewer.username}", note.strip())
    except ShopOpsError as exc:
        return _page(request, viewer, None, 409, action_error=exc.message)
    return RedirectResponse("/console/alerts?status=all", status_code=303)


@router.post("/alerts/actions/{action_id}")
def action_close(
    request: Request,
    action_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    to: Annotated[str, Form(max_length=12)] = "done",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        with session_scope(request.app.state.engine) as s:
            close_action(s, action_id, to, f"console:{viewer.username}")
    except ShopOpsError as exc:
        return _page(request, viewer, None, exc.status_code, action_error=exc.message)
    return RedirectResponse("/console/alerts#tasks", status_code=303)


@router.post("/alerts/rules/import")
def rules_import(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    yaml_text: Annotated[str, Form(max_length=200_000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        with session_scope(request.app.state.engine) as s:
            service.import_rules(s, yaml_text)
    except ShopOpsError as exc:
        errors = (exc.details or {}).get("errors") or []
        shown = [f"{e.get('loc') or 'rule'}: {e.get('msg')}" for e in errors] or [exc.message]
        if errors and exc.details.get("rule"):
            shown = [f"{exc.details['rule']} · {m}" for m in shown]
        return _page(request, viewer, "open", 422, yaml_text=yaml_text, yaml_errors=shown)
    return RedirectResponse("/console/alerts#rules", status_code=303)


# The per-field rule editor's routes (same router, same roles).
from shopops.web.pages import ops_rule_editor as _editor  # noqa: E402, F401
