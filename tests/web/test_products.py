"""The Products page: roles, the ranking and rules against analyses.basket, the hit-product
share against evaluate, the drill-down to one product, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter

from shopops.analytics.analyses.basket import basket
from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
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


def test_ranking_and_hit_share_match_the_analytics(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    wh = open_warehouse(settings.data_dir)
    result = basket(wh, start=START, end=END, min_support=0.01, max_size=2)
    singles = Counter({k[0]: n for k, n in result.itemsets.items() if len(k) == 1})
    client = sign_in(app, "analyst")
    rows = _csv(client.get("/console/products", params={**RANGE, "export": "ranking_csv"}).text)
    assert {int(r["product_id"]): int(r["orders"]) for r in rows} == dict(singles)
    counts = [int(r["orders"]) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] == singles.most_common(1)[0][1]
    ev = evaluate(wh, ["hit_product_share"], Period(START, END), compare=None)
    share = ev["hit_product_share"].value
    assert share and 0 < share <= 1
    page = client.get("/console/products", params=RANGE).text
    assert Formatter("zh_CN").percent(share) in page


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
