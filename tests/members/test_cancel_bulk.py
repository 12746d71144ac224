"""members on_orders_cancelled: a batch of cancelled orders returns redeemed points as
on_order_cancelled on each order does (balances, entries, events), a replay giving nothing."""

from __future__ import annotations

from tests import factories as f
from tests.core.twins import after, events, one_by_one

from shopops.members import service as members
from shopops.members.handlers import on_order_cancelled, on_orders_cancelled
from shopops.orders import service as orders

TABLES = ["customer", "points_entry", "outbox_event"]


def test_bulk_return_equals_one_by_one(uow, engine):  # type: ignore[no-untyped-def]
    with uow() as s:
        sku = f.product(s, price=10_000, stock=100, skus=1).skus[0].id
        a, b = f.customer(s).id, f.customer(s).id
    for cid in (a, b):
        with uow() as s:
            members.adjust_points(s, customer_id=cid, amount=5_000, reason="test")
    placed = []
    for cid, pts in ((a, 2_000), (b, 0), (a, 1_000), (b, 500)):
        with uow() as s:
            o = orders.place_order(s, customer_id=cid, lines=[(sku, 1)], points=pts)
            placed.append((o.id, cid, o.number))
    picks = [placed[2], placed[1], placed[0], placed[3]]
    batch = events(
        "order.cancelled",
        [{"order_id": i, "customer_id": c, "number": n} for i, c, n in picks],
    )
    one = after(engine, one_by_one(on_order_cancelled), batch, TABLES)
    bulk = after(engine, on_orders_cancelled, batch, TABLES)
    assert bulk == one
    assert bulk != after(engine, lambda s, x: None, [], TABLES)


def test_bulk_return_without_redemptions_writes_nothing(uow, engine):  # type: ignore[no-untyped-def]
    with uow() as s:
        sku = f.product(s, price=10_000, stock=100, skus=1).skus[0].id
        cid = f.customer(s).id
    with uow() as s:
        o = orders.place_order(s, customer_id=cid, lines=[(sku, 1)])
    batch = events("order.cancelled", [{"order_id": o.id, "customer_id": cid}])
    assert after(engine, on_orders_cancelled, batch, TABLES) == after(
        engine, lambda s, x: None, [], TABLES
    )
