"""Operations' console pages on the session shop: goals (progress against the service), alerts
(attribution, playbook, ack/resolve with CSRF and roles, history, rules import with errors next
to the field), reports (list, HTML view, PDF, no path traversal)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shopops.analytics.engine import open_warehouse
from shopops.db import session_scope
from shopops.ops.alerts.models import Alert, AlertEvent
from shopops.ops.goals.models import Goal
from shopops.ops.goals.service import get_goal, goal_progress, install_default_goals
from tests.web.conftest import END, csrf_of, sign_in


def test_goals_page_shows_each_goal_with_its_pace(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, engine = shop
    analyst = sign_in(app, "analyst")
    page = analyst.get("/console/goals", params={"date": END.isoformat()})
    assert page.status_code == 200
    with session_scope(engine) as s:
        install_default_goals(s)
        g = goal_progress(open_warehouse(settings.data_dir), get_goal(s, "daily_uv"), END)
    row = page.text.split('data-code="daily_uv"')[1].split("</tr>")[0]
    assert f"{g.actual:,.0f}" in row and "5,000" in row
    assert ("落后 behind" if g.actual < 5000 else "达标 on track") in row
    bar = round(min(g.actual / 5000, 1) * 100)
    assert f'value="{bar}"' in row
    for code in ("daily_uv", "conversion", "repurchase", "natural_traffic", "first_year_gmv"):
        assert f'data-code="{code}"' in page.text  # the seed's targets
    assert 'data-code="hit_products"' in page.text
    bad = analyst.get("/console/goals", params={"date": "11/30"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    assert sign_in(app, "agent").get("/console/goals").status_code == 403


def _alert(engine) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        a = Alert(
            key=f"test_console_{dt.datetime.now().timestamp()}",
            kind="rule",
            day=END,
            level=2,
            status="open",
            metric="uv",
            filters={},
            message_zh="访客下降 <b>40%</b>",
            message_en="Visitors fell 40%",
            playbook_zh="检查投放",
            playbook_en="Check the campaigns",
            attribution={"dimension": "channel", "member": "paid_search", "share": 0.8},
        )
        a.history.append(AlertEvent(status="open", actor="system"))
        s.add(a)
        s.flush()
        return a.id


def test_alerts_page_and_life_cycle(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    alert_id = _alert(engine)
    analyst = sign_in(app, "analyst")
    page = analyst.get("/console/alerts")
    row = page.text.split(f'data-alert="{alert_id}"')[1].split("</tr>")[0]
    assert "channel=paid_search (80%)" in row and "检查投放" in row
    assert "&lt;b&gt;" in row  # messages are escaped
    assert f"ack-{alert_id}" not in page.text  # analysts read only
    token = csrf_of(page.text)
    refused = analyst.post(f"/console/alerts/{alert_id}/ack", data={"csrf": token})
    assert refused.status_code == 403

    op = sign_in(app, "operator")
    page = op.get("/console/alerts")
    assert f"ack-{alert_id}" in page.text
    assert op.post(f"/console/alerts/{alert_id}/ack", data={"note": "x"}).status_code == 403
    token = csrf_of(page.text)
    done = op.post(f"/console/alerts/{alert_id}/ack", data={"csrf": token, "note": "on it"})
    assert done.status_code == 303
    again = op.post(f"/console/alerts/{alert_id}/ack", data={"csrf": token})
    assert again.status_code == 409 and 'role="alert"' in again.text  # already acknowledged
    assert op.post(f"/console/alerts/{alert_id}/resolve", data={"csrf": token}).status_code == 303
    with session_scope(engine, readonly=True) as s:
        a = s.get(Alert, alert_id)
        assert a.status == "resolved" and a.acknowledged_by == "console:u_operator"
        assert [e.status for e in a.history] == ["open", "acknowledged", "resolved"]
        assert a.history[1].note == "on it"
    history = op.get("/console/alerts", params={"status": "resolved"}).text
    row = history.split(f'data-alert="{alert_id}"')[1].split("</tr>")[0]
    assert "acknowledged · console:u_operator — on it" in row


RULE_YAML = """rules:
  - code: console_rule
    name_zh: 订单
    name_en: Orders
    metric: paid_orders
    level: {level}
    condition: {{kind: threshold, op: '<', value: 1}}
    playbook: {{playbook_zh: 看看, playbook_en: Look}}
