"""Sales per product and per SKU over paid orders: GMV, units, orders, ABC classes; hourly
GMV of a day (for the console's overview).

* A line counts when its order was paid with `start ≤ paid_date ≤ end` (shop dates, the same
  orders as the `gmv` metric); a line's GMV is its `total` (after its discount, fen), so the
  products' GMV sums to the paid orders' line totals (the order's `paid_amount` also holds
  shipping and order-level discounts, which belong to no product).
* ABC (Pareto): products by GMV, largest first (ties by product id); a product is `A` while
  the GMV of the products before it is under 80 % of the total, `B` under 95 %, else `C`, so
  the product that crosses 80 % is still `A`. Products with no GMV are `C`.
* Daily units per SKU over the `days` shop days ending `as_of` (stock cover needs them).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
import pandas as pd

from shopops.analytics.analyses._common import check_period, frame, table
from shopops.analytics.engine import Warehouse

A_SHARE = 80  # percent of GMV
B_SHARE = 95
SALES_COLUMNS = ["product_id", "gmv", "units", "orders", "share", "cum_share", "abc"]


def _paid_lines(wh: Warehouse, start: dt.date, end: dt.date) -> ir.Table:
    o = table(wh, "fact_orders")
    # Placed no later than paid: partitions after `end` cannot hold its payments.
    paid = o.filter((o.date <= end) & o.paid_date.notnull() & o.paid_date.between(start, end))
    paid = paid.select(_oid=paid.order_id, paid_date=paid.paid_date).distinct()
    li = table(wh, "fact_order_lines")
    li = li.filter(li.date <= end)
    j = li.inner_join(paid, li.order_id == paid._oid)
    return j.drop("_oid")


def abc_classes(gmv: list[int]) -> list[str]:
    """The ABC class of each value of `gmv` (sorted largest first), in integer arithmetic."""
    total = sum(gmv)
    out: list[str] = []
    before = 0
    for value in gmv:
        if value <= 0 or total <= 0:
            out.append("C")
        elif before * 100 < A_SHARE * total:
            out.append("A")
        elif before * 100 < B_SHARE * total:
            out.append("B")
        else:
            out.append("C")
        before += value
    return out


def product_sales(wh: Warehouse, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per product sold in the period (SALES_COLUMNS), by GMV then product id."""
    check_period(start, end)
    li = _paid_lines(wh, start, end)
    li = li.filter(li.product_id.notnull())
    agg = li.group_by("product_id").aggregate(
        gmv=li.total.sum(), units=li.quantity.sum(), orders=li.order_id.nunique()
    )
    df = frame(wh, agg)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SALES_COLUMNS})
    for col in ("product_id", "gmv", "units", "orders"):
        df[col] = df[col].fillna(0).astype("int64")
    df = df.sort_values(["gmv", "product_id"], ascending=[False, True]).reset_index(drop=True)
    total = int(df["gmv"].sum())
    df["share"] = df["gmv"] / total if total else 0.0
    df["cum_share"] = df["gmv"].cumsum() / total if total else 0.0
    df["abc"] = abc_classes([int(v) for v in df["gmv"]])
    return df[SALES_COLUMNS]


def abc_summary(sales: pd.DataFrame) -> list[dict[str, int | str]]:
    """Products and GMV per ABC class (A, B, C), from `product_sales`."""
    out: list[dict[str, int | str]] = []
    for cls in ("A", "B", "C"):
        rows = sales[sales["abc"] == cls]
        out.append({"abc": cls, "products": len(rows), "gmv": int(rows["gmv"].sum())})
    return out


def sku_daily_units(wh: Warehouse, *, as_of: dt.date, days: int = 28) -> dict[int, float]:
    """Average units sold per day per SKU over the `days` shop days ending `as_of`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    li = _paid_lines(wh, as_of - dt.timedelta(days=days - 1), as_of)
    li = li.filter(li.sku_id.notnull())
    df = frame(wh, li.group_by("sku_id").aggregate(units=li.quantity.sum()))
    return {int(s): float(u) / days for s, u in zip(df["sku_id"], df["units"], strict=True)}


def hourly_gmv(wh: Warehouse, *, day: dt.date, timezone: str) -> list[int]:
    """GMV (paid amount, fen) of the orders paid on shop day `day`, per shop hour 0–23."""
    return hourly_gmv_days(wh, days=[day], timezone=timezone)[day]


def hourly_gmv_days(
    wh: Warehouse, *, days: list[dt.date], timezone: str
) -> dict[dt.date, list[int]]:
    """`hourly_gmv` of several days in one query."""
    hours = {d: [0] * 24 for d in days}
    if not days:
        return hours
    o = table(wh, "fact_orders")
    paid = o.filter((o.date <= max(days)) & o.paid_date.isin(days) & o.paid_at.notnull())
    df = frame(wh, paid.select("paid_at", "paid_amount"))
    if df.empty:
        return hours
    local = pd.to_datetime(df["paid_at"], utc=True).dt.tz_convert(ZoneInfo(timezone))
    for day, hour, amount in zip(
        local.dt.date, local.dt.hour, df["paid_amount"].fillna(0), strict=True
    ):
        if day in hours:
            hours[day][int(hour)] += int(amount)
    return hours


def sku_products(wh: Warehouse) -> dict[int, tuple[str, int, str]]:
    """Per SKU its code, product id and title, from the product dimension."""
    d = table(wh, "dim_product")
    df = frame(wh, d.select("sku_id", "sku_code", "product_id", "title"))
    return {
        int(s): (str(c or ""), int(p) if p == p else 0, str(t or ""))
        for s, c, p, t in zip(
            df["sku_id"], df["sku_code"], df["product_id"], df["title"], strict=True
        )
    }
