"""A warehouse wave: ship_orders ships each parcel as ship_order would, refusals alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.db import now, set_clock
from shopops.errors import ShopOpsError
from shopops.events import events_for
from shopops.fulfillment import rules
from shopops.fulfillment import service as ful
from shopops.fulfillment.models import Shipment
from shopops.orders import service as orders
from shopops.orders.models import Order

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)


def _order(s: Session, *, region: str, weights: tuple[int, ...], pay: bool = True) -> Order:
    wh = f.warehouse(s)
    wh.city = "杭州"
    skus = [sku for grams in weights for sku in f.product(s, weight_grams=grams, wh=wh).skus]
    c = f.customer(s, region=region, city="某市")
    order = orders.place_order(s, customer_id=c.id, lines=[(k.id, 1) for k in skus])
    if pay:
        orders.mark_paid(s, order_id=order.id, amount=order.total)
    return order


def _facts(s: Session, shipment: Any) -> tuple:
    shipment = s.get(Shipment, shipment.id)
    (created,) = events_for(s, aggregate_type="shipment", aggregate_id=shipment.id)
    payload = {
        k: v
        for k, v in created.payload.items()
        if k not in ("shipment_id", "order_id", "order_number", "tracking_number", "warehouse_id")
    }
    order = orders.get_order(s, order_id=shipment.order_id)
    return (
        shipment.weight_grams,
        shipment.fee,
        shipment.promised_hours,
        shipment.region,
        [(e.status, e.location) for e in shipment.events],
        order.status,
        order.shipped_at,
        payload,
    )


@pytest.fixture
def carriers(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        ful.ensure_default_carriers(s)


def test_a_wave_ships_as_ship_order_does_and_refuses_alone(uow, carriers):
    with uow() as s:
        set_clock(s, T0)
        xj = "新疆维吾尔自治区"
        single, bulk = (
            _order(s, region=xj, weights=(350, 1200)),
            _order(s, region=xj, weights=(350, 1200)),
        )
        near = _order(s, region="浙江省", weights=(200,))
        unpaid = _order(s, region="浙江省", weights=(200,), pay=False)
        set_clock(s, T0 + dt.timedelta(hours=3))
        one = ful.ship_order(s, order_id=single.id, carrier_code="sf")
        set_clock(s, T0)
        wave = [
            ful.Parcel(bulk.id, "sf", T0 + dt.timedelta(hours=3)),
            ful.Parcel(unpaid.id, "sf", T0 + dt.timedelta(hours=3)),
            ful.Parcel(near.id, "ups", T0 + dt.timedelta(hours=3)),
            ful.Parcel(near.id, "zto", T0 + dt.timedelta(hours=4)),
            ful.Parcel(near.id, "sf", T0 + dt.timedelta(hours=4)),  # shipped just before
            ful.Parcel(single.id, "sf", T0 + dt.timedelta(hours=4)),  # shipped alone before
            ful.Parcel(10**6, "sf", T0 + dt.timedelta(hours=4)),
        ]
        results = ful.ship_orders(s, parcels=wave)
        assert now(s) == T0
        codes = [r.code if isinstance(r, ShopOpsError) else "shipped" for r in results]
        assert codes == [
            "shipped",
            "order_not_shippable",
            "unknown_carrier",
            "shipped",
            "order_already_shipped",
            "order_already_shipped",
            "order_not_found",
        ]
        assert _facts(s, results[0]) == _facts(s, one)
        weight, fee, hours, region, scans, status, shipped_at, _ = _facts(s, results[0])
        # 350 g + 1200 g = 1550 g → 2 kg to 新疆 by SF: ¥28 + ¥20 (as test_ship_paid_order).
        assert (weight, fee, hours, region) == (1550, 4800, 72, "新疆")
        assert (scans, status, shipped_at) == (
            [("created", "杭州")],
            "shipped",
            T0 + dt.timedelta(hours=3),
        )
        assert results[3].shipped_at == T0 + dt.timedelta(hours=4)
        prefix, digits = rules.tracking_format("zto")
        number = results[3].tracking_number
        assert number.startswith(prefix) and len(number) == len(prefix) + digits
        numbers = [r.tracking_number for r in (one, results[0], results[3])]
        assert len(set(numbers)) == 3
        assert s.scalar(select(func.count()).select_from(Shipment)) == 3
        assert orders.get_order(s, order_id=unpaid.id).status == "pending_payment"


def test_an_empty_wave_and_naive_times(uow, carriers):
    with uow() as s:
        assert ful.ship_orders(s, parcels=[]) == []
        with pytest.raises(ValueError):
            ful.ship_orders(s, parcels=[ful.Parcel(1, "sf", dt.datetime(2026, 6, 18))])


def test_a_wave_sees_carriers_rates_and_warehouses_changed_in_the_same_session(uow, carriers):
    from shopops.fulfillment.service import reference

    with uow() as s:
        set_clock(s, T0)
        first, second, third = (_order(s, region="浙江省", weights=(200,)) for _ in range(3))
        (shipped,) = ful.ship_orders(s, parcels=[ful.Parcel(first.id, "sf", T0)])
        assert isinstance(shipped, ful.ShipmentRow)
        kept = reference.warehouses(s)
        # A new rate and a deactivated carrier, both after the first wave read them.
        ful.set_rate(
            s, carrier_code="zto", region="浙江省", first_kg_fee=111, extra_kg_fee=1,
            transit_hours=7,
        )  # fmt: skip
        ful.update_carrier(s, code="sf", active=False)
        refused, priced = ful.ship_orders(
            s, parcels=[ful.Parcel(second.id, "sf", T0), ful.Parcel(third.id, "zto", T0)]
        )
        assert isinstance(refused, ShopOpsError) and refused.code == "carrier_inactive"
        assert (priced.fee, priced.promised_hours) == (111, 7)
        f.warehouse(s, code="WH-NEW")
        s.flush()
        assert len(reference.warehouses(s)) == len(kept) + 1
        # A savepoint rolled back drops what was kept (its changes may be undone).
        assert "shopops.fulfillment.reference" in s.info
        s.begin_nested().rollback()
        assert "shopops.fulfillment.reference" not in s.info
