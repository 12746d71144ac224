"""The cart, checkout and order routes, for shoppers and for the back office."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.orders.shop import Shop, build_shop, stock

from shopops.db import session_scope, set_clock
from shopops.orders import service


@pytest.fixture
def shop(client) -> Shop:  # type: ignore[no-untyped-def]
    return build_shop(client.app.state.engine)


@pytest.fixture
def me(api_headers, shop) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return api_headers("storefront", customer_id=shop.customer_id)


def _other_shopper(client, api_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from tests import factories as f

    with session_scope(client.app.state.engine) as s:
        cid = f.customer(s).id
    return api_headers("storefront", customer_id=cid)


def _order(client, me, shop, **body) -> dict:  # type: ignore[no-untyped-def]
    body.setdefault("lines", [{"sku_id": shop.skus[0], "quantity": 2}])
    resp = client.post("/storefront/orders", json=body, headers=me)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_cart_routes(client, me, shop):
    a, b, _ = shop.skus
    resp = client.post("/storefront/cart/lines", json={"sku_id": a, "quantity": 2}, headers=me)
    assert resp.status_code == 200, resp.text
    client.post("/storefront/cart/lines", json={"sku_id": a}, headers=me)
    cart = client.post("/storefront/cart/lines", json={"sku_id": b}, headers=me).json()
    assert [(ln["sku_id"], ln["quantity"]) for ln in cart["lines"]] == [(a, 3), (b, 1)]
    assert cart["items_subtotal"] == 12000 and cart["lines"][0]["available"] == 10
    cart = client.patch(f"/storefront/cart/lines/{b}", json={"quantity": 5}, headers=me).json()
    assert cart["lines"][1]["quantity"] == 5
    cart = client.delete(f"/storefront/cart/lines/{a}", headers=me).json()
    assert [ln["sku_id"] for ln in cart["lines"]] == [b]
    assert client.get("/storefront/cart", headers=me).json()["items_subtotal"] == 15000
    assert client.delete("/storefront/cart", headers=me).status_code == 204
    assert client.get("/storefront/cart", headers=me).json()["lines"] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku_id": 1, "quantity": 0}, 422, "invalid_input"),
        ({"sku_id": 1, "quantity": -2}, 422, "invalid_input"),
        ({"sku_id": 1, "quantity": 10**12}, 422, "invalid_input"),
        ({"sku_id": 1, "quantity": 1000}, 422, "quantity_out_of_range"),
        ({"sku_id": 1, "quantity": "lots"}, 422, "invalid_input"),
        ({"sku_id": 987654, "quantity": 1}, 404, "unknown_sku"),
        ({"quantity": 1}, 422, "invalid_input"),
        ({"sku_id": 1, "quantity": 1, "price": 1}, 422, "invalid_input"),
    ],
)
def test_cart_bad_input(client, me, shop, body, status, code):
    resp = client.post("/storefront/cart/lines", json=body, headers=me)
    assert (resp.status_code, resp.json()["code"]) == (status, code)


def test_cart_other_bad_paths(client, me, shop):
    unlisted = client.post("/storefront/cart/lines", json={"sku_id": shop.unlisted_sku}, headers=me)
    assert (unlisted.status_code, unlisted.json()["code"]) == (409, "sku_not_sellable")
    missing = client.patch(
        f"/storefront/cart/lines/{shop.skus[0]}", json={"quantity": 2}, headers=me
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "cart_line_not_found")
    malformed = client.post(
        "/storefront/cart/lines",
        content=b"{sku_id: 1",
        headers={**me, "Content-Type": "application/json"},
    )
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_json")
    assert client.get("/storefront/cart").status_code == 401


def test_small_max_line_quantity_from_settings(client, me, shop):
    client.app.state.settings = client.app.state.settings.model_copy(
        update={"max_line_quantity": 2}
    )
    resp = client.post(
        "/storefront/cart/lines", json={"sku_id": shop.skus[0], "quantity": 3}, headers=me
    )
    assert resp.json()["code"] == "quantity_out_of_range"
    assert resp.json()["details"]["max"] == 2


def test_preview_and_place_from_the_cart(client, me, shop):
    client.post("/storefront/cart/lines", json={"sku_id": shop.skus[0], "quantity": 3}, headers=me)
    preview = client.post("/storefront/checkout/preview", headers=me)
    assert preview.status_code == 200, preview.text
    assert preview.json()["total"] == 9000 + 1000 and preview.json()["shipping_fee"] == 1000
    buy_now = client.post(
        "/storefront/checkout/preview",
        json={"lines": [{"sku_id": shop.skus[1], "quantity": 4}]},
        headers=me,
    ).json()
    assert buy_now["items_subtotal"] == 12000 and buy_now["shipping_fee"] == 0

    order = client.post("/storefront/orders", json={"note": "放门口"}, headers=me)
    assert order.status_code == 201, order.text
    body = order.json()
    assert body["status"] == "pending_payment" and body["total"] == 10000
    assert body["note"] == "放门口" and len(body["lines"]) == 1
    assert body["shipping_address"]["detail"] == "世纪大道 100 号"
    assert client.get("/storefront/cart", headers=me).json()["lines"] == []
    empty = client.post("/storefront/orders", headers=me)
    assert (empty.status_code, empty.json()["code"]) == (409, "cart_empty")


def test_place_order_bad_paths(client, me, shop):
    def post(body):  # type: ignore[no-untyped-def]
        resp = client.post("/storefront/orders", json=body, headers=me)
        return resp.status_code, resp.json()["code"]

    sku = shop.skus[0]
    assert post({"lines": [{"sku_id": sku, "quantity": 11}]}) == (409, "out_of_stock")
    assert post({"lines": [{"sku_id": 4242, "quantity": 1}]}) == (404, "unknown_sku")
    assert post({"lines": [{"sku_id": sku, "quantity": 0}]}) == (422, "invalid_input")
    assert post({"lines": []}) == (422, "invalid_input")
    assert post({"lines": [{"sku_id": sku}], "address_id": 999}) == (404, "address_not_found")
    assert post({"lines": [{"sku_id": sku}], "note": "x" * 501}) == (422, "invalid_input")
    assert post({"lines": [{"sku_id": sku}], "status": "paid"}) == (422, "invalid_input")
    malformed = client.post(
        "/storefront/orders", content=b"[", headers={**me, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    # Nothing was written by any of these, and the stock is whole.
    assert client.get("/storefront/orders", headers=me).json()["total"] == 0
    assert stock(client.app.state.engine, sku) == (10, 0)


def test_idempotency_key_header(client, me, shop):
    body = {"lines": [{"sku_id": shop.skus[0], "quantity": 1}]}
    headers = {**me, "Idempotency-Key": "click-1"}
    first = client.post("/storefront/orders", json=body, headers=headers)
    again = client.post("/storefront/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    other = client.post(
        "/storefront/orders",
        json={"lines": [{"sku_id": shop.skus[0], "quantity": 2}]},
        headers=headers,
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    too_long = client.post(
        "/storefront/orders", json=body, headers={**me, "Idempotency-Key": "k" * 129}
    )
    assert too_long.status_code == 422
    assert client.get("/storefront/orders", headers=me).json()["total"] == 1


def test_shoppers_see_only_their_own_orders(client, me, shop, api_headers):
    order = _order(client, me, shop)
    stranger = _other_shopper(client, api_headers)
    url = f"/storefront/orders/{order['number']}"
    assert client.get(url, headers=me).json()["id"] == order["id"]
    for method, path in (
        ("GET", url),
        ("POST", url + "/cancel"),
        ("POST", url + "/confirm-receipt"),
    ):
        resp = client.request(method, path, headers=stranger)
        assert (resp.status_code, resp.json()["code"]) == (404, "order_not_found")
    assert client.get("/storefront/orders", headers=stranger).json()["items"] == []
    mine = client.get("/storefront/orders?status=pending_payment", headers=me).json()
    assert [o["number"] for o in mine["items"]] == [order["number"]]
    assert client.get("/storefront/orders?status=bogus", headers=me).status_code == 422


def test_cancel_and_confirm_receipt(client, me, shop):
    first, second = _order(client, me, shop), _order(client, me, shop)
    cancelled = client.post(f"/storefront/orders/{first['number']}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/storefront/orders/{first['number']}/cancel", headers=me)
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    assert again.json()["details"]["status"] == "cancelled"
    assert again.json()["details"]["action"] == "cancel"

    early = client.post(f"/storefront/orders/{second['number']}/confirm-receipt", headers=me)
    assert early.status_code == 409
    with session_scope(client.app.state.engine) as s:
        service.mark_paid(s, order_id=second["id"], amount=second["total"])
        service.mark_shipped(s, order_id=second["id"])
    done = client.post(f"/storefront/orders/{second['number']}/confirm-receipt", headers=me)
    assert done.status_code == 200 and done.json()["status"] == "completed"


def test_admin_list_and_filters(client, me, shop, api_headers):
    first, second = _order(client, me, shop), _order(client, me, shop)
    client.post(f"/storefront/orders/{first['number']}/cancel", headers=me)
    staff = api_headers("analyst")
    page = client.get("/admin/orders", headers=staff).json()
    assert page["total"] == 2 and [o["id"] for o in page["items"]] == [second["id"], first["id"]]
    assert "lines" not in page["items"][0]
    cancelled = client.get("/admin/orders?status=cancelled", headers=staff).json()
    assert [o["id"] for o in cancelled["items"]] == [first["id"]]
    by_number = client.get(f"/admin/orders?number={second['number']}", headers=staff).json()
    assert by_number["total"] == 1
    by_customer = client.get(f"/admin/orders?customer_id={shop.customer_id}&limit=1", headers=staff)
    assert by_customer.json()["total"] == 2 and len(by_customer.json()["items"]) == 1
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    later = client.get("/admin/orders", params={"placed_from": future}, headers=staff).json()
    assert later["total"] == 0
    assert client.get("/admin/orders?limit=500", headers=staff).status_code == 422
    assert client.get("/admin/orders", headers=me).status_code == 403


def test_admin_order_detail_masks_the_address_for_analysts(client, me, shop, api_headers):
    order = _order(client, me, shop)
    url = f"/admin/orders/{order['id']}"
    operator = client.get(url, headers=api_headers("operator")).json()
    assert operator["shipping_address"]["detail"] == "世纪大道 100 号"
    assert [e["name"] for e in operator["timeline"]] == ["order.created"]
    assert operator["lines"][0]["sku_id"] == shop.skus[0]
    analyst = client.get(url, headers=api_headers("analyst")).json()
    assert analyst["shipping_address"]["detail"] == "***"
    assert "****" in analyst["shipping_address"]["phone"]
    assert analyst["shipping_address"]["city"] == "上海"
    missing = client.get("/admin/orders/4242", headers=api_headers("agent"))
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")


def test_admin_cancel(client, me, shop, api_headers):
    order = _order(client, me, shop)
    url = f"/admin/orders/{order['id']}/cancel"
    assert client.post(url, json={"reason": "x"}, headers=api_headers("analyst")).status_code == 403
    assert client.post(url, json={}, headers=api_headers("agent")).status_code == 422
    resp = client.post(url, json={"reason": "fraud_suspected"}, headers=api_headers("agent"))
    assert resp.status_code == 200 and resp.json()["cancel_reason"] == "fraud_suspected"
    assert [e["name"] for e in resp.json()["timeline"]] == ["order.created", "order.cancelled"]


def test_admin_jobs(client, me, shop, api_headers):
    order = _order(client, me, shop)
    operator = api_headers("operator")
    assert client.post("/admin/orders/expire-unpaid", headers=operator).json() == {"processed": 0}
    assert (
        client.post("/admin/orders/expire-unpaid", headers=api_headers("agent")).status_code == 403
    )
    with session_scope(client.app.state.engine) as s:
        set_clock(s, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        assert service.expire_unpaid_orders(s) == 1
    status = client.get(f"/storefront/orders/{order['number']}", headers=me).json()["status"]
    assert status == "cancelled"
    assert client.post("/admin/orders/complete-delivered", headers=operator).json() == {
        "processed": 0
    }
