"""The loader end to end: a store built through the services, loaded, checked against the store
by independent SQL; idempotent, incremental, crash-safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from shopops.warehouse import files, load_warehouse
from shopops.warehouse.loader import LoaderBusy, _lock
from shopops.warehouse.schema import SCHEMAS
from tests.warehouse.store import add_orders, pay, pay_later, store_figures


def _raw(root: Path, query: str) -> object:
    con = duckdb.connect()
    for table in (
        "fact_orders",
        "fact_order_lines",
        "fact_payments",
        "fact_refunds",
        "fact_shipments",
    ):
        if list((root / table).glob("date=*/part-0.parquet")):
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet("
                f"'{root / table}/date=*/part-0.parquet', hive_partitioning = true)"
            )
    value = con.execute(query).fetchone()[0]
    con.close()
    return value


def _sql(root: Path, query: str) -> int:
    return int(_raw(root, query) or 0)  # type: ignore[call-overload]


def warehouse_figures(root: Path) -> dict[str, int]:
    return {
        "orders": _sql(root, "SELECT COUNT(*) FROM fact_orders"),
        "paid_orders": _sql(root, "SELECT COUNT(*) FROM fact_orders WHERE paid_at IS NOT NULL"),
        "paid_gmv": _sql(root, "SELECT SUM(paid_amount) FROM fact_orders"),
        "lines": _sql(root, "SELECT COUNT(*) FROM fact_order_lines"),
        "line_total": _sql(root, "SELECT SUM(total) FROM fact_order_lines"),
        "refunded": _sql(root, "SELECT SUM(amount) FROM fact_refunds"),
        "order_refunded": _sql(root, "SELECT SUM(refunded_amount) FROM fact_orders"),
        "payments": _sql(root, "SELECT COUNT(*) FROM fact_payments"),
        "shipments": _sql(root, "SELECT COUNT(*) FROM fact_shipments"),
    }


def contents(root: Path) -> dict[str, str]:
    """Every table's rows, as a digest per file (row order included)."""
    out = {}
    for path in sorted(root.rglob("*.parquet")):
        if path.name.startswith("_"):
            continue
        rows = pq.read_table(path, partitioning=None).to_pylist()
        out[str(path.relative_to(root))] = hashlib.sha256(
            json.dumps(rows, default=str, sort_keys=True).encode()
        ).hexdigest()
    return out


def test_loads_the_store_and_agrees_with_it(engine: Engine, tmp_path: Path) -> None:
    add_orders(engine, n=2)
    report = load_warehouse(engine, data_dir=tmp_path)
    root = tmp_path / "warehouse"
    assert report.events > 0 and report.seq > 0
    expected = store_figures(engine)
    assert expected["refunded"] > 0 and expected["paid_gmv"] > 0  # the store has something
    assert warehouse_figures(root) == expected
    # A refunded line costs what the line's units cost.
    assert _sql(root, "SELECT SUM(cost) FROM fact_refunds") == _sql(
        root,
        "SELECT SUM(l.unit_cost) FROM fact_refunds r JOIN fact_order_lines l USING (line_id)",
    )
    for table in ("dim_product", "dim_customer", "dim_channel", "dim_date", "dim_campaign"):
        assert (root / table / "part-0.parquet").exists()
    state = json.loads((root / "_state.json").read_text())
    assert state["sources"]["outbox"] == report.seq


def test_loading_twice_or_replaying_changes_nothing(sqlite_engine: Engine, tmp_path: Path) -> None:
    add_orders(sqlite_engine, n=2)
    load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=7)
    root = tmp_path / "warehouse"
    before = contents(root)
    again = load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=7)
    assert again.events == 0 and contents(root) == before
    # Move the checkpoint back to the start: the whole outbox is replayed, nothing doubles.
    state = files.read_state(root)
    state["sources"]["outbox"] = 0
    (root / "_state.json").write_text(json.dumps(state))
    replay = load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=7)
    assert replay.events > 0 and replay.rows == {}
    assert contents(root) == before
    # A rebuild from scratch in other batch sizes gives the same rows.
    fresh = tmp_path / "other"
    load_warehouse(sqlite_engine, data_dir=fresh, batch_size=10_000)
    assert warehouse_figures(fresh / "warehouse") == warehouse_figures(root)


