"""Many shoppers race for a SKU with few units: exactly that many orders, no oversell."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from tests.orders.shop import broken_invariants, build_shop, new_customer, order_count, stock

from shopops.db import session_scope
from shopops.inventory.errors import OutOfStock
from shopops.orders import service
from shopops.orders.models import OrderLine

UNITS, SHOPPERS = 3, 8


def test_concurrent_checkouts_sell_exactly_the_stock(engine):
    shop = build_shop(engine, stock=UNITS)
    sku = shop.skus[0]
    customers = [new_customer(engine) for _ in range(SHOPPERS)]
    barrier = threading.Barrier(SHOPPERS)
    placed: list[int] = []
    refused: list[OutOfStock] = []
    errors: list[BaseException] = []

    def shopper(customer_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                placed.append(service.place_order(s, customer_id=customer_id, lines=[(sku, 1)]).id)
        except OutOfStock as exc:
            refused.append(exc)
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=shopper, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(placed) == UNITS and len(set(placed)) == UNITS
    assert len(refused) == SHOPPERS - UNITS
    assert order_count(engine) == UNITS
    assert stock(engine, sku) == (UNITS, UNITS)
    with session_scope(engine, readonly=True) as s:
        assert s.scalar(select(func.sum(OrderLine.quantity))) == UNITS
    assert broken_invariants(engine) == []
