"""Catalog routes: public storefront reads, the back office, and every error code."""

from __future__ import annotations

import pytest
from tests import factories as f

from shopops.db import session_scope


@pytest.fixture
def op(api_headers):
    return api_headers("operator")


def _post(client, url, body, headers, expect=201):
    resp = client.post(url, json=body, headers=headers)
    assert resp.status_code == expect, resp.text
    return resp.json()


def _error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    return body


def _product(client, op, *, skus=None, **fields):
    cat = (
        fields.pop("category_id", None)
        or _post(client, "/admin/categories", {"name": "充电器"}, op)["id"]
    )
    body = {"title": "氮化镓充电器 65W", "category_id": cat, **fields}
    if skus is None:
        skus = [{"code": f"P-{id(body)}", "list_price": 19900, "cost": 9900}]
    body["skus"] = skus
    return _post(client, "/admin/products", body, op)


def _list(client, product_id, op):
    for status in ("in_review", "listed"):
        _post(client, f"/admin/products/{product_id}/status", {"status": status}, op, 200)


def test_categories_tree_and_moves(client, op):
    root = _post(client, "/admin/categories", {"name": "Digital", "slug": "digital"}, op)
    child = _post(client, "/admin/categories", {"name": "Chargers", "parent_id": root["id"]}, op)
    assert child["slug"] == "chargers"
    tree = client.get("/storefront/categories").json()
    assert tree[0]["id"] == root["id"]
    assert tree[0]["children"][0]["id"] == child["id"]
    assert client.get("/admin/categories", headers=op).json() == tree

    resp = client.patch(
        f"/admin/categories/{root['id']}", json={"parent_id": child["id"]}, headers=op
    )
    _error(resp, 409, "category_cycle")
    resp = client.patch(f"/admin/categories/{child['id']}", json={"parent_id": None}, headers=op)
    assert resp.json()["parent_id"] is None
    resp = client.patch(f"/admin/categories/{child['id']}", json={"name": "快充"}, headers=op)
    assert resp.json()["name"] == "快充"
    assert resp.json()["parent_id"] is None  # name change alone does not move it
    _error(
        client.post("/admin/categories", json={"name": "x", "slug": "digital"}, headers=op),
        409,
        "duplicate_slug",
    )
    _error(
        client.post("/admin/categories", json={"name": "x", "parent_id": 999}, headers=op),
        404,
        "category_not_found",
    )
    _error(
        client.patch("/admin/categories/999", json={"name": "x"}, headers=op),
        404,
        "category_not_found",
    )
    _error(
        client.post("/admin/categories", json={"name": "x", "slug": "Not A Slug"}, headers=op),
        422,
        "invalid_input",
    )


def test_brands(client, op, api_headers):
    brand = _post(client, "/admin/brands", {"name": "Anker"}, op)
    assert brand["slug"] == "anker"
    listed = client.get("/admin/brands", headers=api_headers("agent")).json()
    assert [b["id"] for b in listed] == [brand["id"]]
    resp = client.patch(f"/admin/brands/{brand['id']}", json={"name": "安克"}, headers=op)
    assert resp.json()["name"] == "安克"
    _error(
        client.patch("/admin/brands/999", json={"name": "x"}, headers=op), 404, "brand_not_found"
    )


def test_product_lifecycle_through_the_back_office(client, op):
    product = _product(
        client,
        op,
        images=["https://img.example.com/1.jpg"],
        skus=[
            {"code": "GAN-65-B", "list_price": 19900, "cost": 9900, "attributes": {"colour": "黑"}}
        ],
    )
    assert product["status"] == "draft"
    pid = product["id"]
    sku = _post(
        client,
        f"/admin/products/{pid}/skus",
        {"code": "GAN-65-W", "list_price": 0, "cost": 0, "attributes": {"colour": "白"}},
        op,
    )
    _error(
        client.post(f"/admin/products/{pid}/status", json={"status": "in_review"}, headers=op),
        409,
        "sku_unpriced",
    )
    resp = client.patch(
        f"/admin/skus/{sku['id']}", json={"list_price": 100, "cost": 500}, headers=op
    )
    assert resp.status_code == 200
    _error(
        client.post(f"/admin/products/{pid}/status", json={"status": "in_review"}, headers=op),
        409,
        "sku_below_cost",
    )
    client.patch(f"/admin/skus/{sku['id']}", json={"active": False}, headers=op)
    _error(
        client.post(f"/admin/products/{pid}/status", json={"status": "listed"}, headers=op),
        409,
        "illegal_listing_transition",
    )
    _list(client, pid, op)
    got = client.get(f"/admin/products/{pid}", headers=op).json()
    assert got["status"] == "listed"
    assert [s["code"] for s in got["skus"]] == ["GAN-65-B", "GAN-65-W"]
    patched = client.patch(
        f"/admin/products/{pid}", json={"title": "新标题", "tier": "collector"}, headers=op
    )
    assert (patched.json()["title"], patched.json()["tier"]) == ("新标题", "collector")


