"""Inventory routes: warehouses, stock, receipts, adjustments, ledger, safety stock; roles."""

from __future__ import annotations

import datetime as dt

import pytest
from tests import factories as f

from shopops.db import session_scope
from shopops.inventory import service


@pytest.fixture
def op(api_headers):
    return api_headers("operator")


@pytest.fixture
def sku_id(client):
    with session_scope(client.app.state.engine) as s:
        return f.product(s, stock=0).skus[0].id


def _error(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code, resp.json()
    return resp.json()


def _warehouse(client, op, code="SH-1", **fields):
    resp = client.post(
        "/admin/warehouses", json={"code": code, "name": "上海仓", **fields}, headers=op
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_warehouses(client, op, api_headers):
    wh = _warehouse(client, op, priority=5, region="华东", city="上海")
    assert (wh["priority"], wh["active"]) == (5, True)
    _error(
        client.post("/admin/warehouses", json={"code": "SH-1", "name": "x"}, headers=op),
        409,
        "duplicate_warehouse_code",
    )
    _error(
        client.post("/admin/warehouses", json={"code": "bad code", "name": "x"}, headers=op),
        422,
        "invalid_input",
    )
    resp = client.patch(f"/admin/warehouses/{wh['id']}", json={"active": False}, headers=op)
    assert resp.json()["active"] is False
    _error(
        client.patch("/admin/warehouses/999", json={"priority": 1}, headers=op),
        404,
        "unknown_warehouse",
    )
    listed = client.get("/admin/warehouses", headers=api_headers("agent")).json()
    assert "SH-1" in [w["code"] for w in listed]


def test_receipts_adjustments_and_the_ledger(client, op, sku_id, api_headers):
    wh = _warehouse(client, op)
    receipt = {"sku_id": sku_id, "warehouse_id": wh["id"], "quantity": 10, "ref_id": "PO-7"}
    resp = client.post("/admin/stock/receipts", json=receipt, headers=op)
    assert resp.status_code == 201, resp.text
    assert resp.json() | {"id": 0} == {
        "id": 0,
        "sku_id": sku_id,
        "warehouse_id": wh["id"],
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }
    with session_scope(client.app.state.engine) as s:
        service.reserve(
            s,
            ref_type="order",
            ref_id="1",
            items=[(sku_id, 4)],
            expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        )
    adj = {"sku_id": sku_id, "warehouse_id": wh["id"], "delta": -3, "note": "破损"}
    resp = client.post("/admin/stock/adjustments", json=adj, headers=op)
    assert resp.json()["on_hand"] == 7
    assert resp.json()["available"] == 3
    body = _error(
        client.post("/admin/stock/adjustments", json={**adj, "delta": -4}, headers=op),
        409,
        "stock_below_reserved",
    )
    assert body["details"]["reserved"] == 4
    _error(
        client.post("/admin/stock/adjustments", json={**adj, "delta": -40}, headers=op),
        409,
        "negative_stock",
    )
    _error(
        client.post("/admin/stock/adjustments", json={**adj, "delta": 0}, headers=op),
        422,
        "invalid_quantity",
    )
    _error(
        client.post("/admin/stock/adjustments", json={**adj, "note": ""}, headers=op),
        422,
        "invalid_input",
    )

    analyst = api_headers("analyst")
    ledger = client.get("/admin/stock/movements", params={"sku_id": sku_id}, headers=analyst)
    assert [m["reason"] for m in ledger.json()["items"]] == ["adjustment", "reservation", "receipt"]
    assert ledger.json()["items"][2]["ref_id"] == "PO-7"
    page = client.get(
        "/admin/stock/movements", params={"sku_id": sku_id, "limit": 1, "offset": 1}, headers=op
    ).json()
    assert (page["total"], [m["reason"] for m in page["items"]]) == (3, ["reservation"])
    stock = client.get("/admin/stock", params={"sku_id": sku_id}, headers=analyst).json()
    assert [(r["on_hand"], r["reserved"], r["available"]) for r in stock["items"]] == [(7, 4, 3)]
    res = client.get("/admin/stock/reservations", params={"ref_id": "1"}, headers=analyst).json()
    assert [(r["sku_id"], r["quantity"], r["status"]) for r in res["items"]] == [
        (sku_id, 4, "active")
    ]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"sku_id": 999}, 404, "unknown_sku"),
        ({"warehouse_id": 999}, 404, "unknown_warehouse"),
        ({"quantity": 0}, 422, "invalid_input"),
        ({"quantity": 10_000_001}, 422, "invalid_input"),
        ({"quantity": "many"}, 422, "invalid_input"),
        ({"colour": "red"}, 422, "invalid_input"),
    ],
)
def test_bad_receipts(client, op, sku_id, change, status, code):
    wh = _warehouse(client, op)
    body = {"sku_id": sku_id, "warehouse_id": wh["id"], "quantity": 1, **change}
    _error(client.post("/admin/stock/receipts", json=body, headers=op), status, code)


