"""After-sales routes: shoppers request and ship back; staff approve, reject and receive."""

from __future__ import annotations

import datetime as dt

import pytest
from tests import factories as f

from shopops.db import session_scope, set_clock, utcnow
from shopops.fulfillment import service as fulfillment


@pytest.fixture
def db(sqlite_engine):
    return lambda: session_scope(sqlite_engine)


@pytest.fixture(autouse=True)
def _gateway(client):
    client.app.state.payment_gateway = f.gateway()


def _delivered(db, api_headers, *, days_ago: float = 1, **kwargs):
    with db() as s:
        fulfillment.ensure_default_carriers(s)
        set_clock(s, utcnow() - dt.timedelta(days=days_ago))
        order = f.delivered_order(s, **kwargs)
        ids = {
            "order_id": order.id,
            "number": order.number,
            "customer_id": order.customer_id,
            "line_id": order.lines[0].id,
        }
    return ids, api_headers("storefront", customer_id=ids["customer_id"])


def _body(order, quantity=1, **extra):
    return {
        "order_number": order["number"],
        "kind": "return",
        "lines": [{"order_line_id": order["line_id"], "quantity": quantity}],
        **extra,
    }


def test_the_whole_return(client, db, api_headers):
    order, shopper = _delivered(db, api_headers, quantity=2, price=4000)
    res = client.post("/storefront/returns", json=_body(order, 2), headers=shopper)
    assert res.status_code == 201, res.text
    request = res.json()
    assert request["status"] == "requested" and request["no_reason"] is True
    rid = request["id"]

    mine = client.get("/storefront/returns", headers=shopper)
    assert [r["id"] for r in mine.json()] == [rid]
    queue = client.get(
        "/admin/returns", params={"status": "requested"}, headers=api_headers("agent")
    )
    assert [r["id"] for r in queue.json()] == [rid]

    early = client.post(
        f"/storefront/returns/{rid}/ship", json={"carrier_code": "sf"}, headers=shopper
    )
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    operator = api_headers("operator")
    res = client.post(f"/admin/returns/{rid}/approve", headers=operator)
    assert res.status_code == 200 and res.json()["status"] == "approved"
    res = client.post(
        f"/storefront/returns/{rid}/ship",
        json={"carrier_code": "sf", "tracking_number": "SF0000111122"},
        headers=shopper,
    )
    assert res.status_code == 200 and res.json()["status"] == "in_transit"
    assert res.json()["reverse_shipment_id"]
    res = client.post(f"/admin/returns/{rid}/receive", headers=api_headers("agent"))
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "refunded" and res.json()["refund_id"]
    refunds = client.get(f"/admin/orders/{order['order_id']}/refunds", headers=operator)
    assert [(r["amount"], r["return_id"]) for r in refunds.json()] == [(8000, rid)]


def test_request_errors(client, db, api_headers):
    order, shopper = _delivered(db, api_headers, quantity=1)
    res = client.post("/storefront/returns", json=_body(order, 2), headers=shopper)
    assert res.status_code == 422 and res.json()["code"] == "return_quantity_exceeded"
    _, stranger = _delivered(db, api_headers)
    res = client.post("/storefront/returns", json=_body(order), headers=stranger)
    assert res.status_code == 404 and res.json()["code"] == "order_not_found"
    res = client.post("/storefront/returns", json=_body(order, kind="swap"), headers=shopper)
    assert res.status_code == 422
    res = client.post("/storefront/returns", json={**_body(order), "lines": []}, headers=shopper)
    assert res.status_code == 422
    res = client.post("/storefront/returns", json=_body(order, no_reason=False), headers=shopper)
    assert res.status_code == 422 and res.json()["code"] == "invalid_input"
    res = client.post("/storefront/returns", json=_body(order), headers=api_headers("agent"))
    assert res.status_code == 403
    assert client.post("/storefront/returns", json=_body(order)).status_code == 401


def test_late_and_undelivered_orders(client, db, api_headers):
    late, shopper = _delivered(db, api_headers, days_ago=10)
    res = client.post("/storefront/returns", json=_body(late), headers=shopper)
    assert res.status_code == 409 and res.json()["code"] == "return_window_closed"
    assert res.json()["details"]["deadline"]
    quality = _body(late, no_reason=False, reason="开机无反应")
    assert client.post("/storefront/returns", json=quality, headers=shopper).status_code == 201

    with db() as s:
        paid = f.paid_order(s)
        body = {
            "order_number": paid.number,
            "lines": [{"order_line_id": paid.lines[0].id, "quantity": 1}],
        }
        customer_id = paid.customer_id
    res = client.post(
        "/storefront/returns",
        json=body,
        headers=api_headers("storefront", customer_id=customer_id),
    )
    assert res.status_code == 409 and res.json()["code"] == "order_not_returnable"


def test_staff_routes_refuse_and_validate(client, db, api_headers):
    order, shopper = _delivered(db, api_headers)
    rid = client.post("/storefront/returns", json=_body(order), headers=shopper).json()["id"]
    analyst = api_headers("analyst")
    for action in ("approve", "receive"):
        assert client.post(f"/admin/returns/{rid}/{action}", headers=analyst).status_code == 403
        assert client.post(f"/admin/returns/{rid}/{action}", headers=shopper).status_code == 403
    assert client.get("/admin/returns", headers=shopper).status_code == 403
    assert client.get("/admin/returns", params={"status": "x"}, headers=analyst).status_code == 422
    agent = api_headers("agent")
    res = client.post(f"/admin/returns/{rid}/reject", json={}, headers=agent)
    assert res.status_code == 422
    res = client.post(f"/admin/returns/{rid}/receive", headers=agent)
    assert res.status_code == 409 and res.json()["code"] == "illegal_transition"
    res = client.post(f"/admin/returns/{rid}/reject", json={"reason": "已超出范围"}, headers=agent)
    assert res.status_code == 200
    assert res.json()["status"] == "rejected" and res.json()["reject_reason"] == "已超出范围"
    res = client.post("/admin/returns/9999/approve", headers=agent)
    assert res.status_code == 404 and res.json()["code"] == "return_not_found"


def test_a_shopper_sees_and_ships_only_their_own_returns(client, db, api_headers):
    order, shopper = _delivered(db, api_headers)
    rid = client.post("/storefront/returns", json=_body(order), headers=shopper).json()["id"]
    client.post(f"/admin/returns/{rid}/approve", headers=api_headers("operator"))
    _, stranger = _delivered(db, api_headers)
    assert client.get("/storefront/returns", headers=stranger).json() == []
    res = client.post(
        f"/storefront/returns/{rid}/ship", json={"carrier_code": "sf"}, headers=stranger
    )
    assert res.status_code == 404 and res.json()["code"] == "return_not_found"
    res = client.post(
        f"/storefront/returns/{rid}/ship",
        json={"carrier_code": "sf", "tracking_number": "bad number!"},
        headers=shopper,
    )
    assert res.status_code == 422
