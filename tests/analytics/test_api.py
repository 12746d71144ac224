"""/analytics routes: registry, values, report, decomposition; roles; every bad input a 4xx."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.analytics.reference import expected
from tests.analytics.warehouse_fixture import write_warehouse

from shopops.analytics.api import router
from shopops.analytics.metrics import METRICS
from shopops.api.app import DOMAIN_ROUTERS


@pytest.fixture
def api(client, settings):
    """The client, with the analytics router mounted (until the app registers it) and the
    fixture warehouse in the data directory."""
    if "analytics" not in DOMAIN_ROUTERS:
        client.app.include_router(router)
    rows = write_warehouse(settings.data_dir / "warehouse")
    return client, rows


@pytest.fixture
def analyst(api_headers):
    return api_headers("analyst")


def test_list_metrics(api, analyst):
    client, _ = api
    r = client.get("/analytics/metrics", headers=analyst)
    assert r.status_code == 200
    body = r.json()
    codes = {m["code"] for m in body["metrics"]}
    assert codes == set(METRICS) and len(codes) >= 30
    gmv = next(m for m in body["metrics"] if m["code"] == "gmv")
    assert gmv["name_zh"] == "支付金额" and gmv["unit"] == "fen" and gmv["good_direction"] == "up"
    assert "channel" in gmv["dimensions"]
    csat = next(m for m in body["metrics"] if m["code"] == "csat")
    assert csat["available"] is False
    assert {d["code"] for d in body["dimensions"]} >= {"channel", "province", "carrier"}


def test_values(api, analyst):
    client, rows = api
    r = client.get(
        "/analytics/metrics/values",
        params={
            "codes": "gmv,uv,conversion_rate",
            "period": "2026-11-10..2026-11-11",
            "grain": "day",
            "by": "channel",
        },
        headers=analyst,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["start"] == "2026-11-10" and body["grain"] == "day"
    metrics = {m["code"]: m for m in body["metrics"]}
    lo, hi = dt.date(2026, 11, 10), dt.date(2026, 11, 11)
    assert metrics["gmv"]["value"] == expected("gmv", rows, lo, hi) == 39000
    assert metrics["uv"]["value"] == expected("uv", rows, lo, hi)
    assert [p["value"] for p in metrics["gmv"]["series"]] == [10000, 29000]
    assert metrics["gmv"]["previous"] == expected(
        "gmv", rows, dt.date(2026, 11, 8), dt.date(2026, 11, 9)
    )
    assert {row["key"] for row in metrics["gmv"]["breakdown"]} == {
        "paid_search",
        "direct",
        "organic_search",
        "private_domain",
    }
    only = client.get(
        "/analytics/metrics/values",
        params={
            "codes": "gmv",
            "period": "2026-11-11",
            "filter": "channel:direct",
            "compare": "none",
        },
        headers=analyst,
    ).json()
    assert only["metrics"][0]["value"] == 19500 and only["metrics"][0]["previous"] is None


def test_report(api, analyst):
    client, _ = api
    r = client.get("/analytics/report", params={"date": "2026-11-11"}, headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [g["group"] for g in body["groups"]] == [
        "流量",
        "转化",
        "客单价",
        "复购",
        "售后库存服务",
    ]
    values = {m["code"]: m for g in body["groups"] for m in g["metrics"]}
    assert values["gmv"]["value"] == 29000 and values["gmv"]["previous"] == 10000
    assert values["gmv"]["last_year"] == 14000
    d = body["decomposition"]
    assert sum(d["parts_fen"].values()) + d["residual"] == d["gmv"]["change"] == 19000
    # The default is yesterday by the shop's clock: a day with no data is zeros, not an error.
    assert client.get("/analytics/report", headers=analyst).status_code == 200


def test_decomposition(api, analyst):
    client, _ = api
    r = client.get(
        "/analytics/decomposition",
        params={"period": "2026-11-11", "against": "2025-11-11"},
        headers=analyst,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["gmv"] == {"before": 14000, "after": 29000, "change": 15000}
    assert sum(body["parts_fen"].values()) + body["residual"] == 15000
    assert body["against"]["label"] == "2025-11-11"


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/analytics/metrics/values", {"codes": "gmv,bogus"}, 422, "unknown_metric"),
        ("/analytics/metrics/values", {"codes": "csat"}, 409, "metric_unavailable"),
        ("/analytics/metrics/values", {"codes": "gmv", "by": "zodiac"}, 422, "unknown_dimension"),
        (
            "/analytics/metrics/values",
            {"codes": "stockout_rate", "by": "channel"},
            422,
            "dimension_not_applicable",
        ),
        ("/analytics/metrics/values", {"codes": "gmv", "period": "2026-13"}, 422, "invalid_period"),
        ("/analytics/metrics/values", {"codes": "gmv", "grain": "hour"}, 422, "invalid_grain"),
        (
            "/analytics/metrics/values",
            {"codes": "gmv", "compare": "tomorrow"},
            422,
            "invalid_compare",
        ),
        ("/analytics/metrics/values", {"codes": "gmv", "filter": "channel"}, 422, "invalid_filter"),
        ("/analytics/report", {"date": "2026-11"}, 422, "invalid_period"),
        ("/analytics/report", {"date": "nope"}, 422, "invalid_period"),
        (
            "/analytics/decomposition",
            {"period": "2026-11-11", "against": "x"},
            422,
            "invalid_period",
        ),
    ],
)
def test_bad_input(api, analyst, path, params, status, code):
    client, _ = api
    r = client.get(path, params=params, headers=analyst)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["message"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("analyst", 200), ("operator", 200), ("admin", 200), ("agent", 403), (None, 401)],
)
def test_roles(api, api_headers, role, status):
    client, _ = api
    headers = api_headers(role) if role else {}
    for path in (
        "/analytics/metrics",
        "/analytics/metrics/values?codes=gmv&period=2026-11-11",
        "/analytics/report?date=2026-11-11",
        "/analytics/decomposition?period=2026-11-11",
    ):
        assert client.get(path, headers=headers).status_code == status, path


def test_empty_warehouse(client, settings, analyst):
    if "analytics" not in DOMAIN_ROUTERS:
        client.app.include_router(router)
    r = client.get("/analytics/report", params={"date": "2026-11-11"}, headers=analyst)
    assert r.status_code == 200, r.text
    values = {m["code"]: m["value"] for g in r.json()["groups"] for m in g["metrics"]}
    assert values["gmv"] == 0 and values["conversion_rate"] is None
