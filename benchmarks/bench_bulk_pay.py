"""Bulk payment: `payments.pay_orders` against `pay_order` on each attempt, CPU per attempt.

    uv run python benchmarks/bench_bulk_pay.py [--attempts N] [--batch 20] [--database-url URL]

Builds one store (SKUs with stock, customers, N pending orders of 1–3 lines, some redeeming
points), copies it, then pays the same N attempts (a tenth of them declined by the seeded
gateway, a few on orders the batch already paid) once through `pay_order` per attempt (clock
set to the attempt's time, as the simulator does) and once through `pay_orders` in batches,
each batch one unit of work in both runs. Prints CPU ms per attempt (`time.process_time`,
steadier than the wall clock on a shared machine) for each path and their RATIO, then checks
that both stores end equal (every table's rows with gateway ids and coupon codes blanked, and
the outbox events without their sequence and id). Exits non-zero only if they differ.
Without `--database-url` the stores are temporary SQLite files; with a PostgreSQL URL the
benchmark creates `<db>_bench_single` / `<db>_bench_bulk` next to it (dropped first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, make_url, select, text

import shopops.models  # noqa: F401  (every table, and every subscriber the app registers)
from shopops.catalog.models import Brand, Category, ListingStatus, Product, ProductRole, Sku
from shopops.config import Settings
from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.inventory import service as inventory
from shopops.inventory.models import Warehouse
from shopops.members.models import Address, Customer
from shopops.members.service import adjust_points
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.payments.gateway import SimulatedGateway

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
RANDOM_KEYS = {"gateway_txn_id", "code"}
CHANNELS = ("wechat_pay", "alipay", "unionpay")


def build(engine: Engine, n_orders: int) -> None:
    """40 SKUs with plenty of stock, n/2 customers (a third with points), n pending orders."""
    rng = random.Random(11)
    with session_scope(engine) as s:
        set_clock(s, T0)
        cat = Category(name="手机配件", slug="bench-pay")
        brand = Brand(name="安克", slug="bench-pay")
        wh = Warehouse(code="PAY-SH", name="上海仓", region="上海", priority=10)
        s.add_all([cat, brand, wh])
        s.flush()
        skus = []
        for p in range(40):
            product = Product(
                title=f"快充充电器 {p}",
                category_id=cat.id,
                brand_id=brand.id,
                role=ProductRole.HIT,
                status=ListingStatus.LISTED,
            )
            s.add(product)
            s.flush()
            sku = Sku(
                product_id=product.id,
                code=f"PAY-{p}",
                attributes={},
                list_price=rng.choice([1990, 4990, 9900, 19900, 39900]),
                cost=990,
            )
            s.add(sku)
            skus.append(sku)
        s.flush()
        for sku in skus:
            inventory.receive_stock(s, sku_id=sku.id, warehouse_id=wh.id, quantity=100_000)
        n_customers = max(1, n_orders // 2)
        customers = list(
            s.scalars(
                insert(Customer).returning(Customer.id),
                [
                    {"name": f"顾客{i}", "phone": f"139{i:08d}", "region": "上海", "city": "上海"}
                    for i in range(n_customers)
                ],
            )
        )
        s.execute(
            insert(Address),
            [
                {
                    "customer_id": cid,
                    "recipient": "顾客",
                    "phone": "13800000000",
                    "province": "上海",
                    "city": "上海",
                    "district": "浦东新区",
                    "detail": "世纪大道 100 号",
                    "is_default": True,
                }
                for cid in customers
            ],
        )
        for cid in customers[::3]:
            adjust_points(s, customer_id=cid, amount=5000, reason="seed", ref="seed")
        for i in range(n_orders):
            cid = customers[i % n_customers]
            lines = [(rng.choice(skus).id, rng.randint(1, 2)) for _ in range(rng.randint(1, 3))]
            points = 200 if i % n_customers % 3 == 0 and i < n_customers else 0
            set_clock(s, T0 + dt.timedelta(seconds=30 * i))
            orders.place_order(s, customer_id=cid, lines=lines, points=points)


def attempts(engine: Engine, n: int) -> list[payments.PayAttempt]:
    with session_scope(engine, readonly=True) as s:
        ids = list(s.scalars(text("SELECT id FROM sales_order ORDER BY id")))
    rng = random.Random(5)
    out = []
    for i, order_id in enumerate(ids[:n]):
        at = T0 + dt.timedelta(seconds=30 * i + 60)  # a minute after the order was placed
        out.append(payments.PayAttempt(order_id, rng.choice(CHANNELS), at))
    return out


def gateway() -> SimulatedGateway:
    return SimulatedGateway(
        secret=Settings().gateway_secret,
        success_rate={c: 0.9 for c in CHANNELS},
        rng=random.Random(3),
    )


def run_single(engine: Engine, items: Sequence[payments.PayAttempt], batch: int) -> float:
    gw, cpu = gateway(), 0.0
    for k in range(0, len(items), batch):
        with session_scope(engine) as s:
            t = time.process_time()
            for a in items[k : k + batch]:
                set_clock(s, a.at)
                try:
                    with s.begin_nested():
                        payments.pay_order(s, order_id=a.order_id, channel=a.channel, gateway=gw)
                except ShopOpsError:
                    pass
            cpu += time.process_time() - t
    return cpu


def run_bulk(engine: Engine, items: Sequence[payments.PayAttempt], batch: int) -> float:
    gw, cpu, outcomes = gateway(), 0.0, Counter[str]()
    for k in range(0, len(items), batch):
        with session_scope(engine) as s:
            t = time.process_time()
            with s.begin_nested():
                results = payments.pay_orders(s, attempts=items[k : k + batch], gateway=gw)
            cpu += time.process_time() - t
            outcomes.update(r.code if isinstance(r, ShopOpsError) else r.status for r in results)
    print("outcomes:", dict(outcomes))
    return cpu


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<random>" if k in RANDOM_KEYS else _clean(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def dump(engine: Engine) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with session_scope(engine, readonly=True) as s:
        for table in Base.metadata.sorted_tables:
            if table.name != "outbox_event":
                rows = s.execute(select(table)).mappings()
                out[table.name] = sorted(repr(_clean(dict(r))) for r in rows)
        out["events"] = sorted(
            repr(
                (e.name, e.aggregate_type, e.aggregate_id, _clean(e.occurred_at), _clean(e.payload))
            )
            for e in s.scalars(select(OutboxEvent))
        )
    return out


def copies(url: str | None, tmp: Path) -> tuple[Engine, Engine, Engine]:
    """An empty store to build, then (after `build`) the single-path and bulk-path copies."""
    if url is None or url.startswith("sqlite"):
        first = make_engine(f"sqlite:///{tmp / 'single.db'}")
        return first, first, make_engine(f"sqlite:///{tmp / 'bulk.db'}")
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for suffix in ("single", "bulk"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{base.database}_bench_{suffix}"'))
        conn.execute(text(f'CREATE DATABASE "{base.database}_bench_single"'))
    admin.dispose()
    first = make_engine(base.set(database=f"{base.database}_bench_single").render_as_string(False))
    bulk = make_engine(base.set(database=f"{base.database}_bench_bulk").render_as_string(False))
    return first, first, bulk


def copy_store(source: Engine, target: Engine) -> None:
    source.dispose()
    if source.dialect.name == "sqlite":
        src, dst = (
            sqlite3.connect(str(source.url.database)),
            sqlite3.connect(str(target.url.database)),
        )
        src.backup(dst)
        src.close()
        dst.close()
        return
    admin = create_engine(source.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f'CREATE DATABASE "{target.url.database}" TEMPLATE "{source.url.database}"')
        )
    admin.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=600)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        first, single_engine, bulk_engine = copies(args.database_url, Path(tmp))
        Base.metadata.create_all(first)
        t = time.perf_counter()
        build(first, args.attempts)
        copy_store(first, bulk_engine)
        took = time.perf_counter() - t
        print(f"store: {args.attempts} orders on {first.dialect.name} ({took:.1f} s)")
        items = attempts(first, args.attempts)
        # Pay a few orders twice: the second attempt is refused (order_not_payable).
        items = sorted(items + items[:: max(1, len(items) // 20)], key=lambda a: (a.at, a.order_id))
        single = run_single(single_engine, items, args.batch)
        bulk = run_bulk(bulk_engine, items, args.batch)
        n = len(items)
        print(f"attempts: {n}, batch {args.batch}")
        print(f"pay_order  : {1000 * single / n:7.3f} ms CPU per attempt")
        print(f"pay_orders : {1000 * bulk / n:7.3f} ms CPU per attempt")
        print(f"RATIO bulk / single: {bulk / single:.3f} (1/{single / bulk:.1f})")
        same = dump(single_engine) == dump(bulk_engine)
        print("stores equal:", same)
        single_engine.dispose()
        bulk_engine.dispose()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
