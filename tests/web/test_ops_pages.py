"""Operations' console pages on the session shop: goals (progress against the service), alerts
(attribution, playbook, ack/resolve with CSRF and roles, history, rules import with errors next
to the field), reports (list, HTML view, PDF, no path traversal)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shopops.analytics.engine import open_warehouse
from shopops.db import session_scope
from shopops.ops.alerts.models import Alert, AlertEvent, AlertRule, OpsAction
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
    assert ("✘ 落后" if g.actual < 5000 else "✔ 达标") in row
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
    assert "已确认 · console:u_operator — on it" in row


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


EDIT = {
    "code": "console_edit",
    "name_zh": "付费访客",
    "name_en": "Paid visitors",
    "metric": "uv",
    "denominator": "",
    "filters": "channel=paid_search",
    "split_by": "",
    "kind": "change",
    "op": "<",
    "value": "-0.3",
    "compare": "same_weekday",
    "baseline_weeks": "4",
    "consecutive": "2",
    "level": "2",
    "cooldown_days": "3",
    "min_base": "0",
    "playbook_zh": "检查出价",
    "playbook_en": "Check the bids",
    "action": "",
    "enabled": "on",
}


def _field_error(html: str, name: str) -> str:
    return html.split(f'id="rule-{name}-error"')[1].split("</span>")[0]


def test_rule_editor_validates_each_field_and_saves_nothing_on_error(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    assert sign_in(app, "analyst").get("/console/alerts/rules/edit").status_code == 403
    op = sign_in(app, "operator")
    page = op.get("/console/alerts/rules/edit")
    assert page.status_code == 200 and 'id="rule-form"' in page.text
    assert '<option value="conversion_rate"' in page.text  # metrics come from the registry
    token = csrf_of(page.text)
    cases = [
        ({"metric": "nope"}, "metric", "unknown metric"),
        ({"filters": "planet=mars"}, "filters", "unknown dimension"),
        ({"filters": "channel"}, "filters", "dimension=value"),
        ({"value": "lots"}, "value", "请填写数字"),  # the operator reads Chinese
        ({"consecutive": "1.5"}, "consecutive", "请填写整数"),
        ({"metric": "conversion_rate", "kind": "threshold", "compare": "", "value": "2",
          "filters": ""}, "value", "0..1"),
        ({"kind": "change", "value": "-1.5"}, "value", "100%"),
        ({"level": "7"}, "level", "less than or equal to 3"),
        ({"split_by": "channel", "action": "draft_promotion", "filters": ""}, "action",
         "automatic action"),
        ({"playbook_en": ""}, "playbook_en", "at least 1"),
    ]  # fmt: skip
    for change, field, words in cases:
        bad = op.post("/console/alerts/rules/edit", data={**EDIT, **change, "csrf": token})
        assert bad.status_code == 422, change
        assert words in _field_error(bad.text, field), (change, field)
        assert 'aria-invalid="true"' in bad.text
        assert EDIT["playbook_zh"] in bad.text  # the form is kept for fixing
    with session_scope(engine, readonly=True) as s:
        assert s.scalar(select(AlertRule).where(AlertRule.code == "console_edit")) is None
    ok = op.post("/console/alerts/rules/edit", data={**EDIT, "csrf": token})
    assert ok.status_code == 303
    with session_scope(engine, readonly=True) as s:
        spec = s.scalar(select(AlertRule).where(AlertRule.code == "console_edit")).spec
    assert spec["filters"] == {"channel": ["paid_search"]} and spec["level"] == 2
    assert spec["condition"] == {
        "kind": "change",
        "op": "<",
        "value": -0.3,
        "compare": "same_weekday",
        "baseline_weeks": 4,
        "consecutive": 2,
    }
    assert (spec["cooldown_days"], spec["playbook"]["playbook_en"]) == (3, "Check the bids")
    # A second "new" rule with the same code is refused; editing it is the way.
    again = op.post("/console/alerts/rules/edit", data={**EDIT, "csrf": token})
    assert again.status_code == 409 and "请改为编辑它" in _field_error(again.text, "code")
    form = op.get("/console/alerts/rules/edit", params={"code": "console_edit"}).text
    assert 'value="channel=paid_search"' in form and 'value="-0.3"' in form
    assert '<option value="same_weekday" selected>' in form
    edited = op.post(
        "/console/alerts/rules/edit",
        data={**EDIT, "value": "-0.5", "action": "image_refresh", "editing": "1", "csrf": token},
    )
    assert edited.status_code == 303
    with session_scope(engine, readonly=True) as s:
        spec = s.scalar(select(AlertRule).where(AlertRule.code == "console_edit")).spec
    assert spec["condition"]["value"] == -0.5 and spec["action"] == "image_refresh"
    row = op.get("/console/alerts").text.split('data-rule="console_edit"')[1].split("</tr>")[0]
    assert "change &lt; -0.5 vs same_weekday ×2" in row and "标记更换主图" in row
    assert op.get("/console/alerts/rules/edit", params={"code": "ghost"}).status_code == 404


def test_automatic_actions_are_shown_and_closed_by_an_operator(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    alert_id = _alert(engine)
    with session_scope(engine) as s:
        x = OpsAction(alert_id=alert_id, kind="purchase_suggestion", target="sku:999999",
                      status="open", ref_type="sku", ref_id=999999, detail={"quantity": 42},
                      summary_zh="建议补货 SKU X-1：42 件",
                      summary_en="purchase suggestion: 42")  # fmt: skip
        s.add(x)
        s.flush()
        action_id = x.id
    op = sign_in(app, "operator")
    page = op.get("/console/alerts")
    row = page.text.split(f'data-alert="{alert_id}"')[1].split("</tr>")[0]
    assert "建议补货 SKU X-1：42 件" in row and "待处理" in row
    assert f'data-task="{action_id}"' in page.text
    token = csrf_of(page.text)
    analyst = sign_in(app, "analyst")
    assert (
        analyst.post(f"/console/alerts/actions/{action_id}", data={"csrf": token}).status_code
        == 403
    )
    done = op.post(f"/console/alerts/actions/{action_id}", data={"csrf": token, "to": "done"})
    assert done.status_code == 303
    again = op.post(f"/console/alerts/actions/{action_id}", data={"csrf": token, "to": "done"})
    assert again.status_code == 409 and 'role="alert"' in again.text
    with session_scope(engine, readonly=True) as s:
        got = s.get(OpsAction, action_id)
        assert (got.status, got.closed_by) == ("done", "console:u_operator")
    assert f'data-task="{action_id}"' not in op.get("/console/alerts").text


def test_ops_pages_speak_the_viewers_language(app, shop) -> None:  # type: ignore[no-untyped-def]
    op = sign_in(app, "operator")
    zh = op.get("/console/alerts").text
    assert "<h1>告警</h1>" in zh and "自动处置" in zh
    token = csrf_of(zh)
    op.post("/console/locale", data={"csrf": token, "locale": "en", "back": "/console/alerts"})
    en = op.get("/console/alerts").text
    assert "<h1>Alerts</h1>" in en and "Automatic actions" in en and "告警</h1>" not in en
    assert "<h1>Goals</h1>" in op.get("/console/goals").text
    assert "<h1>Reports</h1>" in op.get("/console/reports").text
    assert "What it watches" in op.get("/console/alerts/rules/edit").text
    op.post("/console/locale", data={"csrf": token, "locale": "zh_CN", "back": "/console/"})
