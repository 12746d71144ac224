"""Products: the sales ranking by GMV, units or orders (`analyses.product_sales`), ABC classes,
the hit-product share and gross profit per category (metrics), frequently-bought-together rules
(`analyses.basket`) and stock health: cover days = available ÷ average daily units sold over
the 28 days ending the range's last day, and the SKUs below their safety stock (live stock
from the inventory service). A product bar opens that product's view (`item=`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shopops.accounts.models import Role
from shopops.analytics.analyses.basket import basket
from shopops.analytics.analyses.product_sales import (
    abc_summary,
    product_sales,
    sku_daily_units,
    sku_products,
)
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.catalog.errors import ProductNotFound
from shopops.catalog.service import get_product
from shopops.db import session_scope
from shopops.inventory.service import stock_health
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.cache import cached
from shopops.web.export import table_response
from shopops.web.pages.overview import _period as parse_period
from shopops.web.render import register_page, render

ROLES = register_page("/console/products", "Products", Role.OPERATOR, Role.ANALYST)
TOP = 20
MIN_SUPPORT = 0.01
COVER_DAYS = 28
STOCK_PAGE = 500
EXPORTS = "^(ranking|rules|abc|stock)_(csv|xlsx)$"
RANK_BY = ("gmv", "units", "orders")


def _compute(wh: Warehouse, period: Period, tz: str) -> dict[str, Any]:
    return {
        "sales": product_sales(wh, start=period.start, end=period.end),
        "basket": basket(
            wh, start=period.start, end=period.end, min_support=MIN_SUPPORT, max_size=2
        ),
        "ev": evaluate(wh, ["hit_product_share", "gmv"], period, compare=None, timezone=tz),
        "by_category": evaluate(
            wh, ["gross_profit"], period, by="top_category", compare=None, timezone=tz
        ),
        "daily_units": sku_daily_units(wh, as_of=period.end, days=COVER_DAYS),
        "skus": sku_products(wh),
    }


def product_titles(
    request: Request, ids: set[int], skus: dict[int, tuple[str, int, str]]
) -> dict[int, str]:
    """Titles from the warehouse's product dimension (cached with the page; one catalog read
    each costs ~3 ms, a ranking needs dozens), the catalog service for products not loaded."""
    known = {pid: title for _, pid, title in skus.values() if title}
    titles = {pid: known[pid] for pid in ids if pid in known}
    missing = ids - set(titles)
    if not missing:
        return titles
    with session_scope(request.app.state.engine) as s:
        for pid in sorted(missing):
            try:
                titles[pid] = get_product(s, product_id=pid).title
            except ProductNotFound:
                titles[pid] = f"#{pid}"
    return titles


def stock_rows(request: Request, daily: dict[int, float]) -> list[dict[str, Any]]:
    """Every SKU's live stock with its cover days (None when it sold nothing in 28 days)."""
    rows: list[dict[str, Any]] = []
    offset = 0
    with session_scope(request.app.state.engine) as s:
        while True:
            page = stock_health(s, limit=STOCK_PAGE, offset=offset)
            for h in page.items:
                avg = daily.get(h.sku_id, 0.0)
                rows.append(
                    {
                        "sku_id": h.sku_id,
                        "available": h.available,
                        "safety_stock": h.safety_stock,
                        "below_safety": h.below_safety,
                        "daily_units": avg,
                        "cover_days": h.available / avg if avg > 0 else None,
                    }
                )
            offset += STOCK_PAGE
            if offset >= page.total:
                break
    return rows


