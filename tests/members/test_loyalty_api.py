"""Routes of membership, points and referral, with their bad paths."""

from __future__ import annotations

import datetime as dt

import pytest
from tests import factories as f

from shopops.db import session_scope
from shopops.members import rules
from shopops.members import service as members


@pytest.fixture
def shopper(client, sqlite_engine, api_headers):  # type: ignore[no-untyped-def]
    with session_scope(sqlite_engine) as s:
        cid = f.customer(s).id
    return cid, api_headers("storefront", customer_id=cid)


def give(engine, customer_id: int, amount: int) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        members.adjust_points(s, customer_id=customer_id, amount=amount, reason="test")


def test_membership_and_points_of_a_new_shopper(client, shopper):
    _, headers = shopper
    body = client.get("/storefront/membership", headers=headers).json()
    assert body["tier"] is None and body["growth_value"] == 0
    assert body["next_tier"]["code"] == "silver" and body["growth_to_next"] == 1_000
    assert [t["code"] for t in body["tiers"]] == [t.code for t in rules.DEFAULT_TIERS]
    page = client.get("/storefront/points", headers=headers).json()
    assert page == {"balance": 0, "items": [], "total": 0, "limit": 20, "offset": 0}
    assert client.get("/storefront/points?limit=0", headers=headers).status_code == 422
    assert client.get("/storefront/membership").status_code == 401


