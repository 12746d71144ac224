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


def test_duckdb_threads_from_the_environment(root, monkeypatch):
    def threads(wh: Warehouse) -> int:
        return int(wh.con.raw_sql("SELECT current_setting('threads')").fetchone()[0])

    monkeypatch.setenv("SHOPOPS_DUCKDB_THREADS", "1")
    assert threads(Warehouse(root)) == 1
    monkeypatch.delenv("SHOPOPS_DUCKDB_THREADS")
    assert threads(Warehouse(root)) >= 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("SHOPOPS_DUCKDB_THREADS", bad)
        with pytest.raises(InvalidInput):
            Warehouse(root)


def test_tables_glob_one_level_for_the_contract_layout(tmp_path):
    from shopops.analytics.engine import _pattern

    fact, dim, odd = tmp_path / "fact", tmp_path / "dim", tmp_path / "odd"
    (fact / "date=2026-11-11").mkdir(parents=True)
    dim.mkdir()
    (dim / "part-0.parquet").write_bytes(b"")
    (odd / "nested" / "deeper").mkdir(parents=True)
    assert _pattern(fact) == "date=*/*.parquet"
    assert _pattern(dim) == "*.parquet"
    assert _pattern(odd) == "**/*.parquet"


def test_small_queries_run_on_one_thread_and_restore(root, monkeypatch):
    def threads(wh: Warehouse) -> int:
        return int(wh.con.raw_sql("SELECT current_setting('threads')").fetchone()[0])

    monkeypatch.delenv("SHOPOPS_DUCKDB_THREADS", raising=False)
    wh = Warehouse(root)
    wh.con.raw_sql("SET threads = 2")
    with wh.small_queries():
        assert threads(wh) == 1
    assert threads(wh) == 2
    # Restored when the block fails too.
    with pytest.raises(RuntimeError), wh.small_queries():
        raise RuntimeError("boom")
    assert threads(wh) == 2
    # Threads the environment chose are left alone.
    monkeypatch.setenv("SHOPOPS_DUCKDB_THREADS", "2")
    chosen = Warehouse(root)
    with chosen.small_queries():
        assert threads(chosen) == 2
