"""A burst of buyers on a flash sale: exactly the pool is sold, and no customer passes the
per-customer limit, even with the same customer buying twice at the same moment."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select
from tests import factories as f
from tests.orders.shop import broken_invariants, order_count, stock
from tests.pricing.support import FLASH, build_store, create_live_sale, purchased_units, sold

from shopops.db import session_scope
from shopops.orders import service as orders
from shopops.orders.models import Order, OrderLine
from shopops.pricing.errors import FlashSaleLimitReached, FlashSaleSoldOut
from shopops.pricing.models import FlashSaleQuota
from shopops.pricing.service import flash_ledger_problems

POOL, CUSTOMERS, TWICE = 20, 150, 50  # 200 attempts for 20 units, limit 1


def test_a_burst_sells_exactly_the_pool_within_the_limits(engine):
    store = build_store(engine, stock=100, skus=1)
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=POOL, limit=1)
    with session_scope(engine) as s:
        customers = [f.customer(s).id for _ in range(CUSTOMERS)]
    attempts = customers + customers[:TWICE]
    barrier = threading.Barrier(len(attempts))
    placed: list[int] = []
    refused: Counter[str] = Counter()
    errors: list[BaseException] = []

    def buyer(customer_id: int) -> None:
        try:
            barrier.wait(timeout=60)
            with session_scope(engine) as s:
                order = orders.place_order(s, customer_id=customer_id, lines=[(sku, 1)])
                placed.append(order.customer_id)
        except (FlashSaleSoldOut, FlashSaleLimitReached) as exc:
            refused[exc.code] += 1
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=buyer, args=(c,)) for c in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert len(placed) == POOL and len(set(placed)) == POOL  # nobody bought twice
    assert sum(refused.values()) == len(attempts) - POOL
    assert refused["flash_sale_sold_out"] > 0
    assert sold(engine, sale_id, sku) == POOL == purchased_units(engine)
    assert order_count(engine) == POOL
    assert stock(engine, sku) == (100, POOL)
    with session_scope(engine, readonly=True) as s:
        assert s.scalar(select(func.max(FlashSaleQuota.quantity))) == 1
        assert s.scalar(select(func.sum(FlashSaleQuota.quantity))) == POOL
        assert s.scalar(select(func.sum(OrderLine.total))) == POOL * FLASH
        assert s.scalar(select(func.count()).select_from(Order)) == POOL
        assert flash_ledger_problems(s) == []
    assert broken_invariants(engine) == []


def test_one_customer_racing_with_itself_stops_at_the_limit(engine):
    store = build_store(engine, stock=100, skus=1)
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=100, limit=2)
    with session_scope(engine) as s:
        customers = [f.customer(s).id for _ in range(8)]
    attempts = customers * 4  # four simultaneous orders each, limit 2
    barrier = threading.Barrier(len(attempts))
    placed: Counter[int] = Counter()
    refused: Counter[str] = Counter()
    errors: list[BaseException] = []

    def buyer(customer_id: int) -> None:
        try:
            barrier.wait(timeout=60)
            with session_scope(engine) as s:
                orders.place_order(s, customer_id=customer_id, lines=[(sku, 1)])
                placed[customer_id] += 1
        except FlashSaleLimitReached as exc:
            refused[exc.code] += 1
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=buyer, args=(c,)) for c in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert placed == dict.fromkeys(customers, 2)
    assert refused == {"flash_sale_limit_reached": len(customers) * 2}
    assert sold(engine, sale_id, sku) == 2 * len(customers)
