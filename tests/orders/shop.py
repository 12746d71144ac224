"""Helpers of the orders tests: a shop with stock and a customer, stock and order counts, and a
statement counter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, event, func, select
from tests import factories as f

from shopops.db import session_scope
from shopops.inventory.models import StockLevel
from shopops.members.models import Address
from shopops.orders.models import Order


@dataclass
class Shop:
    """Three SKUs at 30.00 (¥) with `stock` units each, and a customer with a default address."""

    skus: list[int]
    customer_id: int
    address_id: int
    unlisted_sku: int


def build_shop(engine: Engine, *, stock: int = 10, price: int = 3000) -> Shop:
    with session_scope(engine) as s:
        product = f.product(s, skus=3, price=price, cost=1800, stock=stock)
        hidden = f.product(s, status="delisted", stock=stock)
        customer = f.customer(s)
        s.flush()
        address = s.scalars(select(Address).where(Address.customer_id == customer.id)).one()
        return Shop(
            skus=[sku.id for sku in product.skus],
            customer_id=customer.id,
            address_id=address.id,
            unlisted_sku=hidden.skus[0].id,
        )


def new_customer(engine: Engine) -> int:
    with session_scope(engine) as s:
        return f.customer(s).id


def stock(engine: Engine, sku_id: int) -> tuple[int, int]:
    """(on_hand, reserved) summed over warehouses."""
    with session_scope(engine, readonly=True) as s:
        row = s.execute(
            select(func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)).where(
                StockLevel.sku_id == sku_id
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)


def order_count(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(Order)) or 0


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to `engine` inside the block (BEGIN on SQLite included)."""
    seen: list[str] = []

    def _listener(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", _listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _listener)


# Payments are not made here (orders are marked paid directly), so the checks that compare
# orders with payment rows do not apply.
PAYMENT_CHECKS = frozenset({"paid_amount", "refunded_amount"})


def broken_invariants(engine: Engine) -> list[str]:
    """Names of the store invariants (`shopops verify`) that do not hold."""
    from shopops.verify import run_checks

    return [
        r.check.name for r in run_checks(engine) if not r.ok and r.check.name not in PAYMENT_CHECKS
    ]
