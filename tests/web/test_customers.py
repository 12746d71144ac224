"""The Customers page: roles, RFM group counts, lifecycle, retention and CLV against the
analyses called directly, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

from shopops.analytics.analyses.clv import clv
from shopops.analytics.analyses.retention import retention
from shopops.analytics.analyses.rfm import rfm
from shopops.analytics.engine import open_warehouse
from shopops.web.i18n import Formatter
from tests.web.conftest import END, sign_in

START = dt.date(2026, 11, 15)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_customers_is_for_operators_and_analysts(app) -> None:  # type: ignore[no-untyped-def]
    for role in ("operator", "analyst", "admin"):
        assert sign_in(app, role).get("/console/customers", params=RANGE).status_code == 200
    assert sign_in(app, "agent").get("/console/customers").status_code == 403


def test_rfm_groups_and_lifecycle_match_the_analysis(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    scored = rfm(open_warehouse(settings.data_dir), as_of=END, start=START)
    by_code = {s["segment"]: s for s in scored.segments()}
    assert len(scored.customers) > 0
    client = sign_in(app, "operator")
    rows = _csv(client.get("/console/customers", params={**RANGE, "export": "segments_csv"}).text)
    assert {r["segment"]: int(r["customers"]) for r in rows} == {
        k: v["customers"] for k, v in by_code.items()
    }
    assert sum(int(r["customers"]) for r in rows) == len(scored.customers)
    page = client.get("/console/customers", params=RANGE).text
    fmt = Formatter("zh_CN")
    assert f"({fmt.number(len(scored.customers))} 客户)" in page
    # The lifecycle counts, recounted from the scored customers.
    new = int((scored.customers["lifecycle"] == "new").sum())
    assert f'data-stage="new"><td>新客</td><td>{fmt.number(new)}</td>' in page


def test_retention_and_clv_exports_match_the_analyses(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    wh = open_warehouse(settings.data_dir)
    cohorts = retention(wh, start=START, end=END, grain="week", periods=8)
    client = sign_in(app, "analyst")
    rows = _csv(client.get("/console/customers", params={**RANGE, "export": "retention_csv"}).text)
    assert [int(r["size"]) for r in rows] == [c.size for c in cohorts.rows]
    assert sum(c.size for c in cohorts.rows) > 0
    values = clv(wh, as_of=END, start=START)
    rows = _csv(client.get("/console/customers", params={**RANGE, "export": "clv_csv"}).text)
    assert (
        sum(int(float(r["historical_value"])) for r in rows) == values.totals()["historical_value"]
    )


def test_customers_empty_range_says_so(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/customers", params={"start": "2020-01-01", "end": "2020-01-07"}
    )
    assert resp.status_code == 200 and 'class="card empty"' in resp.text


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_every_analytics_page_sends_valid_json_figures(app) -> None:  # type: ignore[no-untyped-def]
    import json
    import re

    client = sign_in(app, "admin")
    for name in ("traffic", "conversion", "customers", "products"):
        html = client.get(f"/console/{name}", params=RANGE).text
        found = re.search(r'id="figures">(.*?)</script>', html, re.S)
        assert found, name
        # The browser's JSON.parse refuses NaN/Infinity (Python's json accepts them).
        assert json.loads(found.group(1), parse_constant=_no_constant), name


def test_drill_down_lists_match_the_analyses(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    wh = open_warehouse(settings.data_dir)
    scored = rfm(wh, as_of=END, start=START)
    client = sign_in(app, "operator")
    page = client.get("/console/customers", params=RANGE).text
    for seg in scored.segments():
        if not seg["customers"]:
            continue
        assert f"segment={seg['segment']}" in page  # the treemap and the table link to it
        params = {**RANGE, "segment": seg["segment"], "export": "csv"}
        rows = _csv(client.get("/console/customers/list", params=params).text)
        ids = set(scored.customers[scored.customers["segment"] == seg["segment"]]["customer_id"])
        assert {int(r["customer_id"]) for r in rows} == {int(i) for i in ids}
    # A retention cell's list is as long as the cell's count.
    cohorts = retention(wh, start=START, end=END, grain="week", periods=8)
    row = cohorts.rows[0]
    for k, n in enumerate(row.retained):
        if n is None:
            continue
        params = {**RANGE, "cohort": row.cohort.isoformat(), "k": k, "export": "csv"}
        assert len(_csv(client.get("/console/customers/list", params=params).text)) == n
    # The CLV bands partition the customers: every band's list adds up to all of them.
    values = clv(wh, as_of=END, start=START)
    column = "predicted_value" if values.bgnbd is not None else "historical_value"
    col = values.customers[column].dropna()
    width = int(col.max() // 20) + 1
    total = 0
    for i in range(20):
        params = {**RANGE, "clv_lo": i * width, "clv_hi": (i + 1) * width, "export": "csv"}
        band = _csv(client.get("/console/customers/list", params=params).text)
        assert len(band) == int(((col >= i * width) & (col < (i + 1) * width)).sum())
        total += len(band)
    assert total == len(col) > 0


def test_customer_list_pages_and_bad_input(app) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "analyst")
    everyone = _csv(client.get("/console/customers/list", params={**RANGE, "export": "csv"}).text)
    html = client.get("/console/customers/list", params={**RANGE, "page": 1}).text
    assert html.count("<tr data-customer=") == min(50, len(everyone))
    if len(everyone) > 50:
        second = client.get("/console/customers/list", params={**RANGE, "page": 2}).text
        assert second.count("<tr data-customer=") == min(50, len(everyone) - 50)
        assert 'rel="prev"' in second
    for bad in ({"segment": "nobody"}, {"k": -1}, {"cohort": "2026-02-30"}, {"page": 0}):
        resp = client.get("/console/customers/list", params={**RANGE, **bad})
        assert resp.status_code == 422, bad
    assert sign_in(app, "agent").get("/console/customers/list").status_code == 403
