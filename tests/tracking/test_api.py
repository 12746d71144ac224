"""Tracking routes: public batch and single ingestion, identify, the script."""

from __future__ import annotations

import json
import uuid

from tests import factories as f

from shopops.db import session_scope
from shopops.tracking import service
from shopops.tracking.api import MAX_BODY_BYTES


def _event(i: int) -> dict:
    return {
        "event": "page_view",
        "distinct_id": "anon-1",
        "uuid": str(uuid.UUID(int=i + 1)),
        "properties": {"url": f"https://s.example.com/p/{i}"},
    }


def _stored(client) -> list[dict]:
    return service.read_events(client.app.state.settings.data_dir).to_pylist()


def test_batch_keeps_good_events_and_says_why_bad_ones_were_refused(client):
    body = {
        "batch": [
            _event(0),
            {"event": "x"},
            _event(1),
            {"event": "page_view", "distinct_id": "a", "uuid": "nope"},
        ]
    }
    headers = {
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile",
        "X-Shopops-Province": "%E4%B8%8A%E6%B5%B7",
        "X-Shopops-Project": "web",
    }
    r = client.post("/t/batch", content=json.dumps(body), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    rejected = r.json()["rejected"]
    assert [x["index"] for x in rejected] == [1, 3]
    assert rejected[0]["reasons"][0].startswith("distinct_id")
    assert rejected[1]["reasons"] == ["uuid: a UUID string is required"]
    rows = _stored(client)
    assert {(x["device"], x["os"], x["province"], x["project"]) for x in rows} == {
        ("mobile", "ios", "上海", "web")
    }


def test_whole_body_errors(client):
    r = client.post("/t/batch", content=b"{oops")
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = client.post("/t/batch", json={"events": []})
    assert r.status_code == 422 and r.json()["code"] == "invalid_batch"
    r = client.post("/t/batch", json=[_event(i) for i in range(1001)])
    assert r.status_code == 413 and r.json()["code"] == "batch_too_large"
    r = client.post("/t/batch", content=b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert r.status_code == 413 and r.json()["details"] == {"max": MAX_BODY_BYTES}
    assert _stored(client) == []


def test_single_event(client):
    r = client.post("/t/events", json=_event(5))
    assert r.status_code == 200 and r.json() == {"accepted": 1, "rejected": []}
    r = client.post(
        "/t/events",
        json={"event": "page_view", "distinct_id": "a", "properties": {"order_id": "x"}},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_event"
    assert r.json()["details"]["reasons"] == [
        "properties.order_id: a positive integer id is required"
    ]
    r = client.post("/t/events", json=[_event(6)])
    assert r.status_code == 422 and r.json()["code"] == "invalid_event"
    assert [x["event_id"] for x in _stored(client)] == [_event(5)["uuid"]]


def test_identify_needs_the_shoppers_own_key(client, api_headers, sqlite_engine):
    r = client.post("/t/identify", json={"distinct_id": "anon-1"})
    assert r.status_code == 401
    r = client.post("/t/identify", json={"distinct_id": "anon-1"}, headers=api_headers("operator"))
    assert r.status_code == 403
    with session_scope(sqlite_engine) as s:
        customer_id = f.customer(s).id
    headers = api_headers("storefront", customer_id=customer_id)
    r = client.post("/t/identify", json={"distinct_id": ""}, headers=headers)
    assert r.status_code == 422
    r = client.post("/t/identify", json={"distinct_id": "anon-1"}, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"distinct_id": "anon-1", "person_id": str(customer_id)}
    assert [(x["event"], x["customer_id"]) for x in _stored(client)] == [("$identify", customer_id)]


def test_the_tracking_script_is_served(client):
    r = client.get("/t/shopops.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "sendBeacon" in r.text and "shopops" in r.text
