"""The metrics' kept SQL (`metrics.compiled`): the same evaluation asked again compiles
nothing new and gives the same numbers, and a load that adds a partition is never missed."""

from __future__ import annotations

import datetime as dt

from tests.analytics.warehouse_fixture import FILE_SCHEMAS, _write, write_warehouse

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import compiled, evaluate
from shopops.analytics.periods import day_period
from shopops.analytics.schema import READ_SCHEMAS

DAY = dt.date(2026, 11, 11)
LATER = dt.date(2026, 12, 25)


def _values(wh: Warehouse, day: dt.date) -> dict[str, tuple]:
    ev = evaluate(wh, None, day_period(day))
    return {c: (r.value, r.previous, r.last_year) for c, r in ev.results.items()}


def test_kept_sql_gives_the_same_numbers_without_compiling(tmp_path):
    write_warehouse(tmp_path)
    compiled.COMPILED.clear()
    first = _values(Warehouse(tmp_path, schemas=READ_SCHEMAS), DAY)
    kept = len(compiled.COMPILED)
    assert kept > 0
    # A fresh connection (as each report bench run opens) reuses every statement.
    again = _values(Warehouse(tmp_path, schemas=READ_SCHEMAS), DAY)
    assert again == first
    assert len(compiled.COMPILED) == kept


def test_a_new_partition_is_read(tmp_path):
    rows = write_warehouse(tmp_path)
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    before = evaluate(wh, ["gmv", "paid_orders"], day_period(LATER))
    assert before["gmv"].value == 0
    paid = next(o for o in rows["fact_orders"] if o["paid_at"] is not None)
    when = dt.datetime(2026, 12, 25, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
    order = {
        **paid,
        "event_id": "o-late",
        "order_id": 999_999,
        "placed_at": when,
        "paid_at": when,
        "paid_date": LATER,
        "date": LATER,
    }
    _write(
        tmp_path / "fact_orders" / f"date={LATER.isoformat()}" / "part-0.parquet",
        FILE_SCHEMAS["fact_orders"],
        [order],
    )
    for reader in (wh, Warehouse(tmp_path, schemas=READ_SCHEMAS)):
        after = evaluate(reader, ["gmv", "paid_orders"], day_period(LATER))
        assert after["gmv"].value == order["paid_amount"]
        assert after["paid_orders"].value == 1


def test_kept_plans_build_nothing_and_give_the_same_numbers(tmp_path, monkeypatch):
    from shopops.analytics.metrics import plans, scoped

    write_warehouse(tmp_path)
    plans.PLANS.clear()
    built: list[tuple[str, bool]] = []
    real = scoped._build_and_run

    def counting(ctx, source_name, *args, **kwargs):
        kept = real(ctx, source_name, *args, **kwargs)
        built.append((source_name, kept is not None))
        return kept

    monkeypatch.setattr(scoped, "_build_and_run", counting)
    first = _values(Warehouse(tmp_path, schemas=READ_SCHEMAS), DAY)
    kept = len(plans.PLANS)
    assert kept == sum(k for _, k in built) > 10
    # Sources over tables without files read in-memory stand-ins: only those are built again.
    unkept = [name for name, k in built if not k]
    built.clear()
    # A fresh connection replays each plan's reads (registering its views), builds the rest.
    assert _values(Warehouse(tmp_path, schemas=READ_SCHEMAS), DAY) == first
    assert [name for name, _ in built] == unkept
    assert len(plans.PLANS) == kept


def test_a_plan_whose_reads_changed_is_built_again(tmp_path):
    from shopops.analytics.metrics import plans

    rows = write_warehouse(tmp_path)
    plans.PLANS.clear()
    wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
    before = _values(wh, DAY)
    # One more paid order on DAY, in a new file of its partition: the dated view's file set
    # (its name) changes, so every plan reading it is built again.
    paid = next(o for o in rows["fact_orders"] if o["paid_date"] == DAY)
    extra = {**paid, "event_id": "o-extra", "order_id": 888_888}
    _write(
        tmp_path / "fact_orders" / f"date={paid['date'].isoformat()}" / "part-1.parquet",
        FILE_SCHEMAS["fact_orders"],
        [extra],
    )
    for reader in (wh, Warehouse(tmp_path, schemas=READ_SCHEMAS)):
        after = _values(reader, DAY)
        assert after["paid_orders"][0] == before["paid_orders"][0] + 1
        assert after["gmv"][0] == before["gmv"][0] + paid["paid_amount"]


def test_analyses_run_from_kept_sql(tmp_path):
    from shopops.analytics.analyses.retention import retention
    from shopops.analytics.analyses.rfm import rfm

    write_warehouse(tmp_path)

    def both():
        wh = Warehouse(tmp_path, schemas=READ_SCHEMAS)
        ret = retention(wh, start=dt.date(2026, 1, 1), end=DAY, grain="month", periods=12)
        scored = rfm(wh, as_of=DAY)
        return [r.to_dict() for r in ret.rows], scored.customers.to_dict("records")

    first = both()
    kept = len(compiled.COMPILED)
    # A fresh connection asks the same statements: nothing is compiled again.
    assert both() == first
    assert len(compiled.COMPILED) == kept
