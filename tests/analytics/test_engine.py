"""The engine reads the warehouse's Hive-partitioned Parquet on DuckDB and on Spark alike."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopops.analytics.engine import UnknownTable, Warehouse
from shopops.errors import InvalidInput


def _write(root, days):
    for day, rows in days.items():
        folder = root / "fact_orders" / f"date={day}"
        folder.mkdir(parents=True)
        pq.write_table(
            pa.table({"order_id": [r[0] for r in rows], "total": [r[1] for r in rows]}),
            folder / "part-0.parquet",
        )


@pytest.fixture
def root(tmp_path):
    _write(tmp_path, {"2026-11-10": [(1, 100), (2, 250)], "2026-11-11": [(3, 999)]})
    return tmp_path


def _by_day(wh: Warehouse) -> dict[dt.date, int]:
    t = wh.table("fact_orders")
    df = wh.execute(t.group_by("date").aggregate(gmv=t.total.sum()).order_by("date"))
    return {
        dt.date.fromisoformat(str(d)[:10]): int(g)
        for d, g in zip(df["date"], df["gmv"], strict=True)
    }


def test_duckdb_reads_partitions(root):
    wh = Warehouse(root)
    assert _by_day(wh) == {dt.date(2026, 11, 10): 350, dt.date(2026, 11, 11): 999}


def test_missing_tables(tmp_path):
    schema = pa.schema([("order_id", pa.int64()), ("total", pa.int64())])
    wh = Warehouse(tmp_path, schemas={"fact_orders": schema})
    t = wh.table("fact_orders")
    assert wh.execute(t.total.sum()) in (None, 0) or wh.execute(t.count()) == 0
    with pytest.raises(UnknownTable):
        wh.table("fact_nothing")
    with pytest.raises(InvalidInput):
        Warehouse(tmp_path, backend="oracle")


@pytest.mark.slow
def test_spark_gives_the_same_answer(root):
    pytest.importorskip("pyspark")
    assert _by_day(Warehouse(root, backend="pyspark")) == _by_day(Warehouse(root))
