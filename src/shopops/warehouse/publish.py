"""Writing the dimensions: the store snapshot's rows, made left-join-safe against the facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from shopops.warehouse import files
from shopops.warehouse.dimensions import (
    PLACEHOLDERS,
    StoreSnapshot,
    channel_rows,
    date_rows,
    with_placeholders,
)
from shopops.warehouse.merge import fact_files
from shopops.warehouse.schema import to_table

# Which fact columns refer to each dimension's key.
USES: dict[str, list[tuple[str, str]]] = {
    "dim_product": [
        ("fact_order_lines", "sku_id"),
        ("fact_refunds", "sku_id"),
        ("fact_returns", "sku_id"),
        ("fact_reviews", "sku_id"),
        ("fact_stock_daily", "sku_id"),
        ("fact_events", "sku_id"),
    ],
    "dim_customer": [
        ("fact_orders", "customer_id"),
        ("fact_payments", "customer_id"),
        ("fact_refunds", "customer_id"),
        ("fact_returns", "customer_id"),
        ("fact_reviews", "customer_id"),
        ("fact_coupons", "customer_id"),
        ("fact_promotions", "customer_id"),
    ],
    "dim_campaign": [
        ("fact_orders", "campaign_id"),
        ("fact_promotions", "campaign_id"),
        ("fact_coupons", "campaign_id"),
        ("fact_ad_spend", "campaign_id"),
    ],
    "dim_channel": [("fact_ad_spend", "channel"), ("fact_events", "channel")],
}


def used_keys(root: Path, sources: list[tuple[str, str]]) -> set[Any]:
    """Distinct values of the given fact columns (tables or columns not there are skipped)."""
    keys: set[Any] = set()
    con = duckdb.connect()
    try:
        for table, column in sources:
            paths = [str(p) for p in fact_files(root, table)]
            if not paths:
                continue
            names = {
                d[0]
                for d in con.execute(
                    "DESCRIBE SELECT * FROM read_parquet(?)", [paths[:1]]
                ).fetchall()
            }
            if column not in names:
                continue
            rows = con.execute(
                f'SELECT DISTINCT "{column}" FROM read_parquet(?, union_by_name = true)', [paths]
            ).fetchall()
            keys.update(r[0] for r in rows if r[0] is not None)
    finally:
        con.close()
    return keys


def fact_dates(root: Path) -> set[dt.date]:
    """Every partition date of every fact table under the warehouse (the tracking's too)."""
    days: set[dt.date] = set()
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and folder.name.startswith("fact_"):
                days.update(files.partitions(root, folder.name))
    return days


def publish_dimensions(root: Path, snapshot: StoreSnapshot, today: dt.date) -> None:
    """Rewrite every dimension in one commit (the checkpoint stays where it is)."""
    rows: dict[str, list[dict[str, Any]]] = {
        "dim_product": snapshot.products,
        "dim_customer": snapshot.customers,
        "dim_campaign": snapshot.campaigns,
        "dim_channel": channel_rows(),
    }
    commit = files.Commit(root)
    for table, have in rows.items():
        key, fill = PLACEHOLDERS[table]
        complete = with_placeholders(have, key, used_keys(root, USES[table]), fill)
        commit.write(files.dimension_path(root, table), to_table(table, complete))
    registered = {r["registered_date"] for r in snapshot.customers}
    days = date_rows(fact_dates(root) | registered, today)
    commit.write(files.dimension_path(root, "dim_date"), to_table("dim_date", days))
    commit.commit(files.read_state(root))
