"""Promotion routes: operator setup under /admin, the shopper's wallet under /storefront."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from tests import factories as f

from shopops.db import session_scope
from shopops.promotions import service
from shopops.promotions.api import router


@pytest.fixture
def app_client(client):  # type: ignore[no-untyped-def]
    """The app's client with the promotions router (until app.py lists the domain)."""
    if not any(getattr(r, "path", "").startswith("/admin/promotions") for r in client.app.routes):
        client.app.include_router(router)
    service.clear_cache()
    return client


@pytest.fixture
def shop(sqlite_engine):  # type: ignore[no-untyped-def]
    with session_scope(sqlite_engine) as s:
        product = f.product(s, skus=1, price=3000, cost=1800, stock=10)
        customer = f.customer(s)
        s.flush()
        return product.skus[0].id, customer.id


def _setup(c, op, **body):  # type: ignore[no-untyped-def]
    resp = c.post("/admin/promotions", json={"name": "券", **body}, headers=op)
    assert resp.status_code == 201, resp.text
    pid = resp.json()["id"]
    assert c.post(f"/admin/promotions/{pid}/activate", headers=op).json()["status"] == "active"
    return pid


def test_operator_sets_up_a_coupon_and_the_shopper_uses_it(app_client, api_headers, shop):
    c, op = app_client, api_headers("operator")
    sku, customer_id = shop
    me = api_headers("storefront", customer_id=customer_id)
    pid = _setup(c, op, kind="percent_off", params={"percent_bp": 1000}, requires_coupon=True)
    resp = c.post(
        "/admin/coupons/templates",
        json={"promotion_id": pid, "name": "九折券", "claimable": True, "valid_days": 7},
        headers=op,
    )
    assert resp.status_code == 201, resp.text
    tid = resp.json()["id"]
    assert [t["id"] for t in c.get("/storefront/coupon-templates", headers=me).json()] == [tid]
    claimed = c.post(f"/storefront/coupons/claim/{tid}", headers=me)
    assert claimed.status_code == 201, claimed.text
    again = c.post(f"/storefront/coupons/claim/{tid}", headers=me)
    assert (again.status_code, again.json()["code"]) == (409, "coupon_not_claimable")
    wallet = c.get("/storefront/coupons", headers=me).json()
    assert [(w["name"], w["usable"]) for w in wallet] == [("九折券", True)]
    code = wallet[0]["code"]
    body = {"lines": [{"sku_id": sku, "quantity": 2}], "coupon_codes": [code]}
    preview = c.post("/storefront/checkout/preview", json=body, headers=me)
    assert preview.status_code == 200, preview.text
    order = c.post("/storefront/orders", json=body, headers=me)
    assert order.status_code == 201, order.text
    assert order.json()["discount_total"] == 600
    used = c.post("/storefront/orders", json=body, headers=me)
    assert (used.status_code, used.json()["code"]) == (409, "coupon_exhausted")
    assert c.get("/storefront/coupons", headers=me).json() == []
    assert len(c.get("/storefront/coupons?all=true", headers=me).json()) == 1


def test_bad_definitions_and_codes_get_clear_errors(app_client, api_headers, shop):
    c, op = app_client, api_headers("operator")
    sku, customer_id = shop
    me = api_headers("storefront", customer_id=customer_id)
    resp = c.post(
        "/admin/promotions",
        json={"name": "x", "kind": "percent_off", "params": {"percent_bp": 20000}},
        headers=op,
    )
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_promotion"
    assert resp.json()["details"]["problems"][0]["code"] == "percent_out_of_range"
    body = {"lines": [{"sku_id": sku, "quantity": 1}], "coupon_codes": ["WHAT-1"]}
    resp = c.post("/storefront/checkout/preview", json=body, headers=me)
    assert (resp.status_code, resp.json()["code"]) == (422, "coupon_unknown")
    _setup(c, op, kind="spend_save", params={"tiers": [[10000, 1000]]}, code="BIG-100")
    body["coupon_codes"] = ["big-100"]
    resp = c.post("/storefront/orders", json=body, headers=me)
    assert (resp.status_code, resp.json()["code"]) == (422, "coupon_conditions_not_met")
    assert resp.json()["details"]["condition"] == "min_spend_not_met"
    resp = c.post("/admin/promotions/999/pause", headers=op)
    assert (resp.status_code, resp.json()["code"]) == (404, "promotion_not_found")


def test_bulk_issue_and_campaigns(app_client, api_headers, shop):
    c, op = app_client, api_headers("operator")
    _, customer_id = shop
    pid = _setup(c, op, kind="instant", params={"amount": 500}, requires_coupon=True)
    tid = c.post("/admin/coupons/templates", json={"promotion_id": pid, "name": "t"}, headers=op)
    resp = c.post(
        f"/admin/coupons/templates/{tid.json()['id']}/issue",
        json={"customer_ids": [customer_id], "reason": "vip"},
        headers=op,
    )
    assert resp.status_code == 201 and resp.json()["issued"] == 1
    camp = c.post(
        "/admin/campaigns",
        json={
            "name": "双11",
            "starts_at": "2026-11-01T00:00:00+08:00",
            "ends_at": "2026-11-12T00:00:00+08:00",
            "budget_amount": 100000,
            "phases": [
                {
                    "phase": "warm_up",
                    "starts_at": "2026-11-01T00:00:00+08:00",
                    "ends_at": "2026-11-10T00:00:00+08:00",
                },
                {
                    "phase": "peak",
                    "starts_at": "2026-11-11T00:00:00+08:00",
                    "ends_at": "2026-11-12T00:00:00+08:00",
                },
            ],
        },
        headers=op,
    )
    assert camp.status_code == 201, camp.text
    cid = camp.json()["id"]
    draft = c.post(
        "/admin/promotions",
        json={"name": "爆发", "kind": "instant", "params": {"amount": 100}},
        headers=op,
    ).json()["id"]
    resp = c.post(
        f"/admin/campaigns/{cid}/promotions",
        json={"promotion_id": draft, "phase": "peak"},
        headers=op,
    )
    assert resp.status_code == 200 and resp.json()["campaign_phase"] == "peak"
    assert c.get(f"/admin/campaigns/{cid}", headers=op).json()["promotion_ids"] == {"peak": [draft]}
    resp = c.post(
        f"/admin/campaigns/{cid}/promotions",
        json={"promotion_id": pid, "phase": "peak"},
        headers=op,
    )
    assert (resp.status_code, resp.json()["code"]) == (409, "promotion_not_editable")
    assert c.get(f"/admin/campaigns/{cid}/results", headers=op).json() == {}


def test_every_promotions_route_declares_one_guard_and_refuses_other_roles(app_client, api_headers):
    from shopops.accounts.models import Role
    from shopops.api.deps import RoleGuard

    me = None
    for route in router.routes:
        assert isinstance(route, APIRoute)
        guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleGuard)]
        assert len(guards) == 1, route.path
        url = route.path.replace("{promotion_id}", "1").replace("{template_id}", "1")
        url = url.replace("{campaign_id}", "1").replace("{action}", "pause")
        for method in route.methods:
            assert app_client.request(method, url, json={}).status_code == 401
            if Role.STOREFRONT not in guards[0].roles:
                me = me or api_headers("storefront", customer_id=_someone(app_client))
                resp = app_client.request(method, url, json={}, headers=me)
            else:
                resp = app_client.request(method, url, json={}, headers=api_headers("analyst"))
            assert resp.status_code == 403, (method, url, resp.text)


def _someone(client):  # type: ignore[no-untyped-def]
    with session_scope(client.app.state.engine) as s:
        return f.customer(s).id
