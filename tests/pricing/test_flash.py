"""Flash sales on both backends: definitions refused with a reason, checkout at the flash price
within the pool and the per-customer limit, refusals that consume nothing, cancellation giving
units back, and the statement cost of the hooks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from tests.orders.shop import count_statements, stock
from tests.pricing.support import (
    FLASH,
    PRICE,
    create_live_sale,
    event_names,
    held,
    live_window,
    new_customer,
    purchased_units,
    sold,
)

from shopops.db import set_clock, utcnow
from shopops.inventory.errors import OutOfStock
from shopops.orders import service as orders
from shopops.pricing import service
from shopops.pricing.errors import (
    FlashSaleLimitReached,
    FlashSaleOverlap,
    FlashSaleSoldOut,
    IllegalFlashSaleMove,
    InvalidFlashSale,
    UnknownSku,
)
from shopops.pricing.models import FlashSaleItem, FlashSalePurchase, FlashSaleQuota


def _create(uow, items, *, limit=1, window=None):  # type: ignore[no-untyped-def]
    starts_at, ends_at = window or live_window()
    with uow() as s:
        return service.create_flash_sale(
            s,
            name="秒杀",
            starts_at=starts_at,
            ends_at=ends_at,
            per_customer_limit=limit,
            items=[service.FlashItemSpec(*i) for i in items],
        )


# ---- definitions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "limit", "shift", "code"),
    [
        ([(0, FLASH, 10)], 1, None, "window_invalid"),
        ([(0, PRICE, 10)], 1, 60, "flash_price_invalid"),
        ([(0, PRICE + 100, 10)], 1, 60, "flash_price_invalid"),
        ([(0, 0, 10)], 1, 60, "flash_price_invalid"),
        ([(0, FLASH, 0)], 1, 60, "pool_invalid"),
        ([(0, FLASH, 10)], 0, 60, "limit_invalid"),
        ([(0, FLASH, 10), (0, FLASH, 5)], 1, 60, "duplicate_sku"),
    ],
)
def test_a_bad_flash_sale_is_refused_with_its_reason(uow, engine, store, items, limit, shift, code):
    start = utcnow() + dt.timedelta(hours=1)
    window = (start, start - dt.timedelta(minutes=5)) if shift is None else None
    items = [(store.skus[i], p, q) for i, p, q in items]
    with pytest.raises(InvalidFlashSale) as err:
        _create(uow, items, limit=limit, window=window)
    assert err.value.status_code == 422 and err.value.code == "invalid_flash_sale"
    assert [p["code"] for p in err.value.details["problems"]] == [code]
    assert event_names(engine, "flash_sale.") == []


def test_a_window_in_the_past_and_an_unknown_sku_are_refused(uow, store):
    past = utcnow() - dt.timedelta(hours=2)
    with pytest.raises(InvalidFlashSale) as err:
        _create(uow, [(store.skus[0], FLASH, 5)], window=(past, past + dt.timedelta(hours=1)))
    assert err.value.details["problems"][0]["code"] == "window_in_past"
    with pytest.raises(UnknownSku):
        _create(uow, [(999_999, FLASH, 5)])


def test_one_sku_is_in_one_sale_at_a_time(uow, store):
    sale = _create(uow, [(store.skus[0], FLASH, 5)])
    with pytest.raises(FlashSaleOverlap) as err:
        _create(uow, [(store.skus[1], FLASH, 5), (store.skus[0], FLASH, 5)])
    assert err.value.details == {"sku_id": store.skus[0], "flash_sale_id": sale.id}
    later = utcnow() + dt.timedelta(hours=2)
    _create(uow, [(store.skus[0], FLASH, 5)], window=(later, later + dt.timedelta(hours=1)))


# ---- checkout ---------------------------------------------------------------------------------


def test_a_flash_sku_sells_at_the_flash_price_from_the_pool(uow, engine, store):
    sku, other = store.skus
    sale_id = create_live_sale(engine, sku, pool=5, limit=2)
    with uow() as s:
        order = orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 2), (other, 1)])
        assert order.total - order.shipping_fee == 2 * FLASH + PRICE
        line = next(ln for ln in order.lines if ln.sku_id == sku)
        assert (line.unit_price, line.discount) == (PRICE, 2 * (PRICE - FLASH))
        assert [(d.source, d.reference) for d in order.discounts] == [
            ("flash_sale", f"FS{sale_id}")
        ]
        order_id = order.id
    assert sold(engine, sale_id, sku) == 2 and held(engine, store.customer_id) == 2
    assert stock(engine, sku) == (50, 2)  # warehouse stock is reserved as for any order
    assert "flash_sale.purchased" in event_names(engine, "flash_sale.")
    with uow(readonly=True) as s:
        (row,) = service.purchases_of(s, order_id=order_id)
        assert (row.quantity, row.unit_price, row.returned_at) == (2, FLASH, None)


def test_the_preview_shows_the_flash_price_and_writes_nothing(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=5, limit=1)
    with uow(readonly=True) as s:
        priced = orders.preview_checkout(s, customer_id=store.customer_id, lines=[(sku, 3)])
        (flash,) = priced.discounts
        # One unit qualifies (the limit); the preview says the order would be refused.
        assert flash.amount == PRICE - FLASH and "limit 1" in flash.description
    assert sold(engine, sale_id, sku) == 0


def test_over_the_limit_is_refused_and_consumes_nothing(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=5, limit=1)
    with pytest.raises(FlashSaleLimitReached) as err, uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 2)])
    assert err.value.status_code == 409 and err.value.code == "flash_sale_limit_reached"
    with uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])
    with pytest.raises(FlashSaleLimitReached), uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])
    assert sold(engine, sale_id, sku) == 1 and held(engine, store.customer_id) == 1
    assert stock(engine, sku) == (50, 1)


def test_sold_out_is_refused_and_consumes_nothing(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=2, limit=5)
    with uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 2)])
    late = new_customer(engine)
    with pytest.raises(FlashSaleSoldOut) as err, uow() as s:
        orders.place_order(s, customer_id=late, lines=[(sku, 1)])
    assert err.value.code == "flash_sale_sold_out" and err.value.details["left"] == 0
    assert sold(engine, sale_id, sku) == 2 and held(engine, late) == 0
    assert stock(engine, sku) == (50, 2)


def test_a_failing_checkout_consumes_no_flash_stock(uow, engine, store):
    sku, other = store.skus
    sale_id = create_live_sale(engine, sku, pool=5, limit=1)
    with pytest.raises(OutOfStock), uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1), (other, 51)])
    assert sold(engine, sale_id, sku) == 0 and held(engine, store.customer_id) == 0
    assert purchased_units(engine) == 0
    with uow() as s:  # the quota is still whole
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])


def test_cancelling_gives_the_units_back(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=1, limit=1)
    with uow() as s:
        order_id = orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)]).id
    with uow() as s:
        orders.cancel_order(s, order_id=order_id, reason="changed my mind")
    assert sold(engine, sale_id, sku) == 0 and held(engine, store.customer_id) == 0
    assert event_names(engine, "flash_sale.")[-1] == "flash_sale.released"
    with uow(readonly=True) as s:
        row = s.scalars(select(FlashSalePurchase)).one()
        assert row.returned_at is not None
    with uow() as s:  # the unit and the quota can be bought again
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])
    assert sold(engine, sale_id, sku) == 1
    with uow(readonly=True) as s:
        assert service.flash_ledger_problems(s) == []


def test_the_ledger_check_sees_a_counter_that_drifted(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=3, limit=1)
    with uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])
    with uow() as s:
        s.execute(update(FlashSaleItem).values(sold=2))
        s.execute(update(FlashSaleQuota).values(quantity=0))
    with uow(readonly=True) as s:
        problems = service.flash_ledger_problems(s)
    assert len(problems) == 2 and f"flash sale {sale_id}," in problems[1]


def test_after_the_window_and_after_ending_the_sku_sells_at_its_price(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=1, limit=1)
    with uow() as s:
        set_clock(s, utcnow() + dt.timedelta(hours=2))
        order = orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 3)])
        assert order.discount_total == 0
    with uow() as s:
        service.end_flash_sale(s, flash_sale_id=sale_id)
    with uow() as s:
        assert (
            orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 2)]).discount_total
            == 0
        )
    with pytest.raises(IllegalFlashSaleMove), uow() as s:
        service.end_flash_sale(s, flash_sale_id=sale_id)
    assert sold(engine, sale_id, sku) == 0


def test_a_sale_not_started_yet_does_not_price(uow, engine, store):
    sku = store.skus[0]
    later = utcnow() + dt.timedelta(hours=1)
    _create(uow, [(sku, FLASH, 5)], window=(later, later + dt.timedelta(hours=1)))
    with uow(readonly=True) as s:
        assert (
            orders.preview_checkout(
                s, customer_id=store.customer_id, lines=[(sku, 1)]
            ).discount_total
            == 0
        )
        assert service.live_flash_sales(s) == []


def test_storefront_list_shows_what_is_left(uow, engine, store):
    sku = store.skus[0]
    sale_id = create_live_sale(engine, sku, pool=3, limit=1)
    with uow() as s:
        orders.place_order(s, customer_id=store.customer_id, lines=[(sku, 1)])
    with uow(readonly=True) as s:
        (sale,) = service.live_flash_sales(s)
        assert sale.id == sale_id and sale.items[0].pool - sale.items[0].sold == 2


# ---- statement cost ---------------------------------------------------------------------------


def _place_counted(uow, engine, customer_id, lines):  # type: ignore[no-untyped-def]
    with count_statements(engine) as seen, uow() as s:
        orders.place_order(s, customer_id=customer_id, lines=lines)
    return seen


def test_the_hooks_cost_nothing_without_a_live_sale(uow, engine, store):
    sku = store.skus[0]
    _place_counted(uow, engine, store.customer_id, [(sku, 1)])  # warms the snapshot
    seen = _place_counted(uow, engine, store.customer_id, [(sku, 1)])
    assert not [q for q in seen if "flash_sale" in q or "price_list" in q]


def test_a_flash_checkout_stays_within_the_budget(uow, engine, store):
    sku = store.skus[0]
    create_live_sale(engine, sku, pool=5, limit=5)
    _place_counted(uow, engine, store.customer_id, [(sku, 1)])  # warms the snapshot
    seen = _place_counted(uow, engine, store.customer_id, [(sku, 1)])
    ours = [q for q in seen if "flash_sale" in q or "price_list" in q]
    print(f"\n{engine.dialect.name}: flash checkout {len(seen)} statements, {len(ours)} ours")
    assert len(ours) == 4, "\n".join(ours)  # counters read, quota upsert, pool update, purchase
    assert len(seen) <= 20, "\n".join(seen)


def test_a_warmed_snapshot_saves_the_first_checkout_a_statement(uow, engine, store):
    service.warm_live_snapshot(engine)
    seen = _place_counted(uow, engine, store.customer_id, [(store.skus[0], 1)])
    assert not [q for q in seen if "flash_sale" in q or "price_list" in q]
