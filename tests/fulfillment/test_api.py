"""Fulfillment routes: carriers and rates, quotes, shipping, carrier scans, tracking lookups
(a shopper sees only their own orders) and the scorecard, with their errors and roles."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from tests import factories as f

from shopops.db import session_scope
from shopops.fulfillment import service as ful
from shopops.orders import service as orders


@pytest.fixture
def shop(client: TestClient):  # type: ignore[no-untyped-def]
    """Default carriers, and a way to make orders (paid unless told otherwise)."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with session_scope(engine) as s:
        ful.ensure_default_carriers(s)

    def order(*, pay: bool = True, region: str = "上海") -> tuple[int, str, int]:
        with session_scope(engine) as s:
            sku = f.product(s, weight_grams=400).skus[0]
            c = f.customer(s, region=region)
            o = orders.place_order(s, customer_id=c.id, lines=[(sku.id, 2)])
            if pay:
                orders.mark_paid(s, order_id=o.id, amount=o.total)
            return o.id, o.number, c.id

    return order


# --- carriers -------------------------------------------------------------------------------


def test_carriers_crud_and_roles(client, api_headers, shop):
    op, agent, analyst = api_headers("operator"), api_headers("agent"), api_headers("analyst")
    resp = client.get("/admin/carriers", headers=agent)
    assert resp.status_code == 200
    sf = next(c for c in resp.json() if c["code"] == "sf")
    assert sf["name"] == "顺丰速运"
    assert {"region": "*", "first_kg_fee": 2300, "extra_kg_fee": 800, "transit_hours": 48} in (
        sf["rates"]
    )

    body = {"code": "deppon", "name": "德邦快递", "rates": [{"first_kg_fee": 900,
            "extra_kg_fee": 400, "transit_hours": 60}]}  # fmt: skip
    assert client.post("/admin/carriers", json=body, headers=analyst).status_code == 403
    resp = client.post("/admin/carriers", json=body, headers=op)
    assert resp.status_code == 201, resp.text
    assert resp.json()["rates"][0]["region"] == "*"
    resp = client.post("/admin/carriers", json=body, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (409, "carrier_exists")

    bad = {**body, "code": "neg", "rates": [{"first_kg_fee": -1, "extra_kg_fee": 0,
           "transit_hours": 1}]}  # fmt: skip
    resp = client.post("/admin/carriers", json=bad, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_input")
    resp = client.post("/admin/carriers", json={**body, "code": "Bad Code"}, headers=op)
    assert resp.status_code == 422

    rate = {"region": "新疆", "first_kg_fee": 2600, "extra_kg_fee": 1800, "transit_hours": 120}
    resp = client.post("/admin/carriers/deppon/rates", json=rate, headers=op)
    assert resp.status_code == 201 and resp.json() == rate
    resp = client.post("/admin/carriers/nope/rates", json=rate, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (404, "unknown_carrier")
    resp = client.post(
        "/admin/carriers/deppon/rates", json={**rate, "extra_kg_fee": -5}, headers=op
    )
    assert resp.status_code == 422
    assert client.post("/admin/carriers/deppon/rates", json=rate, headers=agent).status_code == 403

    resp = client.patch("/admin/carriers/deppon", json={"active": False}, headers=op)
    assert resp.status_code == 200 and resp.json()["active"] is False
    resp = client.patch("/admin/carriers/nope", json={"active": False}, headers=op)
    assert resp.status_code == 404
    resp = client.post("/admin/carriers/defaults", headers=op)
    assert resp.status_code == 200 and len(resp.json()) == 8


def test_quote(client, api_headers, shop):
    agent = api_headers("agent")
    resp = client.get(
        "/admin/carriers/sf/quote", params={"province": "新疆", "weight_grams": 2500}, headers=agent
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "carrier_code": "sf",
        "province": "新疆",
        "region": "新疆",
        "weight_grams": 2500,
        "billable_kg": 3,
        "fee": 6800,
        "promised_hours": 72,
    }
    resp = client.get("/admin/carriers/sf/quote", params={"weight_grams": -1}, headers=agent)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_input")
    resp = client.get("/admin/carriers/ups/quote", headers=agent)
    assert (resp.status_code, resp.json()["code"]) == (404, "unknown_carrier")


# --- shipping and scans ---------------------------------------------------------------------


def test_ship_order_and_its_errors(client, api_headers, shop):
    agent = api_headers("agent")
    order_id, _, _ = shop()
    url = f"/admin/orders/{order_id}/shipments"
    assert (
        client.post(url, json={"carrier_code": "sf"}, headers=api_headers("analyst")).status_code
        == 403
    )
    resp = client.post(url, json={"carrier_code": "ups"}, headers=agent)
    assert (resp.status_code, resp.json()["code"]) == (404, "unknown_carrier")
    resp = client.post(url, json={"carrier_code": "sf", "extra": 1}, headers=agent)
    assert resp.status_code == 422
    resp = client.post(url, json={"carrier_code": "sf", "tracking_number": "x y"}, headers=agent)
    assert resp.status_code == 422

    resp = client.post(url, json={"carrier_code": "sf", "tracking_number": "SF1000"}, headers=agent)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["tracking_number"] == "SF1000"
    assert (body["status"], body["fee"], body["weight_grams"], body["region"]) == (
        "created",
        1400,
        800,
        "上海",
    )
    assert body["promised_hours"] == 24
    assert [e["status"] for e in body["events"]] == ["created"]
    shipped_at = dt.datetime.fromisoformat(body["shipped_at"])
    assert dt.datetime.fromisoformat(body["promised_by"]) - shipped_at == dt.timedelta(hours=24)

    resp = client.post(url, json={"carrier_code": "sf"}, headers=agent)
    assert (resp.status_code, resp.json()["code"]) == (409, "order_already_shipped")
    other_id, _, _ = shop()
    resp = client.post(
        f"/admin/orders/{other_id}/shipments",
        json={"carrier_code": "jd", "tracking_number": "SF1000"},
        headers=agent,
    )
    assert (resp.status_code, resp.json()["code"]) == (409, "duplicate_tracking_number")
    unpaid_id, _, _ = shop(pay=False)
    resp = client.post(
        f"/admin/orders/{unpaid_id}/shipments", json={"carrier_code": "sf"}, headers=agent
    )
    assert (resp.status_code, resp.json()["code"]) == (409, "order_not_shippable")
    resp = client.post("/admin/orders/999999/shipments", json={"carrier_code": "sf"}, headers=agent)
    assert (resp.status_code, resp.json()["code"]) == (404, "order_not_found")


def test_tracking_events(client, api_headers, shop):
    op = api_headers("operator")
    order_id, _, _ = shop()
    sid = client.post(
        f"/admin/orders/{order_id}/shipments", json={"carrier_code": "zto"}, headers=op
    ).json()["id"]
    url = f"/admin/shipments/{sid}/events"
    scan = {"status": "picked_up", "location": "杭州", "description": "快递员已取件"}
    first = client.post(url, json=scan, headers=op)
    assert first.status_code == 201 and first.json()["status"] == "picked_up"
    again = client.post(url, json=scan, headers=op)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]

    resp = client.post(url, json={"status": "delivered"}, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (409, "illegal_tracking_transition")
    assert resp.json()["details"]["allowed"] == ["exception", "in_transit"]
    resp = client.post(url, json={"status": "lost_in_space"}, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_input")
    resp = client.post("/admin/shipments/999999/events", json=scan, headers=op)
    assert (resp.status_code, resp.json()["code"]) == (404, "shipment_not_found")
    resp = client.post(url, json={**scan, "location": "x" * 101}, headers=op)
    assert resp.status_code == 422
    assert client.post(url, json=scan, headers=api_headers("analyst")).status_code == 403

    agent = api_headers("agent")
    for status in ("in_transit", "out_for_delivery", "delivered"):
        resp = client.post(url, json={"status": status, "location": "上海"}, headers=agent)
        assert resp.status_code == 201, resp.text
    detail = client.get(f"/admin/shipments/{sid}", headers=api_headers("analyst")).json()
    assert detail["status"] == "delivered" and detail["delivered_at"] is not None
    assert len(detail["events"]) == 5
    assert client.get("/admin/shipments/999999", headers=op).status_code == 404
    with session_scope(client.app.state.engine) as s:
        assert orders.get_order(s, order_id=order_id).status == "delivered"


def test_list_shipments(client, api_headers, shop):
    op, staff = api_headers("operator"), api_headers("analyst")
    a, _, _ = shop()
    b, _, _ = shop()
    sa = client.post(f"/admin/orders/{a}/shipments", json={"carrier_code": "sf"}, headers=op)
    sb = client.post(f"/admin/orders/{b}/shipments", json={"carrier_code": "jd"}, headers=op)
    client.post(f"/admin/shipments/{sb.json()['id']}/events", json={"status": "exception"},
                headers=op)  # fmt: skip
    resp = client.get("/admin/shipments", headers=staff)
    assert [s["id"] for s in resp.json()] == [sb.json()["id"], sa.json()["id"]]
    assert "events" not in resp.json()[0]
    resp = client.get("/admin/shipments", params={"carrier": "sf"}, headers=staff)
    assert [s["carrier_code"] for s in resp.json()] == ["sf"]
    resp = client.get("/admin/shipments", params={"status": "exception"}, headers=staff)
    assert [(s["carrier_code"], s["exception_count"]) for s in resp.json()] == [("jd", 1)]
    resp = client.get("/admin/shipments", params={"status": "nope"}, headers=staff)
    assert resp.status_code == 422
    resp = client.get("/admin/shipments", params={"limit": 0}, headers=staff)
    assert resp.status_code == 422
    store = api_headers("storefront", customer_id=shop()[2])
    assert client.get("/admin/shipments", headers=store).status_code == 403


# --- tracking lookups -----------------------------------------------------------------------


def test_storefront_tracking_is_own_orders_only(client, api_headers, shop):
    order_id, number, customer_id = shop()
    _, other_number, other_customer = shop()
    op = api_headers("operator")
    client.post(f"/admin/orders/{order_id}/shipments", json={"carrier_code": "yto"}, headers=op)
    mine = api_headers("storefront", customer_id=customer_id)

    resp = client.get(f"/storefront/orders/{number}/tracking", headers=mine)
    assert resp.status_code == 200
    body = resp.json()
    assert body["order_number"] == number
    (parcel,) = body["shipments"]
    assert parcel["carrier_code"] == "yto" and parcel["carrier_name"] == "圆通速递"
    assert parcel["events"][0]["description"] == "已揽收"
    assert "fee" not in parcel and "exception_count" not in parcel

    resp = client.get(f"/storefront/orders/{other_number}/tracking", headers=mine)
    assert (resp.status_code, resp.json()["code"]) == (404, "order_not_found")
    resp = client.get("/storefront/orders/NOPE/tracking", headers=mine)
    assert (resp.status_code, resp.json()["code"]) == (404, "order_not_found")
    theirs = api_headers("storefront", customer_id=other_customer)
    resp = client.get(f"/storefront/orders/{other_number}/tracking", headers=theirs)
    assert resp.status_code == 200 and resp.json()["shipments"] == []
    assert client.get(f"/storefront/orders/{number}/tracking", headers=op).status_code == 403


def test_admin_tracking(client, api_headers, shop):
    order_id, number, _ = shop()
    op = api_headers("operator")
    client.post(f"/admin/orders/{order_id}/shipments", json={"carrier_code": "ems"}, headers=op)
    resp = client.get(f"/admin/tracking/{number}", headers=api_headers("agent"))
    assert resp.status_code == 200
    (parcel,) = resp.json()["shipments"]
    assert parcel["carrier_code"] == "ems" and parcel["fee"] == 2000
    resp = client.get("/admin/tracking/NOPE", headers=op)
    assert (resp.status_code, resp.json()["code"]) == (404, "order_not_found")


def test_scorecard(client, api_headers, shop):
    op, analyst = api_headers("operator"), api_headers("analyst")
    order_id, _, _ = shop()
    sid = client.post(
        f"/admin/orders/{order_id}/shipments", json={"carrier_code": "sf"}, headers=op
    ).json()["id"]
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        client.post(f"/admin/shipments/{sid}/events", json={"status": status}, headers=op)
    resp = client.get("/admin/carriers/scorecard", headers=analyst)
    assert resp.status_code == 200, resp.text
    (sf,) = resp.json()["carriers"]
    assert (sf["carrier_code"], sf["shipments"], sf["delivered"], sf["on_time_rate"]) == (
        "sf",
        1,
        1,
        1.0,
    )
    assert sf["mean_fee"] == 1400
    # Times without a zone read as UTC; an empty window is refused.
    resp = client.get(
        "/admin/carriers/scorecard",
        params={"since": "2020-01-01T00:00:00", "until": "2020-02-01T00:00:00"},
        headers=op,
    )
    assert resp.status_code == 200
    assert resp.json()["carriers"] == []
    assert resp.json()["since"].startswith("2020-01-01T00:00:00")
    resp = client.get(
        "/admin/carriers/scorecard",
        params={"since": "2020-02-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"},
        headers=analyst,
    )
    assert (resp.status_code, resp.json()["code"]) == (422, "invalid_window")
    assert client.get("/admin/carriers/scorecard", headers=api_headers("agent")).status_code == 403
