"""Pricing routes: operators set prices, price lists, repricing and flash sales; staff read;
shoppers see live flash sales and buy through checkout. Every bad path has its code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.routing import APIRoute
from tests.pricing.support import FLASH, PRICE, Store, build_store

from shopops.db import utcnow
from shopops.pricing.api import router


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    """The app's client, with the pricing router included if the app does not list it yet."""
    paths = {r.path for r in client.app.routes if isinstance(r, APIRoute)}
    if "/admin/flash-sales" not in paths:
        client.app.include_router(router)
    return client


@pytest.fixture
def store(api) -> Store:  # type: ignore[no-untyped-def]
    return build_store(api.app.state.engine)


@pytest.fixture
def ops(api_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_headers("operator")


@pytest.fixture
def me(api_headers, store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_headers("storefront", customer_id=store.customer_id)


def _iso(delta_minutes: int) -> str:
    return (utcnow() + dt.timedelta(minutes=delta_minutes)).isoformat()


def _sale(store: Store, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "双11 秒杀",
        "starts_at": _iso(-1),
        "ends_at": _iso(60),
        "per_customer_limit": 1,
        "items": [{"sku_id": store.skus[0], "flash_price": FLASH, "pool": 2}],
    }
    body.update(change)
    return body


def _error(resp, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    return body


# ---- flash sales ------------------------------------------------------------------------------


def test_flash_sale_from_creation_to_sold_out(api, api_headers, ops, me, store):
    sku = store.skus[0]
    resp = api.post("/admin/flash-sales", json=_sale(store), headers=ops)
    assert resp.status_code == 201, resp.text
    sale = resp.json()
    assert sale["items"] == [
        {"sku_id": sku, "list_price": PRICE, "flash_price": FLASH, "pool": 2, "sold": 0, "left": 2}
    ]
    live = api.get("/storefront/flash-sales", headers=me).json()
    assert [(s["id"], s["items"][0]["left"]) for s in live] == [(sale["id"], 2)]

    order = api.post(
        "/storefront/orders", json={"lines": [{"sku_id": sku, "quantity": 1}]}, headers=me
    )
    assert order.status_code == 201, order.text
    assert order.json()["items_subtotal"] - order.json()["discount_total"] == FLASH
    again = api.post(
        "/storefront/orders", json={"lines": [{"sku_id": sku, "quantity": 1}]}, headers=me
    )
    _error(again, 409, "flash_sale_limit_reached")

    from tests import factories as f

    from shopops.db import session_scope

    with session_scope(api.app.state.engine) as s:
        others = [f.customer(s).id for _ in range(2)]
    first, second = (api_headers("storefront", customer_id=c) for c in others)
    line = {"lines": [{"sku_id": sku, "quantity": 1}]}
    assert api.post("/storefront/orders", json=line, headers=first).status_code == 201
    _error(api.post("/storefront/orders", json=line, headers=second), 409, "flash_sale_sold_out")
    assert api.get(f"/admin/flash-sales/{sale['id']}", headers=ops).json()["items"][0]["sold"] == 2

    ended = api.post(f"/admin/flash-sales/{sale['id']}/end", headers=ops)
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    _error(api.post(f"/admin/flash-sales/{sale['id']}/end", headers=ops), 409, "illegal_transition")
    assert api.get("/storefront/flash-sales", headers=me).json() == []
    assert [s["id"] for s in api.get("/admin/flash-sales", headers=ops).json()] == [sale["id"]]


@pytest.mark.parametrize(
    ("change", "status", "code", "problem"),
    [
        (
            {"starts_at": _iso(120), "ends_at": _iso(60)},
            422,
            "invalid_flash_sale",
            "window_invalid",
        ),
        (
            {"starts_at": _iso(-120), "ends_at": _iso(-60)},
            422,
            "invalid_flash_sale",
            "window_in_past",
        ),
        ({"per_customer_limit": 0}, 422, "invalid_flash_sale", "limit_invalid"),
        ({"items": []}, 422, "invalid_flash_sale", "no_items"),
        ({"starts_at": "2026-11-11T00:00:00"}, 422, "invalid_input", None),  # no time zone
    ],
)
def test_bad_flash_sale_windows_and_limits(api, ops, store, change, status, code, problem):
    body = _error(
        api.post("/admin/flash-sales", json=_sale(store, **change), headers=ops), status, code
    )
    if problem:
        assert [p["code"] for p in body["details"]["problems"]] == [problem]


@pytest.mark.parametrize(
    ("item", "status", "code", "problem"),
    [
        ({"flash_price": PRICE}, 422, "invalid_flash_sale", "flash_price_invalid"),
        ({"flash_price": PRICE + 1}, 422, "invalid_flash_sale", "flash_price_invalid"),
        ({"flash_price": 0}, 422, "invalid_flash_sale", "flash_price_invalid"),
        ({"flash_price": -1}, 422, "invalid_input", None),
        ({"pool": 0}, 422, "invalid_flash_sale", "pool_invalid"),
        ({"pool": -5}, 422, "invalid_input", None),
        ({"sku_id": 999_999}, 404, "unknown_sku", None),
        ({"extra": 1}, 422, "invalid_input", None),
    ],
)
def test_bad_flash_sale_items(api, ops, store, item, status, code, problem):
    base = {"sku_id": store.skus[0], "flash_price": FLASH, "pool": 2}
    body = _error(
        api.post("/admin/flash-sales", json=_sale(store, items=[{**base, **item}]), headers=ops),
        status,
        code,
    )
    if problem:
        assert [p["code"] for p in body["details"]["problems"]] == [problem]


def test_overlapping_sales_and_unknown_ids(api, ops, store):
    assert api.post("/admin/flash-sales", json=_sale(store), headers=ops).status_code == 201
    _error(
        api.post("/admin/flash-sales", json=_sale(store), headers=ops), 409, "flash_sale_overlap"
    )
    _error(api.get("/admin/flash-sales/999", headers=ops), 404, "flash_sale_not_found")
    _error(api.post("/admin/flash-sales/999/end", headers=ops), 404, "flash_sale_not_found")


def test_roles(api, api_headers, me, store):
    _error(api.post("/admin/flash-sales", json=_sale(store)), 401, "missing_api_key")
    _error(api.post("/admin/flash-sales", json=_sale(store), headers=me), 403, "wrong_role")
    analyst = api_headers("analyst")
    _error(
        api.put(f"/admin/prices/{store.skus[0]}", json={"price": 30_500}, headers=analyst),
        403,
        "wrong_role",
    )
    assert api.get("/admin/flash-sales", headers=analyst).status_code == 200
    _error(api.get("/storefront/flash-sales"), 401, "missing_api_key")


# ---- prices -----------------------------------------------------------------------------------


def test_list_price_routes(api, ops, store):
    sku = store.skus[0]
    resp = api.put(f"/admin/prices/{sku}", json={"price": 30_500, "reason": "618"}, headers=ops)
    assert resp.status_code == 200, resp.text
    change = resp.json()
    assert (change["old_price"], change["new_price"], change["reason"]) == (PRICE, 30_500, "618")
    assert change["actor"].startswith("api_key:")
    assert api.put(f"/admin/prices/{sku}", json={"price": 30_500}, headers=ops).json() is None
    body = _error(
        api.put(f"/admin/prices/{sku}", json={"price": 25_900}, headers=ops),
        409,
        "margin_band_violated",
    )
    assert body["details"]["band"] == {"low": 28_936, "high": 30_931}
    _error(
        api.put(
            f"/admin/prices/{sku}", json={"price": 25_900, "allow_outside_band": True}, headers=ops
        ),
        422,
        "invalid_price",
    )
    forced = api.put(
        f"/admin/prices/{sku}",
        json={"price": 25_900, "allow_outside_band": True, "reason": "clearance"},
        headers=ops,
    )
    assert forced.status_code == 200 and forced.json()["outside_band"] is True
    _error(api.put(f"/admin/prices/{sku}", json={"price": 0}, headers=ops), 422, "invalid_price")
    _error(api.put(f"/admin/prices/{sku}", json={"price": -1}, headers=ops), 422, "invalid_input")
    _error(api.put("/admin/prices/999999", json={"price": 100}, headers=ops), 404, "unknown_sku")
    history = api.get(f"/admin/prices/{sku}/history", headers=ops).json()
    assert [h["new_price"] for h in history] == [25_900, 30_500]


def test_price_list_routes(api, ops, store):
    a, b = store.skus
    body = {
        "code": "GOLD",
        "name": "金卡会员价",
        "kind": "member",
        "target": "gold",
        "items": [{"sku_id": a, "price": 26_900}],
    }
    created = api.post("/admin/price-lists", json=body, headers=ops)
    assert created.status_code == 201, created.text
    list_id = created.json()["id"]
    _error(api.post("/admin/price-lists", json=body, headers=ops), 409, "duplicate_price_list_code")
    _error(
        api.post(
            "/admin/price-lists",
            json={**body, "code": "VIP", "items": [{"sku_id": a, "price": PRICE + 1}]},
            headers=ops,
        ),
        422,
        "invalid_price",
    )
    _error(
        api.post("/admin/price-lists", json={**body, "code": "X", "kind": "b2b"}, headers=ops),
        422,
        "invalid_input",
    )
    resolved = api.get(
        "/admin/prices", params={"sku_ids": [a, b], "tier": "gold"}, headers=ops
    ).json()
    assert resolved == [{"sku_id": a, "price": 26_900}, {"sku_id": b, "price": PRICE}]
    items = api.put(
        f"/admin/price-lists/{list_id}/items",
        json={"items": [{"sku_id": a, "price": None}, {"sku_id": b, "price": 27_900}]},
        headers=ops,
    )
    assert items.status_code == 200 and items.json()["items"] == [{"sku_id": b, "price": 27_900}]
    off = api.patch(f"/admin/price-lists/{list_id}", json={"active": False}, headers=ops)
    assert off.json()["active"] is False
    assert [pl["code"] for pl in api.get("/admin/price-lists", headers=ops).json()] == ["GOLD"]
    _error(api.get("/admin/price-lists/999", headers=ops), 404, "price_list_not_found")


def test_repricing_routes(api, ops, store):
    sku = store.skus[0]
    resp = api.post(
        "/admin/repricing/proposals",
        json={"sku_id": sku, "competitor_prices": [31_900, 32_900], "daily_sales": 20},
        headers=ops,
    )
    assert resp.status_code == 201, resp.text
    proposal = resp.json()
    assert proposal["proposed_price"] == 30_900 and proposal["status"] == "proposed"
    assert {"competitor_median", "low_cover"} <= {r["code"] for r in proposal["reasons"]}
    listed = api.get("/admin/repricing/proposals", params={"status": "proposed"}, headers=ops)
    assert [p["id"] for p in listed.json()] == [proposal["id"]]
    applied = api.post(f"/admin/repricing/proposals/{proposal['id']}/apply", headers=ops)
    assert applied.status_code == 200 and applied.json()["change"]["new_price"] == 30_900
    _error(
        api.post(f"/admin/repricing/proposals/{proposal['id']}/apply", headers=ops),
        409,
        "reprice_proposal_not_applicable",
    )
    _error(
        api.post(
            "/admin/repricing/proposals",
            json={"sku_id": sku, "min_margin_bp": 5_000, "max_margin_bp": 4_000},
            headers=ops,
        ),
        422,
        "invalid_price",
    )
    _error(
        api.post("/admin/repricing/proposals/999/dismiss", headers=ops),
        404,
        "reprice_proposal_not_found",
    )