def test_incremental_appends_new_orders_and_updates_paid_ones(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    add_orders(sqlite_engine, n=1)
    late = pay_later(sqlite_engine)
    first = load_warehouse(sqlite_engine, data_dir=tmp_path)
    root = tmp_path / "warehouse"
    row = f"SELECT {{}} FROM fact_orders WHERE order_id = {late}"
    assert _sql(root, row.format("COUNT(*)")) == 1
    assert _sql(root, row.format("COUNT(paid_at)")) == 0
    lines_before = _sql(root, "SELECT COUNT(*) FROM fact_order_lines")

    new_ids = add_orders(sqlite_engine, n=1)
    pay(sqlite_engine, late)
    second = load_warehouse(sqlite_engine, data_dir=tmp_path)
    assert second.events > 0 and second.seq > first.seq
    assert _sql(root, row.format("COUNT(*)")) == 1  # updated in place, not appended
    assert _sql(root, row.format("COUNT(paid_at)")) == 1
    assert _raw(root, row.format("MAX(status)")) == "paid"
    in_new = f"order_id IN ({','.join(map(str, new_ids))})"
    assert _sql(root, f"SELECT COUNT(*) FROM fact_orders WHERE {in_new}") == len(new_ids)
    assert _sql(root, "SELECT COUNT(*) FROM fact_order_lines") > lines_before
    assert warehouse_figures(root) == store_figures(sqlite_engine)
    # Only the events after the first run's checkpoint were read.
    assert second.events == second.seq - first.seq


def test_full_rebuild(sqlite_engine: Engine, tmp_path: Path) -> None:
    add_orders(sqlite_engine, n=1)
    load_warehouse(sqlite_engine, data_dir=tmp_path)
    before = contents(tmp_path / "warehouse")
    report = load_warehouse(sqlite_engine, data_dir=tmp_path, full=True)
    assert report.seq > 0 and report.events == report.seq
    assert contents(tmp_path / "warehouse") == before


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_after", [0, 3])
def test_a_crash_mid_commit_leaves_old_or_new(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_after: int
) -> None:
    add_orders(sqlite_engine, n=1)
    load_warehouse(sqlite_engine, data_dir=tmp_path)
    root = tmp_path / "warehouse"
    old, old_state = contents(root), files.read_state(root)
    add_orders(sqlite_engine, n=2)

    real = files._rename
    calls = {"n": 0}

    def crashing(src: Path, dst: Path) -> None:
        # The journal's own rename is call 1; file renames follow.
        calls["n"] += 1
        if calls["n"] > crash_after + 1:
            raise Crash
        real(src, dst)

    monkeypatch.setattr(files, "_rename", crashing)
    with pytest.raises(Crash):
        load_warehouse(sqlite_engine, data_dir=tmp_path)
    monkeypatch.setattr(files, "_rename", real)
    if crash_after == 0:
        # No journal: readers still see exactly the old warehouse and checkpoint.
        assert contents(root) == old and files.read_state(root) == old_state
    # The next run rolls the interrupted commit forward (or redoes it) and catches up.
    load_warehouse(sqlite_engine, data_dir=tmp_path)
    assert not list(root.rglob("*.tmp")) and not (root / files.JOURNAL).exists()
    assert warehouse_figures(root) == store_figures(sqlite_engine)
    fresh = tmp_path / "clean"
    load_warehouse(sqlite_engine, data_dir=fresh)
    assert contents(root) == contents(fresh / "warehouse")


def test_a_crash_between_batches_keeps_the_checkpoint_with_the_files(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_orders(sqlite_engine, n=2)
    from shopops.warehouse import loader

    real = loader.build
    calls = {"n": 0}

    def crashing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real(*args, **kwargs)

    monkeypatch.setattr(loader, "build", crashing)
    with pytest.raises(Crash):
        load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=10)
    root = tmp_path / "warehouse"
    assert files.read_state(root)["sources"]["outbox"] == 20  # two batches committed
    assert _sql(root, "SELECT COUNT(*) FROM fact_orders") >= 1
    monkeypatch.setattr(loader, "build", real)
    load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=10)
    assert warehouse_figures(root) == store_figures(sqlite_engine)


def test_one_loader_at_a_time(tmp_path: Path, sqlite_engine: Engine) -> None:
    with _lock(tmp_path / "warehouse"), pytest.raises(LoaderBusy):
        load_warehouse(sqlite_engine, data_dir=tmp_path)


def test_stock_daily_ends_at_the_store_levels(tmp_path: Path) -> None:
    from shopops.config import Settings
    from shopops.db import make_engine
    from shopops.sim import SimulationConfig, simulate

    # A few days of the real simulator: orders, payments, shipments and restocking receipts.
    settings = Settings(data_dir=tmp_path / "shop", database_url=None)
    simulate(settings, SimulationConfig(days=4, visitors=40, seed=3, end=dt.date(2026, 9, 30)))
    sqlite_engine = make_engine(settings.resolved_database_url)
    report = load_warehouse(sqlite_engine, data_dir=tmp_path)
    root = tmp_path / "warehouse"
    assert report.rows["fact_stock_daily"] > 0
    con = duckdb.connect()
    last = con.execute(
        "SELECT sku_id, on_hand, reserved FROM read_parquet("
        f"'{root}/fact_stock_daily/*/part-0.parquet',"
        " hive_partitioning = true) QUALIFY date = MAX(date) OVER () ORDER BY sku_id"
    ).fetchall()
    with sqlite_engine.connect() as conn:
        from sqlalchemy import text

        store = conn.execute(
            text(
                "SELECT sku_id, SUM(on_hand), SUM(reserved) FROM stock_level"
                " GROUP BY sku_id ORDER BY sku_id"
            )
        ).fetchall()
    assert [tuple(r) for r in last] == [tuple(r) for r in store]
    # Every SKU sold is in the product dimension; every day of the data in the date one.
    dims = pq.read_table(root / "dim_product" / "part-0.parquet").column("sku_id").to_pylist()
    assert set(r[0] for r in store) <= set(dims)
    assert SCHEMAS["dim_date"].names == pq.read_schema(root / "dim_date" / "part-0.parquet").names
    sqlite_engine.dispose()