@router.get("/products")
def products(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    start: Annotated[str | None, Query(max_length=10)] = None,
    end: Annotated[str | None, Query(max_length=10)] = None,
    item: Annotated[int | None, Query(ge=1)] = None,
    rank_by: Annotated[str, Query(pattern="^(gmv|units|orders)$")] = "gmv",
    export: Annotated[str | None, Query(pattern=EXPORTS)] = None,
) -> Response:
    period, date_error = parse_period(request, start, end)
    tz = request.app.state.settings.timezone
    data = cached(
        request, ("products", period.start, period.end), lambda wh: _compute(wh, period, tz)
    )
    sales = data["sales"]
    result = data["basket"]
    ranked = sales.sort_values([rank_by, "product_id"], ascending=[False, True])
    sales_rows = ranked.to_dict("records")
    top = sales_rows[:TOP]
    # With a product chosen (a click on its bar): its sales and what is bought with it.
    chosen = result.bought_together(item, top=TOP) if item else result.rules.head(TOP)
    rules = chosen.to_dict("records")
    stock = stock_rows(request, data["daily_units"])
    skus = data["skus"]
    low = [r for r in stock if r["below_safety"]]
    covered = sorted(
        (r for r in stock if r["cover_days"] is not None), key=lambda r: r["cover_days"]
    )
    ids = {int(r["product_id"]) for r in top} | ({item} if item else set())
    ids |= {i for r in rules for i in (*r["antecedent"], *r["consequent"])}
    if export:
        table, fmt = export.split("_")
        name = f"products_{table}_{period.start}_{period.end}"
        if table == "ranking":
            titles = product_titles(request, {int(r["product_id"]) for r in sales_rows}, skus)
            header = ["rank", "product_id", "title", "gmv", "units", "orders", "share", "abc"]
            rows: list[list[Any]] = [
                [
                    i + 1,
                    int(r["product_id"]),
                    titles[int(r["product_id"])],
                    int(r["gmv"]),
                    int(r["units"]),
                    int(r["orders"]),
                    float(r["share"]),
                    r["abc"],
                ]
                for i, r in enumerate(sales_rows)
            ]
        elif table == "abc":
            header = ["abc", "products", "gmv"]
            rows = [[c["abc"], c["products"], c["gmv"]] for c in abc_summary(sales)]
        elif table == "stock":
            header = ["sku_id", "sku_code", "product_id", "title", "available"]
            header += ["safety_stock", "below_safety", "daily_units_28d", "cover_days"]
            rows = [
                [
                    r["sku_id"],
                    *skus.get(r["sku_id"], ("", 0, "")),
                    r["available"],
                    r["safety_stock"],
                    r["below_safety"],
                    r["daily_units"],
                    r["cover_days"],
                ]
                for r in stock
            ]
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
    titles = product_titles(request, ids, skus)
    link = f"/console/products?start={period.start}&end={period.end}&rank_by={rank_by}"
    cats = data["by_category"]["gross_profit"].breakdown
    scale = 100 if rank_by == "gmv" else 1  # GMV in yuan on the chart
    figures: dict[str, Any] = {
        "ranking": {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [titles[int(r["product_id"])] for r in reversed(top)],
                    "x": [int(r[rank_by]) / scale for r in reversed(top)],
                    "text": [r["abc"] for r in reversed(top)],
                    # Drill-down: that product's view (its sales and what is bought with it).
                    "customdata": [f"{link}&item={int(r['product_id'])}" for r in reversed(top)],
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
    item_sales = next((r for r in sales_rows if int(r["product_id"]) == item), None)
    ev = data["ev"]
    return render(
        request,
        "products.html",
        viewer,
        period=period,
        date_error=date_error,
        rank_by=rank_by,
        orders=result.orders,
        ranked=[(i + 1, titles[int(r["product_id"])], r) for i, r in enumerate(top)],
        products_sold=len(sales_rows),
        abc=abc_summary(sales),
        hit_share=ev["hit_product_share"].value,
        gmv=ev["gmv"].value,
        rules=rule_rows,
        item=item,
        item_title=titles.get(item) if item else None,
        item_sales=item_sales,
        item_rank=next(
            (i + 1 for i, r in enumerate(sales_rows) if int(r["product_id"]) == item), None
        ),
        low_stock=low[:TOP],
        low_total=len(low),
        short_cover=covered[:TOP],
        stock_total=len(stock),
        skus=skus,
        cover_window=COVER_DAYS,
        figures=json.dumps(figures),
        has_data=result.orders > 0 or not sales.empty,
    )
