"""Many units of work at once, on both backends: stock is never oversold, multi-SKU orders in
any line order never deadlock, and duplicate commits/releases change stock once."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select
from tests import factories as f

from shopops.db import session_scope
from shopops.inventory import service
from shopops.inventory.errors import OutOfStock
from shopops.inventory.models import Reservation, StockMovement

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
THREADS = 40


def run_together(n: int, work: Callable[[int], str]) -> Counter[str]:
    """Run `work(i)` in n threads released at the same moment; count the outcomes.

    Anything but the outcomes `work` returns (a deadlock, a lock timeout…) fails the test.
    """
    barrier = threading.Barrier(n)

    def go(i: int) -> str:
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(go, i) for i in range(n)]
        return Counter(fut.result(timeout=60) for fut in futures)


def reserve_in_own_uow(engine: Engine, ref_id: str, items: list[tuple[int, int]]) -> str:
    try:
        with session_scope(engine) as s:
            service.reserve(s, ref_type="order", ref_id=ref_id, items=items, expires_at=LATER)
    except OutOfStock:
        return "out_of_stock"
    return "reserved"


def setup(engine: Engine, stock: dict[str, list[tuple[int, int]]]) -> dict[str, int]:
    """SKUs named in `stock`, each with (priority, units) per warehouse; returns name → sku id."""
    with session_scope(engine) as s:
        whs: dict[int, object] = {}
        prod = f.product(s, skus=len(stock), stock=0)
        ids = {}
        for (name, rows), sku in zip(stock.items(), prod.skus, strict=True):
            for priority, units in rows:
                wh = whs.get(priority) or f.warehouse(s, priority=priority)
                whs[priority] = wh
                f.receive(s, sku, wh, units)
            ids[name] = sku.id
        return ids


def totals(engine: Engine) -> dict[int, tuple[int, int]]:
    with session_scope(engine, readonly=True) as s:
        f.assert_stock_ledger(s)
        out: dict[int, list[int]] = {}
        for (sku_id, _), (on_hand, reserved) in f.stock_levels(s).items():
            acc = out.setdefault(sku_id, [0, 0])
            acc[0] += on_hand
            acc[1] += reserved
        return {k: (v[0], v[1]) for k, v in out.items()}


def test_forty_shoppers_ten_units(engine):
    sku = setup(engine, {"hot": [(10, 10)]})["hot"]
    outcomes = run_together(THREADS, lambda i: reserve_in_own_uow(engine, f"o{i}", [(sku, 1)]))
    assert outcomes == {"reserved": 10, "out_of_stock": THREADS - 10}
    assert totals(engine) == {sku: (10, 10)}


def test_a_sku_split_over_warehouses_is_never_oversold(engine):
    sku = setup(engine, {"hot": [(10, 3), (20, 4), (30, 5)]})["hot"]
    outcomes = run_together(THREADS, lambda i: reserve_in_own_uow(engine, f"o{i}", [(sku, 1)]))
    assert outcomes == {"reserved": 12, "out_of_stock": THREADS - 12}
    assert totals(engine) == {sku: (12, 12)}


def test_multi_sku_orders_in_any_line_order_do_not_deadlock(engine):
    ids = setup(
        engine,
        {"a": [(10, 6), (20, 6)], "b": [(10, 9)], "c": [(20, 5), (10, 4)]},
    )
    rng = random.Random(7)
    orders = []
    for _ in range(THREADS):
        lines = [(ids[n], rng.randint(1, 2)) for n in rng.sample(sorted(ids), k=rng.randint(2, 3))]
        rng.shuffle(lines)
        orders.append(lines)
    outcomes = run_together(THREADS, lambda i: reserve_in_own_uow(engine, f"o{i}", orders[i]))
    assert set(outcomes) <= {"reserved", "out_of_stock"}
    assert outcomes["reserved"] > 0
    final = totals(engine)
    with session_scope(engine, readonly=True) as s:
        held = dict(
            s.execute(
                select(Reservation.sku_id, func.sum(Reservation.quantity)).group_by(
                    Reservation.sku_id
                )
            ).all()
        )
        won = {r for (r,) in s.execute(select(Reservation.ref_id).distinct())}
    assert len(won) == outcomes["reserved"]
    # Each winning order holds exactly its lines; no SKU is reserved beyond its stock.
    expected: Counter[int] = Counter()
    for i, lines in enumerate(orders):
        if f"o{i}" in won:
            for sku_id, q in lines:
                expected[sku_id] += q
    assert {k: int(v) for k, v in held.items()} == dict(expected)
    for sku_id, (on_hand, reserved) in final.items():
        assert reserved == expected[sku_id] <= on_hand


def test_duplicate_commits_and_releases_change_stock_once(engine):
    ids = setup(engine, {"a": [(10, 5), (20, 5)]})
    sku = ids["a"]
    with session_scope(engine) as s:
        service.reserve(s, ref_type="order", ref_id="X", items=[(sku, 7)], expires_at=LATER)

    def settle(i: int) -> str:
        with session_scope(engine) as s:
            if i % 2:
                service.release_reservations(s, ref_type="order", ref_id="X")
            else:
                service.commit_reservations(s, ref_type="order", ref_id="X")
        return "done"

    assert run_together(10, settle) == {"done": 10}
    with session_scope(engine, readonly=True) as s:
        reasons = Counter(
            s.scalars(select(StockMovement.reason).where(StockMovement.ref_id == "X")).all()
        )
        statuses = set(s.scalars(select(Reservation.status)).all())
    # Two reservation rows (5 + 2), settled exactly once, one way or the other.
    assert len(statuses) == 1
    outcome = statuses.pop()
    assert outcome in {"committed", "released"}
    settled = "sale" if outcome == "committed" else "release"
    assert reasons == {"reservation": 2, settled: 2}
    expected_on_hand = 3 if outcome == "committed" else 10
    assert totals(engine) == {sku: (expected_on_hand, 0)}
