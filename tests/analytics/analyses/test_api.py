"""`/analytics/…` routes: analyst only, JSON results, 4xx {code, message, details} on bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.analytics.analyses.builders import at, customer, ev, line, order

from shopops.analytics.analyses.api import router


@pytest.fixture
def api(sqlite_engine, settings) -> Iterator[TestClient]:
    from shopops.api.app import create_app

    app = create_app(settings, engine=sqlite_engine)
    if not any(getattr(r, "path", "") == "/analytics/funnel" for r in app.routes):
        app.include_router(router)  # until the lead wires it into the app
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def shop(make_wh):
    t = at("2026-11-10", 2)
    return make_wh(
        fresh=False,  # under the settings' data dir, where the app looks
        fact_events=[
            ev("1", "product_view", t, channel="paid_search"),
            ev("1", "add_to_cart", t.replace(minute=5), channel="paid_search"),
            ev("1", "pay", t.replace(minute=9), channel="paid_search", order_id=1),
            ev("2", "product_view", t),
        ],
        fact_orders=[order(1, 1, t, 5_000), order(2, 2, at("2026-11-12"), 7_000)],
        fact_order_lines=[line(1, 1, t), line(1, 2, t), line(2, 1, at("2026-11-12"))],
        dim_customer=[customer(1, "2026-11-01"), customer(2, "2026-11-01", referred_by=1)],
    )


Q = "start=2026-11-01&end=2026-11-30"


def test_routes_answer_an_analyst(api, api_headers, shop):
    h = api_headers("analyst")
    r = api.get(
        f"/analytics/funnel?steps=product_view&steps=add_to_cart&steps=pay&{Q}&breakdown=channel",
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["count"] for s in body["steps"]] == [2, 1, 1]
    assert {g["value"] for g in body["groups"]} == {"paid_search", "direct"}
    assert body["time_to_convert"]["median_seconds"] == 540
    for path in ("paths", "retention", "basket", "channel-roi"):
        r = api.get(f"/analytics/{path}?{Q}", headers=h)
        assert r.status_code == 200, (path, r.text)
    rfm = api.get("/analytics/rfm?as_of=2026-11-30", headers=h).json()
    assert rfm["total_customers"] == 2 and rfm["stages"]["acca"]["refer"] == 1
    clv = api.get("/analytics/clv?as_of=2026-11-30", headers=h).json()
    assert clv["totals"]["historical_value"] == 12_000
    basket = api.get(f"/analytics/basket?{Q}&min_support=0.5&item=1", headers=h).json()
    assert basket["orders"] == 2 and [r["consequent"] for r in basket["rules"]] == [[2]]
    roi = api.get(f"/analytics/channel-roi?{Q}", headers=h).json()
    assert roi["totals"]["gmv"] == 12_000


def test_bad_input_is_a_4xx_with_a_code(api, api_headers, shop):
    h = api_headers("analyst")
    cases = {
        f"/analytics/funnel?steps=product_view&steps=teleport&{Q}": "unknown_event",
        f"/analytics/funnel?steps=product_view&steps=pay&{Q}&breakdown=shoe": "unknown_dimension",
        f"/analytics/funnel?steps=product_view&steps=pay:colour=red&{Q}": "bad_parameter",
        "/analytics/funnel?steps=product_view&steps=pay&start=2026-12-01&end=2026-11-01": (
            "bad_period"
        ),
        f"/analytics/retention?{Q}&grain=decade": "bad_parameter",
        f"/analytics/basket?{Q}&level=colour": "bad_parameter",
    }
    for url, code in cases.items():
        r = api.get(url, headers=h)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["code"] == code and r.json()["message"], url
    r = api.get(f"/analytics/funnel?steps=product_view&steps=pay&{Q}&window_hours=0", headers=h)
    assert r.status_code == 422 and "code" in r.json()


def test_empty_warehouse_gives_empty_results(api, api_headers, make_wh):
    h = api_headers("analyst")
    r = api.get(f"/analytics/funnel?steps=product_view&steps=pay&{Q}", headers=h)
    assert r.status_code == 200 and [s["count"] for s in r.json()["steps"]] == [0, 0]
    assert api.get(f"/analytics/retention?{Q}", headers=h).json()["rows"] == []
    assert api.get("/analytics/rfm?as_of=2026-11-30", headers=h).json()["total_customers"] == 0
    # The loader writes its first files while the app runs: the next request sees them.
    make_wh(fresh=False, fact_orders=[order(1, 1, at("2026-11-12"), 7_000)])
    assert api.get("/analytics/rfm?as_of=2026-11-30", headers=h).json()["total_customers"] == 1


def test_roles(api, api_headers, shop):
    assert api.get(f"/analytics/rfm?{Q}").status_code == 401
    r = api.get("/analytics/rfm", headers=api_headers("agent"))
    assert r.status_code == 403
    assert api.get("/analytics/rfm", headers=api_headers("operator")).status_code == 200
