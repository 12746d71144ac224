"""Fulfilment one by one vs in bulk: ship, carrier scans and completion, CPU per item and ratio.

    uv run python benchmarks/bench_bulk_fulfil.py [--orders N] [--batches 1,20]
                                                  [--database-url postgresql://…/scratch]

The simulator ships paid orders in warehouse waves, sends each parcel's scans in two carrier
feeds (picked up + in transit, then out for delivery + delivered) and completes each order
when the buyer confirms. This builds one store of N paid orders, copies it, and runs the same
items through the single calls (`ship_order`, `record_tracking_event`, `complete_order`, the
clock set to each item's time) in one copy and through `ship_orders`, `record_scans` and
`complete_orders` in batches in the others, one unit of work per batch either way, in the
same process. It checks that the stores end equal (shipments, scans, orders, cashback,
points, customers, outbox events; tracking numbers are random and left out) and prints this
process's CPU ms per item (`time.process_time`: a PostgreSQL server's own CPU is not in it)
and the bulk ÷ single ratio per step. Targets: ≤ 0.2 at a batch of 20, ≤ 1.0 at a batch of 1.
SQLite temporary files by default; `--database-url` names a scratch PostgreSQL database next
to which `_base`, `_single` and `_bulkN` databases are (re)created. Exits non-zero only when
the stores differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, select, text

import shopops.models  # noqa: F401  (every table, and every subscriber the app registers)
from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.fulfillment import service as ful
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.promotions import service as promotions

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
WARM_UP = 20
CARRIERS = ("sf", "zto", "yto", "jd", "sto", "yunda")
PROVINCES = ("广东省", "浙江省", "上海市", "北京市", "四川省", "新疆维吾尔自治区")
# The test factories build the small catalogue (products, stock, customers) this store needs.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import factories as f  # noqa: E402

TABLES = ("shipment", "tracking_event", "sales_order", "cashback_credit", "points_entry",
          "customer")  # fmt: skip


def _admin(url: Any) -> Engine:
    return create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )


def _build(engine: Engine, n: int) -> list[int]:
    """Carriers, a warehouse with stock, n paid orders (a few referred buyers); order ids."""
    Base.metadata.create_all(engine)
    rng = random.Random(618)
    with session_scope(engine) as s:
        set_clock(s, T0 - dt.timedelta(days=1))
        ful.ensure_default_carriers(s)
        wh = f.warehouse(s)
        wh.city = "杭州"
        skus = [f.product(s, weight_grams=rng.randint(100, 2500), wh=wh, stock=10 * n).skus[0]
                for _ in range(12)]  # fmt: skip
        referrer = f.customer(s)
        code = members.referral_code(s, customer_id=referrer.id)
        ids = []
        for i in range(n):
            if i % 25 == 0:
                c = members.register_customer(s, phone=f"139{i:08d}", referral_code=code)
                members.add_address(s, customer_id=c.id, recipient="新客", phone=f"139{i:08d}",
                                    province="上海市", city="上海", detail="1 号")  # fmt: skip
            else:
                c = f.customer(s, region=rng.choice(PROVINCES), city="某市")
            lines = [(k.id, rng.randint(1, 2)) for k in rng.sample(skus, rng.randint(1, 3))]
            order = orders.place_order(s, customer_id=c.id, lines=lines)
            orders.mark_paid(s, order_id=order.id, amount=order.total)
            ids.append(order.id)
    return ids


def _stores(base: str | None, tmp: Path, names: Sequence[str], n: int) -> tuple[dict, list[int]]:
    """One built store copied to each name (SQLite file copy, or a PostgreSQL template)."""
    if base is None:
        src = tmp / "base.db"
        builder = make_engine(f"sqlite:///{src}")
        ids = _build(builder, n)
        builder.dispose()
        out = {}
        for name in names:
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{src}{suffix}").exists():
                    shutil.copy(f"{src}{suffix}", tmp / f"{name}.db{suffix}")
            out[name] = make_engine(f"sqlite:///{tmp / (name + '.db')}")
        return out, ids
    url = make_url(base)
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}_base"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}_base"'))
    builder = make_engine(url.set(database=f"{url.database}_base").render_as_string(False))
    ids = _build(builder, n)
    builder.dispose()
    out = {}
    with admin.connect() as conn:
        for name in names:
            db = f"{url.database}_{name}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
            conn.execute(text(f'CREATE DATABASE "{db}" TEMPLATE "{url.database}_base"'))
            out[name] = make_engine(url.set(database=db).render_as_string(False))
    admin.dispose()
    return out, ids


# --- the items --------------------------------------------------------------------------------


def _plan(ids: Sequence[int]) -> dict[str, list[Any]]:
    """Per order: when it ships, with which carrier, its scan times, when it completes."""
    rng = random.Random(11)
    plan: dict[str, list[Any]] = {"ship": [], "transit": [], "deliver": [], "complete": []}
    for k, order_id in enumerate(ids):
        at = T0 + dt.timedelta(minutes=3 * k)
        plan["ship"].append(ful.Parcel(order_id, rng.choice(CARRIERS), at))
        plan["transit"].append((at + dt.timedelta(hours=6), at + dt.timedelta(hours=9)))
        plan["deliver"].append((at + dt.timedelta(hours=40), at + dt.timedelta(hours=43)))
        plan["complete"].append((order_id, at + dt.timedelta(days=5)))
    return plan


def _single_step(s: Any, step: str, batch: Sequence[Any]) -> None:
    for item in batch:
        try:
            if step == "ship":
                set_clock(s, item.at)
                ful.ship_order(s, order_id=item.order_id, carrier_code=item.carrier_code)
            elif step == "complete":
                set_clock(s, item[1])
                orders.complete_order(s, order_id=item[0])
            else:
                set_clock(s, item.at)
                ful.record_tracking_event(s, shipment_id=item.shipment_id, status=item.status)
        except ShopOpsError:
            pass  # refused items write nothing, as in the bulk path


def _bulk_step(s: Any, step: str, batch: Sequence[Any]) -> None:
    if step == "ship":
        ful.ship_orders(s, parcels=batch)
    elif step == "complete":
        orders.complete_orders(s, items=batch)
    else:
        ful.record_scans(s, scans=batch)


def _items(engine: Engine, step: str, plan: dict[str, list[Any]]) -> list[Any]:
    if step in ("ship", "complete"):
        return plan[step]
    with session_scope(engine, readonly=True) as s:
        from shopops.fulfillment.models import Shipment

        by_order = dict(s.execute(select(Shipment.order_id, Shipment.id)).all())
    pair = {"transit": ("picked_up", "in_transit"), "deliver": ("out_for_delivery", "delivered")}
    first, second = pair[step]
    scans = []
    for parcel, (t1, t2) in zip(plan["ship"], plan[step], strict=True):
        sid = by_order[parcel.order_id]
        scans += [ful.Scan(sid, first, t1), ful.Scan(sid, second, t2)]
    return scans


def _run(engine: Engine, step: str, items: Sequence[Any], size: int, bulk: bool) -> float:
    """CPU ms per item of the batches after the warm-up, one unit of work per batch."""
    per = 2 if step in ("transit", "deliver") else 1  # a parcel's two scans travel together
    size *= per
    cpu, timed = 0.0, 0
    for start in range(0, len(items), size):
        batch = items[start : start + size]
        t = time.process_time()
        with session_scope(engine) as s:
            (_bulk_step if bulk else _single_step)(s, step, batch)
        if start >= WARM_UP * per:
            cpu += time.process_time() - t
            timed += len(batch) // per
    return 1000 * cpu / max(timed, 1)


def _state(engine: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with session_scope(engine, readonly=True) as s:
        for name in TABLES:
            table = Base.metadata.tables[name]
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [{k: v for k, v in r.items() if k != "tracking_number"} for r in rows]
        events = s.execute(
            select(OutboxEvent.name, OutboxEvent.aggregate_type, OutboxEvent.aggregate_id,
                   OutboxEvent.payload, OutboxEvent.occurred_at)
        ).all()  # fmt: skip
    out["outbox"] = sorted(
        (n, k, i, json.dumps({x: y for x, y in p.items() if x != "tracking_number"},
                             sort_keys=True), str(at))
        for n, k, i, p, at in events
    )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--batches", default="1,20")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.batches.split(",")]
    names = ["single", *(f"bulk{k}" for k in sizes)]
    promotions.clear_cache()
    with tempfile.TemporaryDirectory() as tmp:
        engines, ids = _stores(args.database_url, Path(tmp), names, args.orders)
        plan = _plan(ids)
        backend = "postgresql" if args.database_url else "sqlite"
        print(f"{backend}: {len(ids)} orders; CPU ms per item (ship: a parcel, scans: a "
              "parcel's two scans, complete: an order); warm-up batches not timed")  # fmt: skip
        print(f"{'step':<10}{'single':>10}" + "".join(f"{'bulk' + str(k):>10}{'ratio':>8}"
                                                      for k in sizes))  # fmt: skip
        for step in ("ship", "transit", "deliver", "complete"):
            single = _run(engines["single"], step, _items(engines["single"], step, plan), 1,
                          bulk=False)  # fmt: skip
            line = f"{step:<10}{single:>10.3f}"
            for k in sizes:
                engine = engines[f"bulk{k}"]
                ms = _run(engine, step, _items(engine, step, plan), k, bulk=True)
                line += f"{ms:>10.3f}{ms / single:>8.2f}"
            print(line)
        reference = _state(engines["single"])
        ok = True
        for k in sizes:
            same = _state(engines[f"bulk{k}"]) == reference
            ok &= same
            print(f"bulk{k} store equals the single store: {same}")
        names = ("order.completed", "shipment.delivered", "referral.rewarded")
        counts = {n: sum(1 for e in reference["outbox"] if e[0] == n) for n in names}
        print(f"events: {counts}")
        for engine in engines.values():
            engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