def test_sellability_errors(client, op):
    empty = _product(client, op, skus=[])
    _error(
        client.post(
            f"/admin/products/{empty['id']}/status", json={"status": "in_review"}, headers=op
        ),
        409,
        "no_active_sku",
    )
    _error(
        client.post(f"/admin/products/{empty['id']}/status", json={"status": "sold"}, headers=op),
        422,
        "invalid_input",
    )
    _error(
        client.post("/admin/products/999/status", json={"status": "in_review"}, headers=op),
        404,
        "product_not_found",
    )


def test_product_input_errors(client, op):
    cat = _post(client, "/admin/categories", {"name": "x"}, op)["id"]
    sku = {"code": "DUP-1", "list_price": 100, "cost": 50}
    _product(client, op, category_id=cat, skus=[sku])
    cases = [
        ({"title": "t", "category_id": 999}, 404, "category_not_found"),
        ({"title": "t", "category_id": cat, "brand_id": 999}, 404, "brand_not_found"),
        ({"title": "t", "category_id": cat, "skus": [sku]}, 409, "duplicate_sku_code"),
        ({"title": "t", "category_id": cat, "images": ["ftp://x.cn/a.jpg"]}, 422, "invalid_input"),
        ({"title": "", "category_id": cat}, 422, "invalid_input"),
        ({"title": "t", "category_id": cat, "role": "bestseller"}, 422, "invalid_input"),
        ({"title": "t", "category_id": cat, "price": 1}, 422, "invalid_input"),
        (
            {"title": "t", "category_id": cat, "skus": [{**sku, "code": "N", "cost": -1}]},
            422,
            "invalid_input",
        ),
    ]
    for body, status, code in cases:
        _error(client.post("/admin/products", json=body, headers=op), status, code)
    _error(client.get("/admin/products/999", headers=op), 404, "product_not_found")
    _error(client.patch("/admin/skus/999", json={"cost": 1}, headers=op), 404, "sku_not_found")
    _error(client.get("/admin/skus/999", headers=op), 404, "sku_not_found")
    _error(
        client.post("/admin/products/999/skus", json={**sku, "code": "Q"}, headers=op),
        404,
        "product_not_found",
    )


def test_storefront_shows_listed_products_only(client, op):
    with session_scope(client.app.state.engine) as s:
        wh = f.warehouse(s)
        listed = f.product(s, stock=5, wh=wh, title="移动电源 20000mAh", skus=2)
        draft = f.product(s, stock=5, wh=wh, status="draft", title="移动电源 草稿")
        delisted = f.product(s, stock=5, wh=wh, status="delisted", title="移动电源 下架")
        ids = (listed.id, draft.id, delisted.id)
    page = client.get("/storefront/products", params={"q": "移动电源"}).json()
    assert [p["id"] for p in page["items"]] == [ids[0]]
    assert page["total"] == 1
    assert page["items"][0]["price"] == 19900
    assert "status" not in page["items"][0]

    detail = client.get(f"/storefront/products/{ids[0]}")
    assert detail.status_code == 200
    body = detail.json()
    assert [s["available"] for s in body["skus"]] == [5, 5]
    assert "cost" not in body["skus"][0]
    for hidden in ids[1:]:
        _error(client.get(f"/storefront/products/{hidden}"), 404, "product_not_found")
    _error(client.get("/storefront/products", params={"limit": 0}), 422, "invalid_input")
    _error(client.get("/storefront/products", params={"sort": "cheap"}), 422, "invalid_input")


def test_admin_list_filters(client, op, api_headers):
    a = _product(client, op, title="USB-C 线")
    b = _product(client, op, title="台灯", role="long_tail")
    _list(client, a["id"], op)
    analyst = api_headers("analyst")
    page = client.get("/admin/products", params={"status": "draft"}, headers=analyst).json()
    assert [p["id"] for p in page["items"]] == [b["id"]]
    page = client.get("/admin/products", params={"q": "usb"}, headers=analyst).json()
    assert [p["id"] for p in page["items"]] == [a["id"]]
    page = client.get("/admin/products", params={"limit": 1}, headers=analyst).json()
    assert (len(page["items"]), page["total"]) == (1, 2)


def test_roles(client, api_headers):
    analyst = api_headers("analyst")
    assert client.get("/admin/products", headers=analyst).status_code == 200
    _error(client.post("/admin/categories", json={"name": "x"}, headers=analyst), 403, "wrong_role")
    _error(
        client.post("/admin/brands", json={"name": "x"}, headers=api_headers("agent")),
        403,
        "wrong_role",
    )
    _error(client.get("/admin/products"), 401, "missing_api_key")
