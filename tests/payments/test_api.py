"""Payment routes: paying (shopper), the signed callback, back-office lists, rates, refunds."""

from __future__ import annotations

import pytest
from tests import factories as f

from shopops.db import session_scope
from shopops.payments import rules
from shopops.payments import service as payments


@pytest.fixture
def db(sqlite_engine):
    """`with db() as s:` builds committed data in the API's database."""
    return lambda: session_scope(sqlite_engine)


@pytest.fixture
def gateway(client):
    gw = f.gateway()
    client.app.state.payment_gateway = gw
    return gw


def _shopper(db, api_headers, *, paid: bool = False, **kwargs):
    with db() as s:
        order = (f.paid_order if paid else f.placed_order)(s, **kwargs)
        ids = {"order_id": order.id, "number": order.number, "customer_id": order.customer_id}
        ids["line_ids"] = [line.id for line in order.lines]
    return ids, api_headers("storefront", customer_id=ids["customer_id"])


# --- paying ---------------------------------------------------------------------------------


def test_a_shopper_pays_their_order(client, db, api_headers, gateway):
    order, headers = _shopper(db, api_headers)
    url = f"/storefront/orders/{order['number']}/payments"
    res = client.post(url, json={"channel": "wechat_pay"}, headers=headers)
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["status"] == "succeeded" and body["channel"] == "wechat_pay"
    assert body["order_id"] == order["order_id"] and body["amount"] > 0
    again = client.post(url, json={"channel": "alipay"}, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "order_not_payable"


def test_a_failed_attempt_is_a_result_not_an_error(client, db, api_headers):
    client.app.state.payment_gateway = f.gateway(success=0.0)
    order, headers = _shopper(db, api_headers)
    res = client.post(
        f"/storefront/orders/{order['number']}/payments",
        json={"channel": "unionpay"},
        headers=headers,
    )
    assert res.status_code == 201
    assert res.json()["status"] == "failed" and res.json()["failure_code"]


def test_paying_someone_elses_order_or_with_bad_input_is_refused(client, db, api_headers, gateway):
    order, _ = _shopper(db, api_headers)
    _, stranger = _shopper(db, api_headers)
    url = f"/storefront/orders/{order['number']}/payments"
    res = client.post(url, json={"channel": "alipay"}, headers=stranger)
    assert res.status_code == 404 and res.json()["code"] == "order_not_found"
    res = client.post(url, json={"channel": "paypal"}, headers=stranger)
    assert res.status_code == 422 and res.json()["code"] == "invalid_input"
    res = client.post(url, json={"channel": "alipay", "x": 1}, headers=stranger)
    assert res.status_code == 422
    assert client.post(url, json={"channel": "alipay"}).status_code == 401
    res = client.post(url, json={"channel": "alipay"}, headers=api_headers("operator"))
    assert res.status_code == 403


# --- callback -------------------------------------------------------------------------------


def _pending(db, **kwargs):
    with db() as s:
        order = f.placed_order(s, **kwargs)
        attempt = payments.start_payment(s, order_id=order.id, channel="alipay")
        return attempt.gateway_txn_id, attempt.amount, order.id


def _signed(txn: str, status: str, amount: int) -> dict[str, object]:
    fields: dict[str, object] = {
        "gateway_txn_id": txn,
        "status": status,
        "failure_code": "",
        "amount": amount,
    }
    return {**fields, "signature": rules.sign(fields, f.gateway().secret)}


def test_signed_callback_pays_and_a_duplicate_changes_nothing(client, db, gateway):
    txn, amount, _ = _pending(db)
    first = client.post("/payments/callback", json=_signed(txn, "succeeded", amount))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "succeeded"
    dup = client.post("/payments/callback", json=_signed(txn, "failed", amount))
    assert dup.status_code == 200
    assert dup.json() == first.json()


def test_callback_errors(client, db, gateway):
    txn, amount, _ = _pending(db)
    forged = _signed(txn, "failed", amount)
    forged["status"] = "succeeded"
    res = client.post("/payments/callback", json=forged)
    assert res.status_code == 401 and res.json()["code"] == "bad_signature"
    res = client.post("/payments/callback", json=_signed("ali-unknown", "succeeded", amount))
    assert res.status_code == 404 and res.json()["code"] == "payment_not_found"
    res = client.post("/payments/callback", json=_signed(txn, "succeeded", amount + 1))
    assert res.status_code == 409 and res.json()["code"] == "amount_mismatch"
    res = client.post("/payments/callback", json={"gateway_txn_id": txn})
    assert res.status_code == 422


# --- back office ----------------------------------------------------------------------------


def test_payment_list_filters(client, db, api_headers, gateway):
    paid, _ = _shopper(db, api_headers, paid=True)
    _, _, pending_order = _pending(db)
    staff = api_headers("agent")
    res = client.get("/admin/payments", headers=staff)
    assert res.status_code == 200 and len(res.json()) == 2
    res = client.get("/admin/payments", params={"status": "pending"}, headers=staff)
    assert [p["order_id"] for p in res.json()] == [pending_order]
    res = client.get("/admin/payments", params={"order_id": paid["order_id"]}, headers=staff)
    assert [p["channel"] for p in res.json()] == ["wechat_pay"]
    res = client.get("/admin/payments", params={"channel": "unionpay"}, headers=staff)
    assert res.json() == []
    assert client.get("/admin/payments", params={"channel": "x"}, headers=staff).status_code == 422
    shopper = api_headers("storefront", customer_id=paid["customer_id"])
    assert client.get("/admin/payments", headers=shopper).status_code == 403


def test_completion_rate_per_channel(client, db, api_headers):
    client.app.state.payment_gateway = f.gateway(wechat_pay=0.0)
    for channel in ("wechat_pay", "alipay"):
        order, headers = _shopper(db, api_headers)
        client.post(
            f"/storefront/orders/{order['number']}/payments",
            json={"channel": channel},
            headers=headers,
        )
    res = client.get("/admin/payments/completion", headers=api_headers("analyst"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["attempts"], body["successes"], body["rate"]) == (2, 1, 0.5)
    by_channel = {c["channel"]: c for c in body["channels"]}
    assert by_channel["wechat_pay"]["rate"] == 0.0 and by_channel["alipay"]["rate"] == 1.0
    assert by_channel["unionpay"] == {
        "channel": "unionpay",
        "attempts": 0,
        "successes": 0,
        "rate": None,
    }
    past = {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    res = client.get("/admin/payments/completion", params=past, headers=api_headers("operator"))
    assert res.json()["attempts"] == 0 and res.json()["rate"] is None
    backwards = {"date_from": "2020-02-01", "date_to": "2020-01-31"}
    res = client.get("/admin/payments/completion", params=backwards, headers=api_headers("analyst"))
    assert res.status_code == 422
    res = client.get("/admin/payments/completion", headers=api_headers("agent"))
    assert res.status_code == 403


def test_refunds_through_the_back_office(client, db, api_headers, gateway):
    order, _ = _shopper(db, api_headers, paid=True, price=5000, quantity=3)
    url = f"/admin/orders/{order['order_id']}/refunds"
    operator = api_headers("operator")
    body = {"lines": [{"order_line_id": order["line_ids"][0], "quantity": 1}], "reason": "破损"}
    res = client.post(url, json=body, headers=operator)
    assert res.status_code == 201, res.text
    refund = res.json()
    assert refund["amount"] == 5000 and refund["kind"] == "order" and refund["reason"] == "破损"
    assert refund["lines"] == [
        {"order_line_id": order["line_ids"][0], "quantity": 1, "amount": 5000}
    ]
    agent = api_headers("agent")
    res = client.post(url, json={"amount": 10_001}, headers=agent)
    assert res.status_code == 409 and res.json()["code"] == "refund_exceeds_paid"
    res = client.post(
        url, json={"lines": [{"order_line_id": order["line_ids"][0], "quantity": 3}]}, headers=agent
    )
    assert res.status_code == 409 and res.json()["code"] == "refund_exceeds_quantity"
    res = client.post(url, json={"lines": [{"order_line_id": 999, "quantity": 1}]}, headers=agent)
    assert res.status_code == 422 and res.json()["code"] == "unknown_order_line"
    res = client.post(url, json={"lines": [{"order_line_id": 1, "quantity": 0}]}, headers=agent)
    assert res.status_code == 422 and res.json()["code"] == "invalid_input"
    res = client.post(url, json={}, headers=agent)
    assert res.status_code == 409 and res.json()["code"] == "nothing_to_refund"
    res = client.post("/admin/orders/424242/refunds", json={"amount": 1}, headers=agent)
    assert res.status_code == 404 and res.json()["code"] == "order_not_found"
    assert client.post(url, json={"amount": 1}, headers=api_headers("analyst")).status_code == 403

    listed = client.get(url, headers=api_headers("analyst"))
    assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [refund["id"]]
    assert client.get("/admin/orders/424242/refunds", headers=agent).status_code == 404
    shopper = api_headers("storefront", customer_id=order["customer_id"])
    assert client.get(url, headers=shopper).status_code == 403


def test_refunding_an_unpaid_order_is_refused(client, db, api_headers):
    order, _ = _shopper(db, api_headers)
    res = client.post(
        f"/admin/orders/{order['order_id']}/refunds",
        json={"amount": 1},
        headers=api_headers("operator"),
    )
    assert res.status_code == 409 and res.json()["code"] == "order_not_refundable"
