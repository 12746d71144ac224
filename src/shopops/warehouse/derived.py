"""Derived tables: small summaries of whole fact tables that daily reads would otherwise
recompute from all history — each person's first-seen date (from `fact_sessions`) and each
customer's first paid date (from `fact_orders`), with the largest lag between a row's partition
date and the date the report places it on (so a reader can bound how far back to scan; for
shipments, `delivery_lag` holds only that lag: delivered UTC date − shipped date; for
completed orders, `completion_lag`: completed UTC date − placed date).

Each summary is one Parquet file under `_derived/` (not a star-schema table: no reader globs
it) carrying, in its schema metadata, the *signature* of the fact files it was computed from
(every file's name, size and modification time). A reader uses a summary only while the
signature still matches the files on disk; after any change it falls back to scanning the
facts, so a summary can be late but never wrong. `refresh_derived` runs after every load
(`shopops etl`, the incremental loader) and at the end of `benchmarks/gen_store.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DERIVED = "_derived"
SIGNATURE_KEY = b"shopops.source_signature"
INFO_KEY = b"shopops.info"


@dataclass(frozen=True)
class Derived:
    name: str
    source: str
    # The first `date` per `key`; no rows when `key` is None (a lag-only summary).
    key: str | None
    date: str
    # The date (SQL, UTC) a report places a row on; its largest lag after the partition
    # `date` is recorded as `max_lag_days`.
    lag_of: str
    # A summary of its own shape (SQL over `{rel}`, the facts) instead of a first date per key.
    select: str | None = None


FIRST_SEEN = Derived("first_seen", "fact_sessions", "person_id", "date", "date")
FIRST_PAID = Derived("first_paid", "fact_orders", "customer_id", "paid_date", "paid_date")
DELIVERY_LAG = Derived("delivery_lag", "fact_shipments", None, "date", "CAST(delivered_at AS DATE)")
# Completion lag only (completed UTC date − placed date): a day's completed orders are then
# read from the partitions placed within it, not every `fact_orders` file.
COMPLETION_LAG = Derived(
    "completion_lag", "fact_orders", None, "date", "CAST(completed_at AS DATE)"
)
# Each customer's paid days (orders and paid amount per day), sorted, with what RFM and
# retention ask as of any day, carried on each row: the customer's first paid date, the paid
# days before and after, running orders and amount, and per calendar month whether the row is
# the customer's first paid day in it and the month's running orders. As of a day, each
# customer's last row on or before it (`next_date` after it or none) holds their RFM figures,
# and a month's first rows count its retained customers — filters, no grouping of history.
PAID_DAYS = Derived(
    "paid_days",
    "fact_orders",
    None,
    "paid_date",
    "paid_date",
    select=(
        "SELECT customer_id, paid_date, orders, amount, "
        "min(paid_date) OVER (PARTITION BY customer_id) AS first_date, "
        "lag(paid_date) OVER c AS prev_date, lead(paid_date) OVER c AS next_date, "
        "CAST(sum(orders) OVER c AS BIGINT) AS cum_orders, "
        "CAST(sum(amount) OVER c AS BIGINT) AS cum_amount, "
        "row_number() OVER m = 1 AS month_first, "
        "CAST(sum(orders) OVER m AS BIGINT) AS month_orders "
        "FROM (SELECT customer_id, paid_date, count(*) AS orders, "
        "CAST(sum(paid_amount) AS BIGINT) AS amount FROM {rel} "
        "WHERE customer_id IS NOT NULL AND paid_date IS NOT NULL "
        "GROUP BY customer_id, paid_date) "
        "WINDOW c AS (PARTITION BY customer_id ORDER BY paid_date "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), "
        "m AS (PARTITION BY customer_id, date_trunc('month', paid_date) ORDER BY paid_date "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        "ORDER BY customer_id, paid_date"
    ),
)
# The orders with any review, whenever written: the review rate asks it of every completed
# order, and a distinct over every review partition cost more than the rest of that query.
REVIEWED_ORDERS = Derived(
    "reviewed_orders",
    "fact_reviews",
    None,
    "date",
    "date",
    select=("SELECT DISTINCT order_id FROM {rel} WHERE order_id IS NOT NULL ORDER BY order_id"),
)
# Each refunded line's refunds (amount, cost): gross profit nets them from a day's lines, and
# grouping every refund partition per report cost more than reading the lines themselves.
LINE_REFUNDS = Derived(
    "line_refunds",
    "fact_refunds",
    None,
    "date",
    "date",
    select=(
        "SELECT line_id, CAST(sum(amount) AS BIGINT) AS amount, "
        "CAST(sum(cost) AS BIGINT) AS cost FROM {rel} "
        "WHERE line_id IS NOT NULL GROUP BY line_id ORDER BY line_id"
    ),
)
ALL = (
    FIRST_SEEN,
    FIRST_PAID,
    DELIVERY_LAG,
    COMPLETION_LAG,
    PAID_DAYS,
    REVIEWED_ORDERS,
    LINE_REFUNDS,
)


def path_of(root: Path, d: Derived) -> Path:
    return Path(root) / DERIVED / f"{d.name}.parquet"


def signature(root: Path, table: str) -> str | None:
    """A digest of every Parquet file of `table` (relative name, size, mtime in ns); None when
    the table has no files."""
    folder = Path(root) / table
    if not folder.is_dir():
        return None
    entries: list[str] = []
    top = str(folder)
    # Paths under `top` are `top/<rel>`: slicing gives `os.path.relpath`'s text at a fraction
    # of its cost (a report takes five signatures of ~550 files each).
    cut = len(os.path.join(top, ""))
    stack = [top]
    while stack:
        current = stack.pop()
        with os.scandir(current) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.name.endswith(".parquet"):
                    st = e.stat(follow_symlinks=False)
                    entries.append(f"{e.path[cut:]}\0{st.st_size}\0{st.st_mtime_ns}")
    if not entries:
        return None
    entries.sort()
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def stamp(facts: str | None, d: Derived) -> str | None:
    """The signature a current summary carries: its facts' files' and its own definition's (a
    summary written by another definition is stale too, and rebuilt)."""
    if facts is None:
        return None
    text = "\0".join([facts, d.key or "", d.date, d.lag_of, d.select or ""])
    return hashlib.sha256(text.encode()).hexdigest()


def _compute(root: Path, d: Derived) -> tuple[pa.Table, dict[str, Any]]:
    import duckdb

    glob = str(Path(root) / d.source / "**" / "*.parquet")
    con = duckdb.connect()
    try:
        con.sql("SET TimeZone = 'UTC'")
        con.sql("SET enable_progress_bar = false")
        rel = f"read_parquet('{glob}', hive_partitioning = true)"
        if d.select:
            table = con.sql(d.select.format(rel=rel)).fetch_arrow_table()
        elif d.key:
            data = con.sql(
                f"SELECT {d.key} AS key, min({d.date}) AS first_date FROM {rel} "
                f"WHERE {d.key} IS NOT NULL AND {d.date} IS NOT NULL "
                f"GROUP BY {d.key} ORDER BY {d.key}"
            ).fetch_arrow_table()
            # The key keeps its fact's type (joins compare like with like); plain dates.
            table = pa.table(
                {
                    "key": data.column("key"),
                    "first_date": data.column("first_date").cast(pa.date32()),
                }
            )
        else:
            table = pa.table(
                {"key": pa.array([], pa.string()), "first_date": pa.array([], pa.date32())}
            )
        lag = con.sql(
            f"SELECT min(datediff('day', date, {d.lag_of})), "
            f"max(datediff('day', date, {d.lag_of})) FROM {rel} WHERE {d.lag_of} IS NOT NULL"
        ).fetchone()
    finally:
        con.close()
    low, high = (lag or (None, None))[:2]
    # A row placed after its report date (negative lag) voids the readers' assumptions: they
    # check `min_lag_days` ≥ 0; the scan bound never narrows below the partition date.
    info = {
        "min_lag_days": 0 if low is None else int(low),
        "max_lag_days": 0 if high is None else max(0, int(high)),
    }
    return table, info


def refresh_derived(root: Path) -> list[str]:
    """Recompute every summary whose facts changed since it was written; the names rewritten."""
    root = Path(root)
    done: list[str] = []
    for d in ALL:
        # The signature is taken before reading: files changed meanwhile make it stale, never wrong.
        sig = signature(root, d.source)
        target = path_of(root, d)
        if sig is None:
            target.unlink(missing_ok=True)
            continue
        sig = stamp(sig, d) or ""
        if read_signature(target) == sig:
            continue
        table, info = _compute(root, d)
        meta = {SIGNATURE_KEY: sig.encode(), INFO_KEY: json.dumps(info).encode()}
        table = table.replace_schema_metadata(meta)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
        done.append(d.name)
    return done


def read_signature(path: Path) -> str | None:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return None
    sig = meta.get(SIGNATURE_KEY)
    return sig.decode() if sig else None


def current(root: Path, d: Derived) -> tuple[Path, dict[str, Any]] | None:
    """The summary's file and info (`max_lag_days`) when it matches the facts now on disk."""
    path = path_of(root, d)
    try:
        meta = pq.read_schema(path).metadata or {}
    except (FileNotFoundError, OSError, pa.ArrowInvalid):
        return None
    sig = meta.get(SIGNATURE_KEY)
    if not sig or sig.decode() != stamp(signature(root, d.source), d):
        return None
    return path, json.loads(meta.get(INFO_KEY, b"{}"))
