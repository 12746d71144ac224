"""Registration, the shopper's profile and addresses, and the back office's customer reads."""

from __future__ import annotations

import pytest
from tests import factories as f

from shopops.db import session_scope


def register(client, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "李雷", "phone": "13800138000", **fields}
    return client.post("/storefront/customers", json=body)


def shopper(client):  # type: ignore[no-untyped-def]
    resp = register(client)
    assert resp.status_code == 201, resp.text
    return resp.json()["customer"]["id"], {"Authorization": f"Bearer {resp.json()['api_key']}"}


def test_register_returns_a_working_storefront_key(client):
    resp = register(client, email="LiLei@example.com", birthday="1995-05-05", gender="male")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["customer"]["phone"] == "13800138000"
    assert body["customer"]["email"] == "lilei@example.com"
    assert body["customer"]["age_band"]
    me = client.get("/storefront/me", headers={"Authorization": f"Bearer {body['api_key']}"})
    assert me.status_code == 200 and me.json()["id"] == body["customer"]["id"]


def test_register_bad_paths(client):
    assert register(client).status_code == 201
    dup = register(client, phone="138-0013-8000")
    assert dup.status_code == 409 and dup.json()["code"] == "customer_exists"
    assert dup.json()["details"] == {"field": "phone"}
    bad = register(client, phone="23800138000")
    assert bad.status_code == 422 and "phone" in bad.json()["message"]
    assert register(client, phone="13900000000", email="x").status_code == 422
    assert register(client, phone="13900000000", role="admin").status_code == 422
    assert register(client, phone="13900000000", birthday="1800-01-01").status_code == 422
    missing = client.post("/storefront/customers", json={"name": "无电话"})
    assert missing.status_code == 422
    malformed = client.post(
        "/storefront/customers",
        content=b'{"phone": ',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"


def test_update_me(client):
    _, headers = shopper(client)
    resp = client.patch(
        "/storefront/me", json={"city": "杭州", "birthday": "1990-01-01"}, headers=headers
    )
    assert resp.status_code == 200
    assert resp.json()["city"] == "杭州" and resp.json()["age_band"] in {"35-44", "25-34"}
    assert client.patch("/storefront/me", json={"phone": "1"}, headers=headers).status_code == 422
    assert client.patch("/storefront/me", json={"id": 5}, headers=headers).status_code == 422
    register(client, phone="13900000009", email="used@x.cn")
    clash = client.patch("/storefront/me", json={"email": "used@x.cn"}, headers=headers)
    assert clash.status_code == 409 and clash.json()["code"] == "customer_exists"
    assert client.get("/storefront/me").status_code == 401


ADDRESS = {
    "recipient": "韩梅梅",
    "phone": "13912345678",
    "province": "上海",
    "city": "上海",
    "district": "徐汇区",
    "detail": "漕溪北路 1 号",
    "postal_code": "200030",
}


def test_address_crud(client, api_headers):
    customer_id, headers = shopper(client)
    first = client.post("/storefront/addresses", json=ADDRESS, headers=headers)
    assert first.status_code == 201 and first.json()["is_default"] is True
    second = client.post(
        "/storefront/addresses",
        json={**ADDRESS, "detail": "二号", "is_default": True},
        headers=headers,
    )
    assert second.json()["is_default"] is True
    listed = client.get("/storefront/addresses", headers=headers).json()
    assert [a["id"] for a in listed] == [second.json()["id"], first.json()["id"]]
    assert [a["is_default"] for a in listed] == [True, False]

    url = f"/storefront/addresses/{first.json()['id']}"
    patched = client.patch(url, json={"is_default": True, "city": "苏州"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["city"] == "苏州"
    assert client.get(url, headers=headers).json()["is_default"] is True
    assert client.patch(url, json={"postal_code": "12"}, headers=headers).status_code == 422
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    left = client.get("/storefront/addresses", headers=headers).json()
    assert [(a["id"], a["is_default"]) for a in left] == [(second.json()["id"], True)]

    # Someone else's address is not found, whatever the verb.
    with session_scope(client.app.state.engine) as s:
        other = f.customer(s).id
    other_headers = api_headers("storefront", customer_id=other)
    url = f"/storefront/addresses/{second.json()['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        resp = client.request(method, url, json={"city": "x"}, headers=other_headers)
        assert resp.status_code == 404 and resp.json()["code"] == "address_not_found"
    bad = client.post("/storefront/addresses", json={**ADDRESS, "detail": ""}, headers=headers)
    assert bad.status_code == 422
    assert customer_id


def test_admin_reads_mask_pii_for_analysts(client, api_headers):
    customer_id, headers = shopper(client)
    client.post("/storefront/addresses", json=ADDRESS, headers=headers)
    operator = client.get(f"/admin/customers/{customer_id}", headers=api_headers("operator"))
    assert operator.status_code == 200
    assert operator.json()["phone"] == "13800138000"
    assert operator.json()["addresses"][0]["detail"] == ADDRESS["detail"]

    analyst = client.get(f"/admin/customers/{customer_id}", headers=api_headers("analyst"))
    body = analyst.json()
    assert body["phone"] == "138****8000" and body["name"] == "李*"
    assert body["addresses"][0]["detail"] == "***"
    assert body["addresses"][0]["phone"] == "139****5678"
    assert body["addresses"][0]["city"] == "上海"

    page = client.get("/admin/customers?limit=10", headers=api_headers("analyst")).json()
    assert page["total"] == 1 and page["items"][0]["phone"] == "138****8000"
    agent = client.get("/admin/customers", headers=api_headers("agent")).json()
    assert agent["items"][0]["phone"] == "13800138000"


def test_admin_customer_search_and_errors(client, api_headers):
    shopper(client)
    operator = api_headers("operator")
    found = client.get("/admin/customers?q=0013", headers=operator).json()
    assert found["total"] == 1
    hidden = client.get("/admin/customers?q=0013", headers=api_headers("analyst"))
    assert hidden.status_code == 403 and hidden.json()["code"] == "pii_hidden"
    assert client.get("/admin/customers?limit=0", headers=operator).status_code == 422
    missing = client.get("/admin/customers/9999", headers=operator)
    assert missing.status_code == 404 and missing.json()["code"] == "customer_not_found"


@pytest.mark.parametrize("path", ["/storefront/me", "/storefront/addresses"])
def test_staff_keys_are_not_shoppers(client, api_headers, path):
    resp = client.get(path, headers=api_headers("operator"))
    assert resp.status_code == 403 and resp.json()["code"] == "wrong_role"