def test_sign_in_is_idempotent_per_day(client, shopper):
    _, headers = shopper
    first = client.post("/storefront/points/sign-in", headers=headers)
    again = client.post("/storefront/points/sign-in", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["credited"] is True and again.json()["credited"] is False
    assert again.json()["balance"] == first.json()["balance"] == 5
    page = client.get("/storefront/points", headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["kind"] == "sign_in"


def test_referral_code_and_registration_with_it(client, shopper):
    cid, headers = shopper
    code = client.get("/storefront/referral-code", headers=headers).json()
    assert code == {"code": rules.referral_code(cid), "referred_by": None}
    new = client.post(
        "/storefront/customers",
        json={"phone": "13911112222", "referral_code": code["code"].lower()},
    )
    assert new.status_code == 201, new.text
    new_headers = {"Authorization": f"Bearer {new.json()['api_key']}"}
    mine = client.get("/storefront/referral-code", headers=new_headers).json()
    assert mine["referred_by"] == cid
    bad = client.post(
        "/storefront/customers", json={"phone": "13911113333", "referral_code": "ZZZZZZZZ"}
    )
    assert bad.status_code == 404 and bad.json()["code"] == "referral_code_not_found"
    assert bad.json()["details"]["field"] == "referral_code"
    short = client.post(
        "/storefront/customers", json={"phone": "13911114444", "referral_code": "A"}
    )
    assert short.status_code == 422


def test_points_at_checkout_preview_and_their_refusals(client, shopper, sqlite_engine):
    cid, headers = shopper
    with session_scope(sqlite_engine) as s:
        sku = f.product(s, price=10_000, stock=5).skus[0].id
    give(sqlite_engine, cid, 6_000)
    lines = [{"sku_id": sku, "quantity": 1}]
    ok = client.post(
        "/storefront/checkout/preview", json={"lines": lines, "points": 5_000}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    over = client.post(
        "/storefront/checkout/preview", json={"lines": lines, "points": 5_100}, headers=headers
    )
    assert over.status_code == 409 and over.json()["code"] == "points_over_cap"
    assert over.json()["details"]["max_points"] == 5_000
    short = client.post(
        "/storefront/orders", json={"lines": lines, "points": 7_000}, headers=headers
    )
    assert short.status_code == 409 and short.json()["code"] == "points_insufficient"
    assert short.json()["details"] == {"field": "points", "requested": 7_000, "balance": 6_000}
    placed = client.post(
        "/storefront/orders", json={"lines": lines, "points": 5_000}, headers=headers
    )
    assert placed.status_code == 201, placed.text
    assert client.get("/storefront/points", headers=headers).json()["balance"] == 1_000


def test_tier_administration_and_its_bad_paths(client, api_headers):
    op = api_headers("operator")
    # Staff may read the tiers; only operators change them.
    analyst = api_headers("analyst")
    assert client.get("/admin/membership/tiers", headers=analyst).status_code == 200
    tier = {"code": "x", "name_zh": "x", "name_en": "x", "threshold": 1}
    assert client.post("/admin/membership/tiers", json=tier, headers=analyst).status_code == 403
    listed = client.get("/admin/membership/tiers", headers=op)
    assert listed.status_code == 200 and len(listed.json()) == len(rules.DEFAULT_TIERS)
    new = {"code": "black", "name_zh": "黑卡", "name_en": "Black", "threshold": 50_000,
           "discount_bp": 800, "free_shipping": True}  # fmt: skip
    created = client.post("/admin/membership/tiers", json=new, headers=op)
    assert created.status_code == 201, created.text
    again = client.post("/admin/membership/tiers", json=new, headers=op)
    assert again.status_code == 409 and again.json()["code"] == "tier_exists"
    same = {**new, "code": "black2"}
    clash = client.post("/admin/membership/tiers", json=same, headers=op)
    assert clash.status_code == 422 and clash.json()["code"] == "invalid_tiers"
    assert any("strictly increase" in p for p in clash.json()["details"]["problems"])
    for bad in (
        {**new, "code": "Bad Code"},
        {**new, "code": "x1", "threshold": 0},
        {**new, "code": "x2", "discount_bp": 9_999},
        {**new, "code": "x3", "colour": "black"},
    ):
        assert client.post("/admin/membership/tiers", json=bad, headers=op).status_code == 422
    patched = client.patch("/admin/membership/tiers/gold", json={"discount_bp": 250}, headers=op)
    assert patched.status_code == 200 and patched.json()["discount_bp"] == 250
    shrink = client.patch("/admin/membership/tiers/black", json={"discount_bp": 0}, headers=op)
    assert shrink.status_code == 422 and shrink.json()["code"] == "invalid_tiers"
    missing = client.patch("/admin/membership/tiers/none", json={"threshold": 5}, headers=op)
    assert missing.status_code == 404 and missing.json()["code"] == "tier_not_found"
    assert client.delete("/admin/membership/tiers/black", headers=op).status_code == 204
    assert client.delete("/admin/membership/tiers/black", headers=op).status_code == 404
    evaluated = client.post("/admin/membership/evaluate", headers=op)
    assert evaluated.status_code == 200 and set(evaluated.json()) == {"evaluated", "up", "down"}


def test_shoppers_cannot_administer(client, shopper):
    _, headers = shopper
    for method, path in (
        ("post", "/admin/membership/tiers"),
        ("post", "/admin/membership/evaluate"),
        ("post", "/admin/points/adjust"),
        ("post", "/admin/points/expire"),
    ):
        assert getattr(client, method)(path, json={}, headers=headers).status_code == 403


def test_points_adjust_and_expire_bad_paths(client, api_headers, shopper):
    cid, _ = shopper
    op = api_headers("operator")
    ok = client.post(
        "/admin/points/adjust", json={"customer_id": cid, "amount": 300, "reason": "补偿"},
        headers=op,
    )  # fmt: skip
    assert ok.status_code == 200 and ok.json()["balance_after"] == 300
    cases = [
        ({"customer_id": cid, "amount": -301, "reason": "x"}, 409, "points_insufficient"),
        ({"customer_id": cid, "amount": 0, "reason": "x"}, 422, "invalid_points"),
        ({"customer_id": 999_999, "amount": 5, "reason": "x"}, 404, "customer_not_found"),
        ({"customer_id": cid, "amount": 5, "reason": ""}, 422, None),
        ({"customer_id": cid, "amount": 5}, 422, None),
    ]
    for body, status, code in cases:
        resp = client.post("/admin/points/adjust", json=body, headers=op)
        assert resp.status_code == status, (body, resp.text)
        if code:
            assert resp.json()["code"] == code
    expired = client.post("/admin/points/expire", json={}, headers=op)
    assert expired.status_code == 200 and expired.json() == {"customers": 0, "points": 0}
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=800)).isoformat()
    gone = client.post("/admin/points/expire", json={"as_of": later}, headers=op)
    assert gone.json() == {"customers": 1, "points": 300}
    naive = client.post("/admin/points/expire", json={"as_of": "2026-01-01T00:00:00"}, headers=op)
    assert naive.status_code == 422 and naive.json()["code"] == "invalid_points"


def test_entering_a_referral_code_after_signing_up(client, shopper, sqlite_engine, api_headers):
    cid, headers = shopper
    with session_scope(sqlite_engine) as s:
        friend = f.customer(s).id
    friend_headers = api_headers("storefront", customer_id=friend)
    own = client.post(
        "/storefront/referral", json={"code": rules.referral_code(cid)}, headers=headers
    )
    assert own.status_code == 409 and own.json()["code"] == "self_referral"
    ok = client.post(
        "/storefront/referral", json={"code": rules.referral_code(friend)}, headers=headers
    )
    assert ok.status_code == 200 and ok.json()["referred_by"] == friend
    twice = client.post(
        "/storefront/referral", json={"code": rules.referral_code(friend)}, headers=headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_referred"
    cycle = client.post(
        "/storefront/referral", json={"code": rules.referral_code(cid)}, headers=friend_headers
    )
    assert cycle.status_code == 409 and cycle.json()["code"] == "referral_cycle"
    unknown = client.post("/storefront/referral", json={"code": "ZZZZZZZZ"}, headers=headers)
    assert unknown.status_code == 404
    assert (
        client.post("/storefront/referral", json={"code": "A"}, headers=headers).status_code == 422
    )