"""


def test_rules_import_shows_errors_next_to_the_field(app) -> None:  # type: ignore[no-untyped-def]
    op = sign_in(app, "operator")
    token = csrf_of(op.get("/console/alerts").text)
    bad = op.post(
        "/console/alerts/rules/import",
        data={"csrf": token, "yaml_text": RULE_YAML.format(level=9)},
    )
    assert bad.status_code == 422
    errors = bad.text.split('id="yaml-errors"')[1].split("</ul>")[0]
    assert "console_rule · level" in errors
    assert "level: 9" in bad.text  # the text is kept for fixing
    assert 'data-rule="console_rule"' not in bad.text
    ok = op.post(
        "/console/alerts/rules/import",
        data={"csrf": token, "yaml_text": RULE_YAML.format(level=2)},
    )
    assert ok.status_code == 303
    page = op.get("/console/alerts").text
    row = page.split('data-rule="console_rule"')[1].split("</tr>")[0]
    assert "threshold &lt; 1" in row and "L2" in row


def test_reports_list_view_and_no_traversal(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    folder = settings.data_dir / "reports"
    folder.mkdir(exist_ok=True)
    (folder / "daily-2026-11-30.html").write_text("<h1>日报 review</h1>", encoding="utf-8")
    (folder / "daily-2026-11-30.pdf").write_bytes(b"%PDF-1.4 test")
    (folder / "notes.html").write_text("private", encoding="utf-8")
    analyst = sign_in(app, "analyst")
    page = analyst.get("/console/reports")
    assert "daily-2026-11-30.html" in page.text and "daily-2026-11-30.pdf" in page.text
    assert "notes.html" not in page.text
    view = analyst.get("/console/reports/daily-2026-11-30.html")
    assert view.status_code == 200 and "日报 review" in view.text
    pdf = analyst.get("/console/reports/daily-2026-11-30.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert analyst.get("/console/reports/notes.html").status_code == 404
    assert analyst.get("/console/reports/..%2Fshop.db").status_code == 404
    assert sign_in(app, "agent").get("/console/reports").status_code == 403


def test_set_a_goal_from_the_console(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    analyst = sign_in(app, "analyst")
    page = analyst.get("/console/goals")
    assert 'id="goal-form"' not in page.text
    form = {"code": "paid_search_uv", "metric": "uv", "period": "day", "target": "40"}
    token = csrf_of(page.text)
    assert analyst.post("/console/goals", data={**form, "csrf": token}).status_code == 403
    op = sign_in(app, "operator")
    token = csrf_of(op.get("/console/goals").text)
    bad = op.post("/console/goals", data={**form, "metric": "nope", "csrf": token})
    assert bad.status_code == 422
    assert "unknown metric" in bad.text.split('id="goal-metric-error"')[1].split("</span>")[0]
    bad = op.post("/console/goals", data={**form, "target": "lots", "csrf": token})
    assert bad.status_code == 422 and 'id="goal-target-error"' in bad.text
    bad = op.post(
        "/console/goals",
        data={**form, "dimension": "planet", "member": "mars", "csrf": token},
    )
    assert bad.status_code == 422 and 'id="goal-dimension-error"' in bad.text
    with session_scope(engine, readonly=True) as s:
        assert s.scalar(select(Goal).where(Goal.code == "paid_search_uv")) is None
    ok = op.post(
        "/console/goals",
        data={**form, "dimension": "channel", "member": "paid_search", "csrf": token},
    )
    assert ok.status_code == 303
    with session_scope(engine, readonly=True) as s:
        g = s.scalar(select(Goal).where(Goal.code == "paid_search_uv"))
        assert (g.metric, g.target, g.dimension, g.member) == ("uv", 40, "channel", "paid_search")
    assert 'data-code="paid_search_uv"' in op.get("/console/goals").text
