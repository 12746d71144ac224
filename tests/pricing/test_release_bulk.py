"""release_flash_units_many: a batch of cancelled orders gives back the flash units (pools,
quotas, purchases, events) as release_flash_units on each order does."""

from __future__ import annotations

from tests.core.twins import after, events, one_by_one
from tests.pricing.support import create_live_sale, new_customer

from shopops.orders import service as orders
from shopops.pricing.service.checkout import release_flash_units
from shopops.pricing.service.release_bulk import release_flash_units_many

TABLES = ["flash_sale_item", "flash_sale_quota", "flash_sale_purchase", "outbox_event"]


def test_bulk_release_equals_one_by_one(uow, engine, store):  # type: ignore[no-untyped-def]
    sku, plain = store.skus
    create_live_sale(engine, sku, pool=10, limit=2)
    other = new_customer(engine)
    placed = []
    for customer, lines in (
        (store.customer_id, [(sku, 2)]),
        (other, [(sku, 1), (plain, 1)]),
        (store.customer_id, [(plain, 1)]),  # no flash units
        (other, [(sku, 1)]),
    ):
        with uow() as s:
            placed.append(orders.place_order(s, customer_id=customer, lines=lines).id)
    ids = [placed[3], placed[2], placed[0], placed[3], placed[1] + 1000]  # a repeat, an unknown
    batch = events("order.cancelled", [{"order_id": i} for i in ids])
    one = after(engine, one_by_one(release_flash_units), batch, TABLES)
    bulk = after(engine, release_flash_units_many, batch, TABLES)
    assert bulk == one
    before = after(engine, lambda s, b: None, [], TABLES)
    assert bulk != before  # something was released


def test_bulk_release_of_orders_without_flash_units_writes_nothing(uow, engine, store):  # type: ignore[no-untyped-def]
    _, plain = store.skus
    with uow() as s:
        oid = orders.place_order(s, customer_id=store.customer_id, lines=[(plain, 1)]).id
    batch = events("order.cancelled", [{"order_id": oid}])
    assert after(engine, release_flash_units_many, batch, TABLES) == after(
        engine, lambda s, b: None, [], TABLES
    )
