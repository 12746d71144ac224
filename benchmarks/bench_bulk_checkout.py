"""Bulk checkout: `place_orders` against `place_order` on each request in turn.

    uv run python benchmarks/bench_bulk_checkout.py [--orders 400] [--batch 1 20 100]
        [--database-url URL --twin-url URL]

Builds two identical stores (SQLite files in a temporary directory unless URLs are given:
two scratch PostgreSQL databases, dropped and rebuilt), with an automatic promotion, coupons
in some wallets and points on some customers, as the simulator presents them. The same
requests (1–3 lines, some with a coupon or points, a few out of stock) run as the simulator
runs them today — one unit of work, `set_clock` + a savepoint + `place_order` per order — in
one store, and through `place_orders` in batches in the other, batch after batch alternating
between the two (so that both see the same machine load). Prints CPU ms per order
(`time.process_time`, this process only) and the ratio bulk ÷ single, then checks that both
stores end equal (orders, lines, stock, reservations, coupons, points, events by name).
Exits non-zero only when the stores differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text, update

import shopops.models  # noqa: F401  (every table, and every hook the app registers)
from shopops.catalog.models import Brand, Category, ListingStatus, Product, Sku
from shopops.db import Base, make_engine, session_scope, set_clock, utcnow
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.inventory.models import Reservation, StockLevel, Warehouse
from shopops.members.models import Address, Customer
from shopops.members.service import adjust_points
from shopops.orders import service as orders
from shopops.orders.models import Order, OrderLine
from shopops.orders.service.checkout_bulk import CheckoutRequest, place_orders
from shopops.promotions import service as promotions
from shopops.promotions.models import Coupon
from shopops.promotions.schemas import PromotionCreate, TemplateCreate

SKUS = 200
CUSTOMERS = 300


def build(engine: Engine) -> dict[str, Any]:
    promotions.clear_cache()
    with session_scope(engine) as s:
        set_clock(s, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        wh = [
            Warehouse(code="W1", name="一仓", priority=1),
            Warehouse(code="W2", name="二仓", priority=2),
        ]
        s.add_all(wh)
        cat = Category(name="配件", slug="acc")
        brand = Brand(name="品牌", slug="brand")
        s.add_all([cat, brand])
        s.flush()
        rng = random.Random(7)
        skus = []
        for i in range(SKUS):
            p = Product(
                title=f"商品{i}", category_id=cat.id, brand_id=brand.id, status=ListingStatus.LISTED
            )
            s.add(p)
            s.flush()
            sku = Sku(
                product_id=p.id, code=f"S{i}", list_price=rng.randrange(990, 29900, 100), cost=500
            )
            s.add(sku)
            s.flush()
            skus.append(sku.id)
            # Some SKUs scarce, split over both warehouses: out-of-stock refusals and splits.
            first = rng.choice([2, 5, 50, 1000])
            s.add(StockLevel(sku_id=sku.id, warehouse_id=wh[0].id, on_hand=first, reserved=0))
            s.add(StockLevel(sku_id=sku.id, warehouse_id=wh[1].id, on_hand=3, reserved=0))
        customers = []
        for i in range(CUSTOMERS):
            c = Customer(name=f"顾客{i}", phone=f"139{i:08d}")
            s.add(c)
            s.flush()
            s.add(
                Address(
                    customer_id=c.id, recipient=c.name, phone=c.phone, province="上海",
                    city="上海", district="浦东新区", detail="世纪大道 1 号", is_default=True,
                )
            )  # fmt: skip
            customers.append(c.id)
        s.flush()
        for cid in customers[::3]:
            adjust_points(s, customer_id=cid, amount=2000, reason="bench", ref=f"seed:{cid}")
        auto = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="满99减10", kind="spend_save", params={"tiers": [[9900, 1000]]}
            ),
        )
        promotions.change_status(s, promotion_id=auto.id, action="activate")
        cp = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="九折券", kind="percent_off", params={"percent_bp": 1000}, requires_coupon=True
            ),
        )
        promotions.change_status(s, promotion_id=cp.id, action="activate")
        t = promotions.create_template(
            s, spec=TemplateCreate(promotion_id=cp.id, name="券", per_customer=3)
        )
        codes: dict[int, list[str]] = {}
        for n, cid in enumerate(customers[::2]):
            coupon = promotions.issue_coupon(s, template_id=t.id, customer_id=cid, reason="bench")
            code = f"BENCH{n:05d}"
            s.execute(update(Coupon).where(Coupon.id == coupon.id).values(code=code))
            codes.setdefault(cid, []).append(code)
    return {"skus": skus, "customers": customers, "codes": codes}


def requests(shop: dict[str, Any], n: int, start: dt.datetime) -> list[CheckoutRequest]:
    rng = random.Random(11)
    out = []
    for i in range(n):
        cid = rng.choice(shop["customers"])
        lines = [
            (rng.choice(shop["skus"]), rng.choice([1, 1, 1, 2]))
            for _ in range(rng.choice([1, 1, 2, 3]))
        ]
        codes = shop["codes"].get(cid, [])[:1] if rng.random() < 0.3 else []
        points = 100 if rng.random() < 0.1 else 0
        out.append(CheckoutRequest(cid, lines, codes, points, start + dt.timedelta(seconds=30 * i)))
    return out


def run_both(
    single_db: Engine, bulk_db: Engine, reqs: list[CheckoutRequest], batch: int
) -> tuple[float, float, int]:
    """Each batch of requests through the single calls in one store, then through
    `place_orders` in the other, alternating (the machine's load drifts: both sides see it),
    each store in one unit of work. Returns the CPU seconds of each side and orders placed."""
    cpu_single = cpu_bulk = 0.0
    placed = 0
    with session_scope(single_db) as one, session_scope(bulk_db) as many:
        for i in range(0, len(reqs), batch):
            chunk = reqs[i : i + batch]
            t0 = time.process_time()
            for r in chunk:
                set_clock(one, r.at)
                try:
                    with one.begin_nested():
                        orders.place_order(
                            one, customer_id=r.customer_id, lines=list(r.lines),
                            coupon_codes=r.coupon_codes, points=r.points,
                        )  # fmt: skip
                    placed += 1
                except ShopOpsError:
                    pass
            t1 = time.process_time()
            place_orders(many, requests=chunk)
            t2 = time.process_time()
            cpu_single += t1 - t0
            cpu_bulk += t2 - t1
    return cpu_single, cpu_bulk, placed


def state(engine: Engine) -> dict[str, Any]:
    with session_scope(engine, readonly=True) as s:
        return {
            "orders": s.execute(
                select(
                    Order.customer_id,
                    Order.items_subtotal,
                    Order.discount_total,
                    Order.total,
                    Order.placed_at,
                ).order_by(Order.placed_at)
            ).all(),
            "lines": s.execute(
                select(func.count(), func.sum(OrderLine.total), func.sum(OrderLine.quantity))
            ).one(),
            "stock": s.execute(
                select(
                    StockLevel.sku_id,
                    StockLevel.warehouse_id,
                    StockLevel.on_hand,
                    StockLevel.reserved,
                ).order_by(StockLevel.sku_id, StockLevel.warehouse_id)
            ).all(),
            "reservations": s.execute(select(func.count(), func.sum(Reservation.quantity))).one(),
            "coupons": s.execute(select(Coupon.code, Coupon.status).order_by(Coupon.code)).all(),
            "points": s.execute(
                select(Customer.id, Customer.points_balance).order_by(Customer.id)
            ).all(),
            "events": s.execute(
                select(OutboxEvent.name, func.count())
                .group_by(OutboxEvent.name)
                .order_by(OutboxEvent.name)
            ).all(),
        }


def fresh(url: str | None, path: Path) -> Engine:
    engine = make_engine(url or f"sqlite:///{path}")
    if url:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    return engine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 20, 100])
    ap.add_argument("--database-url")
    ap.add_argument("--twin-url")
    args = ap.parse_args()
    ok = True
    tmp = Path(tempfile.mkdtemp())
    for batch in args.batch:
        single_db = fresh(args.database_url, tmp / f"single{batch}.db")
        bulk_db = fresh(args.twin_url, tmp / f"bulk{batch}.db")
        shop = build(single_db)
        build(bulk_db)
        start = utcnow() + dt.timedelta(days=1)
        reqs = requests(shop, args.orders, start)
        cpu_single, cpu_bulk, n_single = run_both(single_db, bulk_db, reqs, batch)
        same = state(single_db) == state(bulk_db)
        ok = ok and same
        per_single = cpu_single / len(reqs) * 1000
        per_bulk = cpu_bulk / len(reqs) * 1000
        print(
            f"{single_db.dialect.name} batch {batch:>4}: {len(reqs)} requests, {n_single} placed | "
            f"single {per_single:.3f} ms CPU/request | bulk {per_bulk:.3f} ms | "
            f"ratio bulk/single {per_bulk / per_single:.3f} | stores equal: {same}"
        )
        single_db.dispose()
        bulk_db.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
