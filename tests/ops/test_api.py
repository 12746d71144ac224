"""The alert routes on the hand-built warehouse: rules saved and refused, YAML in and out,
an evaluation (idempotent), the life cycle with who and when, roles."""

from __future__ import annotations

import pytest

from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import parse_period
from tests.analytics.warehouse_fixture import write_warehouse

RULE = {
    "name_zh": "有支付订单",
    "name_en": "Paid orders seen",
    "metric": "paid_orders",
    "condition": {"kind": "threshold", "op": ">=", "value": 1},
    "level": 2,
    "cooldown_days": 0,
    "playbook": {"playbook_zh": "看看", "playbook_en": "Have a look"},
}


@pytest.fixture
def api(client, settings, api_headers):  # type: ignore[no-untyped-def]
    write_warehouse(settings.data_dir / "warehouse")
    return client, api_headers("operator"), api_headers("analyst")


def test_rules_are_validated_saved_and_exported(api):
    client, op, analyst = api
    r = client.put("/ops/alert-rules/orders_seen", json={**RULE, "metric": "nope"}, headers=op)
    assert r.status_code == 422 and r.json()["code"] == "invalid_rule"
    assert "unknown metric" in r.json()["message"]
    assert client.put("/ops/alert-rules/orders_seen", json=RULE, headers=analyst).status_code == 403
    r = client.put("/ops/alert-rules/orders_seen", json=RULE, headers=op)
    assert r.status_code == 200 and r.json()["code"] == "orders_seen"
    text = client.get("/ops/alert-rules/export", headers=analyst).text
    assert "orders_seen" in text and "paid_orders" in text
    bad = client.post(
        "/ops/alert-rules/import",
        content="rules: [oops",
        headers={**op, "Content-Type": "application/yaml"},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_rule_file"
    # A file with one bad rule saves none of them.
    doc = (
        "rules:\n  - {code: a1, name_zh: a, name_en: a, metric: uv, level: 9,\n"
        "     condition: {kind: threshold, op: '<', value: 1},\n"
        "     playbook: {playbook_zh: x, playbook_en: x}}\n"
    )
    r = client.post(
        "/ops/alert-rules/import", content=doc, headers={**op, "Content-Type": "application/yaml"}
    )
    assert r.status_code == 422 and "level" in r.json()["message"]
    codes = [x["code"] for x in client.get("/ops/alert-rules", headers=analyst).json()]
    assert codes == ["orders_seen"]


def test_evaluate_is_idempotent_and_alerts_move_through_their_life_cycle(api, settings):
    client, op, analyst = api
    client.put("/ops/alert-rules/orders_seen", json=RULE, headers=op)
    r = client.post("/ops/alerts/evaluate?day=2026-11-11", headers=op)
    assert r.status_code == 200
    body = r.json()
    mine = next(o for o in body["rules"] if o["code"] == "orders_seen")
    # The rule reads the registry's value for the day.
    from shopops.analytics.engine import open_warehouse

    want = evaluate(
        open_warehouse(settings.data_dir), ["paid_orders"], parse_period("2026-11-11"), compare=()
    )["paid_orders"].value
    assert mine["status"] == "fired" and mine["value"] == want
    waiting = {o["code"] for o in body["rules"] if o["status"] == "waiting_for_data"}
    assert waiting == {"complaint_rate_high", "sentiment_down"}
    again = client.post("/ops/alerts/evaluate?day=2026-11-11", headers=op).json()
    assert again["opened"] == []
    alerts = client.get("/ops/alerts?status=open", headers=analyst).json()
    alert = next(a for a in alerts if a["rule_code"] == "orders_seen")
    assert alert["day"] == "2026-11-11" and alert["level"] == 2
    assert alert["playbook_en"] == "Have a look"
    assert (
        client.post(f"/ops/alerts/{alert['id']}/ack", json={}, headers=analyst).status_code == 403
    )
    r = client.post(f"/ops/alerts/{alert['id']}/ack", json={"note": "on it"}, headers=op)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged_by"].startswith("operator:")
    r = client.post(f"/ops/alerts/{alert['id']}/resolve", json={}, headers=op)
    assert r.json()["status"] == "resolved" and r.json()["resolved_at"]
    assert [h["status"] for h in r.json()["history"]] == ["open", "acknowledged", "resolved"]
    r = client.post(f"/ops/alerts/{alert['id']}/ack", json={}, headers=op)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert client.get("/ops/alerts/999999", headers=analyst).status_code == 404
    assert client.get("/ops/alerts?status=nope", headers=analyst).status_code == 422
