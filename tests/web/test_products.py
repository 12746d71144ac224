"""The Products page: roles, the ranking and rules against analyses.basket, the hit-product
share against evaluate, the drill-down to one product, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from shopops.analytics.analyses.basket import basket
from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.db import session_scope
from shopops.inventory.service import stock_health
from shopops.web.i18n import Formatter
from tests.web.conftest import END, sign_in

START = dt.date(2026, 11, 15)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_products_is_for_operators_and_analysts(app) -> None:  # type: ignore[no-untyped-def]
    for role in ("operator", "analyst", "admin"):
        assert sign_in(app, role).get("/console/products", params=RANGE).status_code == 200
    assert sign_in(app, "agent").get("/console/products").status_code == 403


def _paid_lines(settings) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The order lines of orders paid in the range, read straight from the Parquet files."""
    root = Path(settings.data_dir) / "warehouse"
    orders = pq.read_table(root / "fact_orders").to_pandas()
    lines = pq.read_table(root / "fact_order_lines").to_pandas()
    paid = orders[orders["paid_date"].notna()]
    paid = paid[(paid["paid_date"] >= START) & (paid["paid_date"] <= END)]
    return lines[lines["order_id"].isin(set(paid["order_id"]))]


def test_ranking_by_gmv_units_and_abc_match_plain_pandas(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    lines = _paid_lines(settings)
    by_product = lines.groupby("product_id").agg(
        gmv=("total", "sum"), units=("quantity", "sum"), orders=("order_id", "nunique")
    )
    client = sign_in(app, "analyst")
    rows = _csv(client.get("/console/products", params={**RANGE, "export": "ranking_csv"}).text)
    got = {int(r["product_id"]): (int(r["gmv"]), int(r["units"]), int(r["orders"])) for r in rows}
    assert got == {
        int(p): (int(g.gmv), int(g.units), int(g.orders)) for p, g in by_product.iterrows()
    }
    gmv = [int(r["gmv"]) for r in rows]
    assert gmv == sorted(gmv, reverse=True) and len(gmv) > 3
    # ABC by hand: A while the GMV before the product is under 80 %, B under 95 %.
    total, before, expect = sum(gmv), 0, []
    for g in gmv:
        expect.append("A" if before < 0.8 * total else "B" if before < 0.95 * total else "C")
        before += g
    assert [r["abc"] for r in rows] == expect
    abc = _csv(client.get("/console/products", params={**RANGE, "export": "abc_csv"}).text)
    assert {r["abc"]: int(r["products"]) for r in abc} == {
        c: expect.count(c) for c in ("A", "B", "C")
    }
    # The orders column is the same count as the basket analysis's single itemsets.
    wh = open_warehouse(settings.data_dir)
    result = basket(wh, start=START, end=END, min_support=0.01, max_size=2)
    singles = Counter({k[0]: n for k, n in result.itemsets.items() if len(k) == 1})
    assert {p: o for p, (_, _, o) in got.items() if p in singles} == dict(singles)
    ev = evaluate(wh, ["hit_product_share"], Period(START, END), compare=None)
    share = ev["hit_product_share"].value
    assert share and 0 < share <= 1
    page = client.get("/console/products", params=RANGE).text
    assert Formatter("zh_CN").percent(share) in page
    units = client.get("/console/products", params={**RANGE, "rank_by": "units"}).text
    top_units = by_product.sort_values(["units"], ascending=False).iloc[0]
    assert Formatter("zh_CN").number(int(top_units.units)) in units.split('id="ranking-table"')[1]


def test_stock_health_cover_days(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, engine = shop
    root = Path(settings.data_dir) / "warehouse"
    orders = pq.read_table(root / "fact_orders").to_pandas()
    lines = pq.read_table(root / "fact_order_lines").to_pandas()
    first = END - dt.timedelta(days=27)
    paid = orders[orders["paid_date"].notna()]
    paid = paid[(paid["paid_date"] >= first) & (paid["paid_date"] <= END)]
    sold = lines[lines["order_id"].isin(set(paid["order_id"]))].groupby("sku_id")["quantity"].sum()
    with session_scope(engine) as s:
        health = {h.sku_id: h for h in stock_health(s, limit=10_000).items}
    client = sign_in(app, "operator")
    rows = _csv(client.get("/console/products", params={**RANGE, "export": "stock_csv"}).text)
    assert len(rows) == len(health) > 0
    checked = 0
    for r in rows:
        sku = int(r["sku_id"])
        assert int(r["available"]) == health[sku].available
        assert (r["below_safety"] == "True") == health[sku].below_safety
        units = int(sold.get(sku, 0))
        if units:
            assert float(r["cover_days"]) == pytest.approx(health[sku].available / (units / 28))
            checked += 1
        else:
            assert r["cover_days"] == ""
    assert checked > 0


def test_rules_export_and_product_drill_down(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    result = basket(
        open_warehouse(settings.data_dir), start=START, end=END, min_support=0.01, max_size=2
    )
    client = sign_in(app, "operator")
    rows = _csv(client.get("/console/products", params={**RANGE, "export": "rules_csv"}).text)
    assert len(rows) == len(result.rules)
    assert len(result.rules) > 0
    first = result.rules.iloc[0]
    assert int(rows[0]["count"]) == int(first["count"])
    item = first["antecedent"][0]
    page = client.get("/console/products", params={**RANGE, "item": item})
    assert page.status_code == 200
    n = len(result.bought_together(item, top=20))
    assert n > 0 and page.text.count("<tr><td>", page.text.index('id="rules"')) == n


def test_products_empty_range_says_so(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/products", params={"start": "2020-01-01", "end": "2020-01-07"}
    )
    assert resp.status_code == 200 and 'class="card empty"' in resp.text


def test_products_and_customer_list_in_english(app, shop) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from shopops.accounts.service import create_console_user
    from tests.web.conftest import csrf_of

    _, engine = shop
    with session_scope(engine) as s:
        create_console_user(s, username="d_en", role="analyst", password="en-pass-1", locale="en")
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/console/login").text)
    client.post("/console/login", data={"username": "d_en", "password": "en-pass-1", "csrf": token})
    page = client.get("/console/products", params=RANGE).text
    assert "Cover days" in page and "ABC classes" in page and "可售天数" not in page
    listing = client.get("/console/customers/list", params=RANGE).text
    assert "Days since last order" in listing and "customers" in listing
    zh = sign_in(app, "operator").get("/console/products", params=RANGE).text
    assert "可售天数" in zh and "ABC 分类" in zh
