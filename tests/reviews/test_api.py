"""Review routes: shoppers write and read their own, staff moderate and reply, anyone reads a
product's published reviews and rating."""

from __future__ import annotations

import datetime as dt

import pytest

from shopops.db import session_scope, set_clock, utcnow
from tests import factories as f

LONG = "音质清晰，佩戴舒适，续航也比宣传的更久，物流很快，满意！"
PHOTO = "https://img.example.test/a.jpg"


@pytest.fixture
def db(sqlite_engine):
    return lambda: session_scope(sqlite_engine)


def _delivered(db, api_headers, **kwargs):
    with db() as s:
        set_clock(s, utcnow() - dt.timedelta(days=1))
        order = f.delivered_order(s, **kwargs)
        ids = {
            "number": order.number,
            "customer_id": order.customer_id,
            "line_id": order.lines[0].id,
            "product_id": order.lines[0].product_id,
        }
    return ids, api_headers("storefront", customer_id=ids["customer_id"])


def _body(order, **extra):
    return {"order_number": order["number"], "order_line_id": order["line_id"], **extra}


def test_review_moderate_reply_and_read(client, db, api_headers):
    order, shopper = _delivered(db, api_headers)
    requests = client.get("/reviews/requests", headers=shopper).json()
    assert len(requests) == 1 and requests[0]["reviewed_at"] is None

    res = client.post(
        "/reviews", json=_body(order, rating=4, content=LONG + " 加微信", photos=[PHOTO]),
        headers=shopper,
    )  # fmt: skip
    assert res.status_code == 201, res.text
    review = res.json()
    assert review["status"] == "pending" and review["precheck"]["banned"] == ["加微信"]
    assert client.get("/reviews/requests", headers=shopper).json() == []
    again = client.post("/reviews", json=_body(order, rating=1), headers=shopper)
    assert again.status_code == 409 and again.json()["code"] == "review_exists"

    agent = api_headers("agent")
    queue = client.get("/reviews/queue", headers=agent).json()
    assert [r["id"] for r in queue] == [review["id"]]
    rid = review["id"]
    assert client.post(f"/reviews/{rid}/publish", headers=api_headers("analyst")).status_code == 403
    published = client.post(f"/reviews/{rid}/publish", headers=agent).json()
    assert published["status"] == "published" and published["reward_points"] == 20
    replied = client.post(f"/reviews/{rid}/reply", json={"text": "感谢支持！"}, headers=agent)
    assert replied.json()["reply"] == "感谢支持！"

    public = client.get(f"/storefront/products/{order['product_id']}/reviews").json()
    assert [r["id"] for r in public] == [rid] and public[0]["reply"] == "感谢支持！"
    rating = client.get(f"/storefront/products/{order['product_id']}/rating").json()
    assert rating["count"] == 1 and rating["average"] == 4.0 and rating["good_rate"] == 1.0
    assert rating["distribution"]["4"] == 1

    later = {"content": "用了一个月还不错"}
    up = client.post(f"/reviews/{rid}/follow-up", json=later, headers=shopper)
    assert up.status_code == 200 and up.json()["follow_up"] == "用了一个月还不错"
    mine = client.get("/reviews/mine", headers=shopper).json()
    assert [r["id"] for r in mine] == [rid]

    rejected = client.post(f"/reviews/{rid}/reject", json={"reason": "含联系方式"}, headers=agent)
    assert rejected.json()["status"] == "rejected" and rejected.json()["reward_reversed"] == 20
    assert client.get(f"/storefront/products/{order['product_id']}/reviews").json() == []


def test_anonymous_reviews_name_nobody(client, db, api_headers):
    order, shopper = _delivered(db, api_headers)
    res = client.post("/reviews", json=_body(order, rating=5, anonymous=True), headers=shopper)
    assert res.json()["status"] == "published"
    public = client.get(f"/storefront/products/{order['product_id']}/reviews").json()
    assert public[0]["customer_id"] is None


def test_errors_are_typed(client, db, api_headers):
    order, shopper = _delivered(db, api_headers)
    other = api_headers("storefront", customer_id=_delivered(db, api_headers)[0]["customer_id"])
    res = client.post("/reviews", json=_body(order, rating=5), headers=other)
    assert res.status_code == 404 and res.json()["code"] == "order_not_found"
    res = client.post("/reviews", json=_body(order, rating=6), headers=shopper)
    assert res.status_code == 422
    res = client.post("/reviews", json=_body(order, rating=5, photos=["ftp://x"]), headers=shopper)
    assert res.status_code == 422 and res.json()["code"] == "invalid_input"
    res = client.post("/reviews/999/follow-up", json={"content": "x"}, headers=shopper)
    assert res.status_code == 404 and res.json()["code"] == "review_not_found"
    bad = client.get("/reviews/queue", params={"status": "nope"}, headers=api_headers("agent"))
    assert bad.status_code == 422
