"""What the automatic actions read from the warehouse (public `Warehouse.table`): the day's
stock per SKU, units sold and product viewers/buyers over a window, the product dimension."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shopops.analytics.engine import Warehouse
from shopops.ops.actions.rules import StockRow


@dataclass(frozen=True)
class SkuInfo:
    sku_id: int
    sku_code: str
    product_id: int
    title: str
    role: str


def _rows(wh: Warehouse, expr: Any) -> list[dict[str, Any]]:
    return wh.con.to_pyarrow(expr).to_pylist()


def stock_on(wh: Warehouse, day: dt.date) -> dict[int, StockRow]:
    """Each SKU's stock at the end of `day` (the last snapshot on or before it)."""
    t = wh.table("fact_stock_daily")
    last = wh.execute(t.filter(t.date <= day).date.max())
    if last is None:
        return {}
    rows = _rows(wh, t.filter(t.date == last))
    return {
        int(r["sku_id"]): StockRow(
            int(r["sku_id"]),
            int(r["on_hand"] or 0),
            int(r["available"] or 0),
            int(r["unit_cost"] or 0),
            bool(r["listed"]),
        )
        for r in rows
    }


def units_sold(wh: Warehouse, start: dt.date, end: dt.date) -> dict[int, int]:
    """Paid units per SKU over shop days start..end."""
    t = wh.table("fact_order_lines")
    t = t.filter((t.date >= start) & (t.date <= end) & t.paid_at.notnull())
    q = t.group_by("sku_id").aggregate(units=t.quantity.sum())
    return {int(r["sku_id"]): int(r["units"] or 0) for r in _rows(wh, q)}


def product_viewers_buyers(
    wh: Warehouse, start: dt.date, end: dt.date
) -> tuple[dict[int, int], dict[int, int]]:
    """Distinct people who viewed each product, and distinct customers who paid for it."""
    e = wh.table("fact_events")
    e = e.filter((e.date >= start) & (e.date <= end) & (e.event == "product_view"))
    e = e.filter(e.product_id.notnull())
    who = e.person_id.fill_null(e.distinct_id)
    views = e.group_by("product_id").aggregate(n=who.nunique())
    lines = wh.table("fact_order_lines")
    lines = lines.filter((lines.date >= start) & (lines.date <= end) & lines.paid_at.notnull())
    buys = lines.group_by("product_id").aggregate(n=lines.customer_id.nunique())
    return (
        {int(r["product_id"]): int(r["n"]) for r in _rows(wh, views)},
        {int(r["product_id"]): int(r["n"]) for r in _rows(wh, buys)},
    )


def products(wh: Warehouse) -> dict[int, SkuInfo]:
    """The product dimension by SKU."""
    t = wh.table("dim_product")
    rows = _rows(wh, t.select("sku_id", "sku_code", "product_id", "title", "role"))
    return {
        int(r["sku_id"]): SkuInfo(
            int(r["sku_id"]),
            str(r["sku_code"] or r["sku_id"]),
            int(r["product_id"] or 0),
            str(r["title"] or ""),
            str(r["role"] or ""),
        )
        for r in rows
    }


def out_of_stock(wh: Warehouse, day: dt.date, roles: set[str] | None = None) -> list[int]:
    """Listed SKUs with nothing available at the end of `day` (of those roles, if given)."""
    stock = stock_on(wh, day)
    info = products(wh) if roles else {}
    return sorted(
        s
        for s, r in stock.items()
        if r.listed and r.available <= 0 and (not roles or (s in info and info[s].role in roles))
    )


# Registry dimensions of the stock metrics, as dim_product columns.
_PRODUCT_COLUMNS = {
    "role": "role",
    "category": "category",
    "top_category": "top_category",
    "brand": "brand",
    "product_tier": "tier",
}


def stockout_attribution(
    wh: Warehouse, day: dt.date, filters: dict[str, list[str]], window_days: int = 28
) -> dict[str, Any] | None:
    """The SKUs out of stock at the end of `day` (within the rule's filters), each with its
    share of the sales they stand for (units sold over the `window_days` before): the SKU
    attribution the registry, which has no SKU dimension, cannot give."""
    stock = stock_on(wh, day)
    t = wh.table("dim_product")
    for dim, values in filters.items():
        col = _PRODUCT_COLUMNS.get(dim)
        if col is None:
            return None
        t = t.filter(t[col].isin(values))
    rows = _rows(wh, t.select("sku_id", "sku_code"))
    codes = {int(r["sku_id"]): str(r["sku_code"] or r["sku_id"]) for r in rows}
    out = [s for s in sorted(codes) if s in stock and stock[s].listed and stock[s].available <= 0]
    if not out:
        return None
    sold = units_sold(wh, day - dt.timedelta(days=window_days), day - dt.timedelta(days=1))
    total = sum(sold.get(s, 0) for s in out)
    members = [
        {
            "member": codes[s],
            "member_id": s,
            "change": sold.get(s, 0) / window_days,  # daily units the stock-out puts at risk
            "share": sold.get(s, 0) / total if total else 1 / len(out),
        }
        for s in out
    ]
    members.sort(key=lambda m: (-m["share"], m["member_id"]))
    top = members[0]
    return {
        "dimension": "sku",
        "member": top["member"],
        "member_id": top["member_id"],
        "share": top["share"],
        "change": top["change"],
        "members": members,
    }
