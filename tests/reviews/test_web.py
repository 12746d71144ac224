"""The console's reviews page: the queue by status, publish / reject / reply, the ratings
table and chart, roles and both languages."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from shopops.accounts.service import create_console_user
from shopops.api.app import create_app
from shopops.db import session_scope
from shopops.reviews import service as reviews
from tests import factories as f

PASSWORD = "console-pass-1"
LONG = "做工扎实，充电速度很快，出差带着很方便，推荐给大家！"


@pytest.fixture
def shop(sqlite_engine, settings):
    with session_scope(sqlite_engine) as s:
        for role in ("operator", "analyst", "agent"):
            create_console_user(s, username=f"u_{role}", role=role, password=PASSWORD)
        ids = {}
        for name, rating, content in (
            ("clean", 5, LONG),
            ("flagged", 4, "不错，好评返现加微信"),
            ("low", 2, "一般般"),
        ):
            order = f.delivered_order(s)
            review = reviews.submit_review(
                s, customer_id=order.customer_id, order_number=order.number,
                order_line_id=order.lines[0].id, rating=rating, content=content,
                photos=["https://img.example.test/a.jpg"],
            )  # fmt: skip
            ids[name] = review.id
    return create_app(settings, engine=sqlite_engine), ids


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(app, role: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"username": f"u_{role}", "password": PASSWORD, "csrf": _csrf(page.text)},
    )
    assert resp.status_code == 303, resp.text
    return client


def test_queue_ratings_and_chart(shop):
    app, ids = shop
    client = _sign_in(app, "agent")
    page = client.get("/console/reviews")
    assert page.status_code == 200
    html = page.text
    assert f'id="review-{ids["flagged"]}"' in html  # pending by default
    assert f'id="review-{ids["clean"]}"' not in html
    assert "违禁词" in html and "好评返现" in html and "审核队列" in html
    figures = json.loads(re.search(r'id="figures">(.*?)</script>', html, re.S).group(1))
    bars = figures["rating-chart"]["data"]
    assert [t["name"] for t in bars] == ["1★", "2★", "3★", "4★", "5★"]
    assert sum(sum(t["x"]) for t in bars) == 2  # the two published reviews
    every = client.get("/console/reviews", params={"status": ""}).text
    assert all(f'id="review-{i}"' in every for i in ids.values())
    assert client.get("/console/reviews", params={"status": "nope"}).status_code == 422


def test_publish_reject_and_reply(shop):
    app, ids = shop
    client = _sign_in(app, "operator")
    token = _csrf(client.get("/console/reviews").text)
    done = client.post(
        f"/console/reviews/{ids['flagged']}/publish", data={"csrf": token, "status": "pending"}
    )
    assert done.status_code == 303
    again = client.post(f"/console/reviews/{ids['flagged']}/publish", data={"csrf": token})
    assert again.status_code == 409 and "action-error" in again.text
    empty = client.post(f"/console/reviews/{ids['low']}/reject", data={"csrf": token, "text": ""})
    assert empty.status_code == 422 and "1-200" in empty.text
    rejected = client.post(
        f"/console/reviews/{ids['low']}/reject", data={"csrf": token, "text": "与商品无关"}
    )
    assert rejected.status_code == 303
    replied = client.post(
        f"/console/reviews/{ids['clean']}/reply", data={"csrf": token, "text": "感谢您的支持"}
    )
    assert replied.status_code == 303
    html = client.get("/console/reviews", params={"status": "published"}).text
    assert "感谢您的支持" in html and f'id="review-{ids["flagged"]}"' in html
    assert "驳回" in client.get("/console/reviews", params={"status": "rejected"}).text
    no_csrf = client.post(f"/console/reviews/{ids['clean']}/reply", data={"text": "x"})
    assert no_csrf.status_code == 403


def test_roles_and_english(shop):
    app, _ = shop
    assert _sign_in(app, "analyst").get("/console/reviews").status_code == 403
    client = _sign_in(app, "agent")
    token = _csrf(client.get("/console/reviews").text)
    client.post("/console/locale", data={"locale": "en", "csrf": token})
    html = client.get("/console/reviews").text
    assert "Moderation queue" in html and "banned word" in html
    assert 'href="/console/reviews"' in html  # in the navigation