def test_receipt_into_an_inactive_warehouse(client, op, sku_id):
    wh = _warehouse(client, op, active=False)
    body = {"sku_id": sku_id, "warehouse_id": wh["id"], "quantity": 1}
    _error(client.post("/admin/stock/receipts", json=body, headers=op), 409, "warehouse_inactive")


def test_safety_stock_and_the_below_safety_filter(client, op, sku_id):
    wh = _warehouse(client, op)
    with session_scope(client.app.state.engine) as s:
        other = f.product(s, stock=0).skus[0].id
    for sid in (sku_id, other):
        body = {"sku_id": sid, "warehouse_id": wh["id"], "quantity": 5}
        client.post("/admin/stock/receipts", json=body, headers=op)
    resp = client.put(f"/admin/stock/policies/{sku_id}", json={"safety_stock": 8}, headers=op)
    assert resp.json() == {"sku_id": sku_id, "safety_stock": 8}
    low = client.get("/admin/stock", params={"below_safety": "true"}, headers=op).json()
    assert [(r["sku_id"], r["safety_stock"], r["below_safety"]) for r in low["items"]] == [
        (sku_id, 8, True)
    ]
    everything = client.get("/admin/stock", headers=op).json()
    assert everything["total"] == 2
    health = client.get("/admin/stock/health", params={"below_safety": True}, headers=op).json()
    assert [(h["sku_id"], h["available"]) for h in health["items"]] == [(sku_id, 5)]
    _error(
        client.put("/admin/stock/policies/999", json={"safety_stock": 1}, headers=op),
        404,
        "unknown_sku",
    )
    _error(
        client.put(f"/admin/stock/policies/{sku_id}", json={"safety_stock": -1}, headers=op),
        422,
        "invalid_input",
    )


@pytest.mark.parametrize("role", ["analyst", "agent"])
def test_only_operators_change_stock(client, api_headers, sku_id, role):
    headers = api_headers(role)
    body = {"sku_id": sku_id, "warehouse_id": 1, "quantity": 1}
    _error(client.post("/admin/stock/receipts", json=body, headers=headers), 403, "wrong_role")
    adj = {"sku_id": sku_id, "warehouse_id": 1, "delta": 1, "note": "x"}
    _error(client.post("/admin/stock/adjustments", json=adj, headers=headers), 403, "wrong_role")
    _error(
        client.put(f"/admin/stock/policies/{sku_id}", json={"safety_stock": 1}, headers=headers),
        403,
        "wrong_role",
    )
    _error(
        client.post("/admin/warehouses", json={"code": "X", "name": "x"}, headers=headers),
        403,
        "wrong_role",
    )
    assert client.get("/admin/stock", headers=headers).status_code == 200
    _error(client.get("/admin/stock"), 401, "missing_api_key")
