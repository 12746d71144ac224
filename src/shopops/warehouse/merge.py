"""Merging a page's facts into the date partitions they touch (staged, not yet committed).

Append facts: a partition keeps its rows and gains the new ones whose event id it does not hold
yet, so a replayed event adds nothing. Accumulating snapshots: a partition's rows are patched
by id, only by events newer than the row (`facts.apply_patches`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from shopops.warehouse import files
from shopops.warehouse.facts import LineInfo, Lookups, OrderInfo, Patch, apply_patches
from shopops.warehouse.schema import ACCUMULATING, to_table

DATE_PARTITIONING = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")


def fact_files(root: Path, table: str) -> list[Path]:
    """The committed Parquet files of a fact table (never a staged temporary file)."""
    folder = root / table
    return sorted(folder.glob(f"date=*/{files.PART}")) if folder.is_dir() else []


def dataset(root: Path, table: str) -> ds.Dataset | None:
    paths = fact_files(root, table)
    if not paths:
        return None
    return ds.dataset(
        [str(p) for p in paths],
        format="parquet",
        partitioning=DATE_PARTITIONING,
        partition_base_dir=str(root / table),
    )


def read_lookups(root: Path, lookups: Lookups, orders: set[int], lines: set[int]) -> None:
    """Fill `lookups` with what the warehouse already knows of these orders and lines."""
    if orders and (data := dataset(root, "fact_orders")) is not None:
        found = data.to_table(
            columns=["order_id", "customer_id", "units", "sales_channel", "date"],
            filter=pc.field("order_id").isin(sorted(orders)),
        )
        for r in found.to_pylist():
            lookups.orders[r["order_id"]] = OrderInfo(
                r["customer_id"], r["units"], r["date"], r["sales_channel"]
            )
    if lines and (data := dataset(root, "fact_order_lines")) is not None:
        found = data.to_table(
            columns=["line_id", "sku_id", "product_id", "unit_cost", "category_id", "brand_id"],
            filter=pc.field("line_id").isin(sorted(lines)),
        )
        for r in found.to_pylist():
            lookups.lines[r["line_id"]] = LineInfo(
                r["sku_id"], r["product_id"], r["unit_cost"], r["category_id"], r["brand_id"]
            )


def merge_appends(commit: files.Commit, table: str, rows: list[dict[str, Any]]) -> int:
    """Stage each touched partition with its new rows; the number of rows added."""
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["date"]].append(row)
    added = 0
    for day, new in sorted(by_day.items()):
        path = files.partition_path(commit.root, table, day)
        old = files.read(path, table)
        seen = set(old.column("event_id").to_pylist())
        fresh = [r for r in new if r["event_id"] not in seen]
        if not fresh:
            continue
        commit.write(path, pa.concat_tables([old, to_table(table, fresh)]))
        added += len(fresh)
    return added


def merge_patches(commit: files.Commit, table: str, patches: list[Patch]) -> int:
    """Stage each partition whose rows the patches change; the number of rows changed."""
    key = ACCUMULATING[table]
    by_day: dict[dt.date, list[Patch]] = defaultdict(list)
    for patch in patches:
        by_day[patch.date].append(patch)
    changed = 0
    for day, day_patches in sorted(by_day.items()):
        path = files.partition_path(commit.root, table, day)
        rows = {r[key]: r for r in files.read(path, table).to_pylist()}
        moved = apply_patches(rows, day_patches, key)
        if not moved:
            continue
        ordered = [rows[k] for k in sorted(rows)]
        commit.write(path, to_table(table, ordered))
        changed += len(moved)
    return changed
