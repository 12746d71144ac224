"""The large-store generator (benchmarks/gen_store.py) writes the loader's exact contract, is
deterministic, and its facts hang together (counted by hand over a small store)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from shopops.analytics.schema import FILE_SCHEMAS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import gen_store

ARGS = ["--events", "3000", "--orders", "400", "--customers", "120", "--skus", "40"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("store")
    gen_store.generate(gen_store.parse_args(["--out", str(out), *ARGS, "--days", "40"]))
    return out


def _read(root: Path, table: str):
    return ds.dataset(root / table, format="parquet", partitioning="hive").to_table()


def test_every_table_has_the_contract_schema(store: Path) -> None:
    for table, schema in FILE_SCHEMAS.items():
        files = sorted((store / table).rglob("*.parquet"))
        assert files, table
        for f in files[:3]:
            assert pq.read_schema(f).remove_metadata().equals(schema), (table, f)
        if table.startswith("fact_"):
            assert all(f.parent.name.startswith("date=") for f in files), table


def test_sizes_and_partitions(store: Path) -> None:
    assert _read(store, "fact_events").num_rows == 3000
    assert _read(store, "fact_orders").num_rows == 400
    assert pq.read_table(store / "dim_customer" / "part-0.parquet").num_rows == 120
    days = {p.name for p in (store / "fact_stock_daily").iterdir()}
    assert len(days) == 40 and "date=2025-06-01" in days and "date=2025-07-10" in days


def test_facts_hang_together(store: Path) -> None:
    orders = _read(store, "fact_orders").to_pandas()
    lines = _read(store, "fact_order_lines").to_pandas()
    paid = orders[orders.paid_at.notna()]
    # Lines belong to paid orders, and an order's items subtotal is its lines' subtotal.
    assert set(lines.order_id) == set(paid.order_id)
    by_order = lines.groupby("order_id").subtotal.sum()
    assert (paid.set_index("order_id").items_subtotal == by_order).all()
    # The line partition is the payment's shop date (UTC+8).
    local = (lines.paid_at + pd_offset()).dt.date
    assert (local == lines.date.astype(str).map(dt.date.fromisoformat)).all()
    # Every pay event carries a paid storefront order, at its payment instant.
    events = _read(store, "fact_events").to_pandas()
    pays = events[events.event == "pay"].merge(paid, on="order_id", suffixes=("", "_o"))
    assert len(pays) == (events.event == "pay").sum() > 0
    assert (pays.ts_at == pays.paid_at).all() and (pays.sales_channel == "storefront").all()
    refunds = _read(store, "fact_refunds").to_pandas()
    total = refunds.groupby("order_id").amount.sum()
    assert (orders.set_index("order_id").refunded_amount.loc[total.index] == total).all()


def test_deterministic(store: Path, tmp_path: Path) -> None:
    gen_store.generate(gen_store.parse_args(["--out", str(tmp_path), *ARGS, "--days", "40"]))
    for table in ("fact_events", "fact_orders", "dim_product"):
        assert _read(tmp_path, table).equals(_read(store, table)), table


def pd_offset():
    import pandas as pd

    return pd.Timedelta(hours=8)
