"""Purchasing routes: suppliers, orders, receipts and scorecards; roles and error codes."""

from __future__ import annotations

import pytest
from tests import factories as f

from shopops.db import session_scope


@pytest.fixture
def op(api_headers):
    return api_headers("operator")


@pytest.fixture
def skus(sqlite_engine):
    with session_scope(sqlite_engine) as s:
        wh = f.warehouse(s)
        product = f.product(s, wh=wh, stock=0, skus=2)
        return wh.id, [k.id for k in product.skus]


def _ok(resp, expect=200):
    assert resp.status_code == expect, resp.text
    return resp.json()


def _error(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code, resp.json()


def test_supplier_to_received_order(client, op, skus):
    wh, (a, b) = skus
    sup = _ok(
        client.post(
            "/purchasing/suppliers",
            json={"code": "SZ-AUD", "name": "深圳声学", "lead_time_days": 4, "vmi": True},
            headers=op,
        ),
        201,
    )
    assert sup["vmi"] and sup["rating"] == 3
    costs = {"items": [{"sku_id": a, "unit_cost": 9000}, {"sku_id": b, "unit_cost": 9100}]}
    rows = _ok(client.put(f"/purchasing/suppliers/{sup['id']}/skus", json=costs, headers=op))
    assert [r["unit_cost"] for r in rows] == [9000, 9100]
    body = {
        "supplier_id": sup["id"],
        "warehouse_id": wh,
        "lines": [{"sku_id": a, "quantity": 10}, {"sku_id": b, "quantity": 5}],
        "submit": True,
    }
    po = _ok(client.post("/purchasing/orders", json=body, headers=op), 201)
    assert po["status"] == "submitted" and po["number"].startswith("PO")
    url = f"/purchasing/orders/{po['id']}"
    too_many = {"lines": [{"sku_id": a, "accepted": 11}]}
    _error(client.post(f"{url}/receipts", json=too_many, headers=op), 409, "over_receipt")
    _error(
        client.post(
            f"{url}/receipts", json={"lines": [{"sku_id": 777, "accepted": 1}]}, headers=op
        ),
        422,
        "line_not_on_order",
    )
    part = {"lines": [{"sku_id": a, "accepted": 9, "rejected": 1}], "note": "一箱破损"}
    got = _ok(client.post(f"{url}/receipts", json=part, headers=op), 201)
    assert got["order"]["status"] == "partially_received"
    rest = {"lines": [{"sku_id": b, "accepted": 5}]}
    assert _ok(client.post(f"{url}/receipts", json=rest, headers=op), 201)["order"]["status"] == (
        "received"
    )
    _error(
        client.post(f"{url}/cancel", json={}, headers=op), 409, "illegal_purchase_order_transition"
    )
    page = _ok(client.get("/purchasing/orders?status=received", headers=op))
    assert page["total"] == 1 and page["items"][0]["lines"][0]["accepted"] == 9
    cards = {c["supplier_id"]: c for c in _ok(client.get("/purchasing/scorecards", headers=op))}
    card = cards[sup["id"]]
    assert card["receipts"] == 2 and card["on_time_rate"] == 1.0
    assert card["reject_rate"] == pytest.approx(1 / 15) and card["score"] is not None
    tips = _ok(
        client.post("/purchasing/suggestions", json={"daily_sales": {str(a): 5.0}}, headers=op)
    )
    assert tips and tips[0]["sku_id"] == a and tips[0]["quantity"] > 0


def test_errors_and_roles(client, op, api_headers, skus):
    wh, (a, _) = skus
    _error(client.get("/purchasing/suppliers/999", headers=op), 404, "supplier_not_found")
    _error(client.get("/purchasing/orders/999", headers=op), 404, "purchase_order_not_found")
    body = {"supplier_id": 999, "warehouse_id": wh, "lines": [{"sku_id": a, "quantity": 1}]}
    _error(client.post("/purchasing/orders", json=body, headers=op), 404, "supplier_not_found")
    sup = _ok(
        client.post(
            "/purchasing/suppliers",
            json={"code": "SZ-X", "name": "x", "lead_time_days": 3},
            headers=op,
        ),
        201,
    )
    dup = {"code": "SZ-X", "name": "y", "lead_time_days": 3}
    _error(
        client.post("/purchasing/suppliers", json=dup, headers=op), 409, "duplicate_supplier_code"
    )
    body["supplier_id"] = sup["id"]
    _error(client.post("/purchasing/orders", json=body, headers=op), 409, "sku_not_supplied")
    analyst = api_headers("analyst")
    assert client.get("/purchasing/suppliers", headers=analyst).status_code == 200
    assert client.post("/purchasing/suppliers", json=dup, headers=analyst).status_code == 403
    assert client.get("/purchasing/orders").status_code == 401
