"""Simulation speed: N days at V visitors a day through the real services and tracking.

    uv run python benchmarks/bench_simulate.py [--days 90] [--visitors 5000] [--quick]

Runs the simulator (scenario `flat`: the target traffic every day) on a fresh SQLite store in
a temporary directory, then, in the same process, two baselines on that store: a bare loop of
order placements + payments through the same services, and bare batch ingestion of the same
number of tracking events. Prints visitors/s, orders/s, events/s, the CPU time, and the
ratios against the baselines (the machine is shared, so absolute figures are noisy; ratios
are what to compare). Target (issue 5): 90 days at 5,000 visitors/day in < 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

import shopops.models  # noqa: F401 - handlers, as the simulator runs them
from shopops.config import Settings
from shopops.db import make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.members.models import Customer
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.payments.gateway import SimulatedGateway
from shopops.sim import SimulationConfig, simulate
from shopops.sim.engine import load_state
from shopops.tracking import service as tracking

END = dt.date(2026, 9, 30)  # no campaign in the window: steady traffic


def bare_orders(settings: Settings, n: int) -> float:
    """Orders/s of place_order + pay_order alone, one unit of work each (the store's path)."""
    state = load_state(settings.data_dir)
    assert state is not None
    engine = make_engine(settings.resolved_database_url)
    rng = random.Random(1)
    gateway = SimulatedGateway(secret="b", success_rate={"wechat_pay": 1.0}, rng=rng)
    with session_scope(engine, readonly=True) as s:
        customers = list(s.scalars(select(Customer.id).limit(500)))
    skus = state.shop.sku_ids
    at = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(12), dt.UTC)
    started = time.perf_counter()
    done = 0
    for i in range(n):
        with session_scope(engine) as s:
            set_clock(s, at + dt.timedelta(seconds=i))
            try:
                order = orders.place_order(
                    s, customer_id=rng.choice(customers), lines=[(rng.choice(skus), 1)]
                )
            except ShopOpsError:  # a sold-out SKU: try another
                continue
            payments.pay_order(s, order_id=order.id, channel="wechat_pay", gateway=gateway)
            done += 1
    seconds = time.perf_counter() - started
    engine.dispose()
    return done / seconds


def bare_ingest(tmp: Path, n: int, *, bulk: bool) -> float:
    """Events/s of the ingestion alone: `ingest_many` of a day's worth at once (the
    simulator's path) when `bulk`, else MAX_BATCH-event `ingest_batch` calls (the API's)."""
    store = tracking.open_store(tmp / ("bulk" if bulk else "bare"), timezone="Asia/Shanghai")
    base = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    events = [
        {
            "event": "product_view",
            "distinct_id": f"a-{i // 4}",
            "timestamp": (base + dt.timedelta(seconds=i)).isoformat(),
            "properties": {"url": "https://shop.example.com/products/1", "sku_id": 1 + i % 300},
        }
        for i in range(n)
    ]
    received = base + dt.timedelta(days=2)
    started = time.perf_counter()
    if bulk:
        for k in range(0, n, 15_000):  # about one simulated day at 5,000 visitors
            tracking.ingest_many(store, events=events[k : k + 15_000], received_at=received)
    else:
        for k in range(0, n, tracking.MAX_BATCH):
            batch = events[k : k + tracking.MAX_BATCH]
            tracking.ingest_batch(store, events=batch, received_at=received)
    tracking.compact_events(store)
    seconds = time.perf_counter() - started
    tracking.close_store(store)
    return n / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--visitors", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="5 days at 1,000 visitors")
    args = parser.parse_args()
    days, visitors = (5, 1000) if args.quick else (args.days, args.visitors)
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "shop", database_url=None)
        config = SimulationConfig(days=days, visitors=visitors, seed=618, end=END, scenario="flat")
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = simulate(settings, config)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        sim_orders = result.orders / seconds
        sim_events = result.events / seconds
        base_orders = bare_orders(settings, min(300, max(50, result.orders // 10)))
        sample = min(200_000, max(10_000, result.events // 5))
        base_events = bare_ingest(Path(tmp), sample, bulk=False)
        bulk_events = bare_ingest(Path(tmp), sample, bulk=True)
    print(f"simulate: {days} days × {visitors:,} visitors/day (scenario flat)")
    print(
        f"  {result.visitors:,} visitors, {result.events:,} events, {result.orders:,} orders "
        f"({result.paid_orders:,} paid), {result.customers:,} customers, {result.returns} returns"
    )
    print(f"  wall {seconds:.1f}s, CPU {cpu:.1f}s  (target < 60 s for 90 days × 5,000)")
    print(f"  visitors/s {result.visitors / seconds:,.0f}")
    print(f"  orders/s   {sim_orders:,.1f}  (each: place, pay, ship, 4 scans, complete or return)")
    print(f"  events/s   {sim_events:,.0f}")
    print(f"baseline place_order + pay_order loop: {base_orders:,.1f} orders/s")
    print(f"  ratio simulator orders/s ÷ bare place+pay: {sim_orders / base_orders:.2f}")
    print(
        f"baseline bare ingestion, {tracking.MAX_BATCH}-event batches: {base_events:,.0f} events/s"
    )
    print(f"  ratio simulator events/s ÷ bare batches: {sim_events / base_events:.3f}")
    print(f"baseline bare ingest_many, 15,000 a call: {bulk_events:,.0f} events/s")
    print(f"  ratio simulator events/s ÷ bare ingest_many: {sim_events / bulk_events:.3f}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
