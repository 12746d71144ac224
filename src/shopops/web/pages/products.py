"""Products: the products ranked by the orders containing them, the hit-product share and
gross profit per category (metrics), and frequently-bought-together rules (`analyses.basket`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.basket import BasketResult, basket
from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.catalog.errors import ProductNotFound
from shopops.catalog.service import get_product
from shopops.db import session_scope
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.export import table_response
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/products", "Products", Role.OPERATOR, Role.ANALYST)
TOP = 20
MIN_SUPPORT = 0.01
EXPORTS = "^(ranking|rules)_(csv|xlsx)$"


def ranking(result: BasketResult) -> list[tuple[int, int, float]]:
    """(product, orders containing it, share of orders), most ordered first."""
    singles = [(k[0], n) for k, n in result.itemsets.items() if len(k) == 1]
    singles.sort(key=lambda kv: (-kv[1], kv[0]))
    return [(p, n, n / result.orders) for p, n in singles]


def product_titles(request: Request, ids: set[int]) -> dict[int, str]:
    """Titles through the catalog service (the warehouse keeps ids only in the lines)."""
    titles: dict[int, str] = {}
    with session_scope(request.app.state.engine) as s:
        for pid in sorted(ids):
            try:
                titles[pid] = get_product(s, product_id=pid).title
            except ProductNotFound:
                titles[pid] = f"#{pid}"
    return titles


@router.get("/products")
def products(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    item: Annotated[int | None, Query(ge=1)] = None,
    export: Annotated[str | None, Query(pattern=EXPORTS)] = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    wh = open_warehouse(request.app.state.settings.data_dir)
    tz = request.app.state.settings.timezone
    result = basket(wh, start=period.start, end=period.end, min_support=MIN_SUPPORT, max_size=2)
    ranked = ranking(result)
    # With a product chosen (a click on its bar): what is bought together with it.
    chosen = result.bought_together(item, top=TOP) if item else result.rules.head(TOP)
    rules = chosen.to_dict("records")
    ev = evaluate(wh, ["hit_product_share", "gmv"], period, compare=None, timezone=tz)
    by_category = evaluate(
        wh, ["gross_profit"], period, by="top_category", compare=None, timezone=tz
    )
    ids = (
        {p for p, _, _ in ranked[:TOP]}
        | ({item} if item else set())
        | {i for r in rules for i in r["antecedent"]}
    )
    ids |= {i for r in rules for i in r["consequent"]}
    titles = product_titles(request, ids)
    if export:
        table, fmt = export.split("_")
        name = f"products_{table}_{period.start}_{period.end}"
        if table == "ranking":
            header = ["rank", "product_id", "orders", "share_of_orders"]
            rows: list[list[Any]] = [[i + 1, p, n, s] for i, (p, n, s) in enumerate(ranked)]
        else:
            header = ["antecedent", "consequent", "count", "support", "confidence", "lift"]
            rows = [
                [
                    " + ".join(map(str, r["antecedent"])),
                    " + ".join(map(str, r["consequent"])),
                    int(r["count"]),
                    float(r["support"]),
                    float(r["confidence"]),
                    float(r["lift"]),
                ]
                for r in result.rules.to_dict("records")
            ]
        return table_response(name, fmt, header, rows)
    top = ranked[:TOP]
    link = f"/console/products?start={period.start}&end={period.end}"
    cats = by_category["gross_profit"].breakdown
    figures: dict[str, Any] = {
        "ranking": {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [titles[p] for p, _, _ in reversed(top)],
                    "x": [n for _, n, _ in reversed(top)],
                    # Drill-down: what is bought together with that product.
                    "customdata": [f"{link}&item={p}" for p, _, _ in reversed(top)],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 180, "r": 10, "b": 40}, "height": 420},
        },
        "categories": {
            "data": [
                {
                    "type": "bar",
                    "x": [str(c["key"]) for c in cats],
                    "y": [(c["value"] or 0) / 100 for c in cats],
                }
            ],
            "layout": {"margin": {"t": 10, "l": 50, "r": 10, "b": 80}, "height": 300},
        },
    }
    rule_rows = [
        {
            "antecedent": " + ".join(titles[i] for i in r["antecedent"]),
            "consequent": " + ".join(titles[i] for i in r["consequent"]),
            "count": int(r["count"]),
            "support": float(r["support"]),
            "confidence": float(r["confidence"]),
            "lift": float(r["lift"]),
        }
        for r in rules
    ]
    return render(
        request,
        "products.html",
        viewer,
        period=period,
        date_error=date_error,
        orders=result.orders,
        ranked=[(i + 1, titles[p], n, s) for i, (p, n, s) in enumerate(top)],
        hit_share=ev["hit_product_share"].value,
        gmv=ev["gmv"].value,
        rules=rule_rows,
        item=item,
        item_title=titles.get(item) if item else None,
        figures=json.dumps(figures),
        has_data=result.orders > 0,
    )
