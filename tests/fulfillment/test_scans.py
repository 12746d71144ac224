"""Bulk carrier scans: each scan as record_tracking_event applies it, refusals reported alone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.db import now, set_clock
from shopops.events import events_for
from shopops.fulfillment import service as ful
from shopops.fulfillment.errors import (
    IllegalTrackingTransition,
    ShipmentNotFound,
    UnknownTrackingStatus,
)
from shopops.fulfillment.models import Shipment
from shopops.orders import service as orders

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
ROAD = ("picked_up", "in_transit", "out_for_delivery", "delivered")


def _shipped(s: Session) -> int:
    wh = f.warehouse(s)
    sku = f.product(s, weight_grams=300, wh=wh).skus[0]
    c = f.customer(s, region="广东省", city="深圳")
    order = orders.place_order(s, customer_id=c.id, lines=[(sku.id, 1)])
    orders.mark_paid(s, order_id=order.id, amount=order.total)
    return ful.ship_order(s, order_id=order.id, carrier_code="sf").id


def _state(s: Session, shipment_id: int) -> tuple:
    sh = s.get(Shipment, shipment_id)
    order = orders.get_order(s, order_id=sh.order_id)
    outbox = [
        (e.name, e.occurred_at)
        for e in events_for(s, aggregate_type="shipment", aggregate_id=sh.id)
    ]
    scans = [(e.status, e.occurred_at - sh.shipped_at) for e in sh.events]
    return sh.status, sh.delivered_at - sh.shipped_at, order.status, scans, len(outbox)


@pytest.fixture
def carriers(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        ful.ensure_default_carriers(s)


def test_a_feed_matches_scans_one_by_one_and_refuses_alone(uow, carriers):
    with uow() as s:
        set_clock(s, T0)
        single, bulk, other = _shipped(s), _shipped(s), _shipped(s)
        for i, status in enumerate(ROAD):
            set_clock(s, T0 + dt.timedelta(hours=5 * (i + 1)))
            ful.record_tracking_event(s, shipment_id=single, status=status)
        set_clock(s, T0)
        feed = [
            ful.Scan(bulk, st, T0 + dt.timedelta(hours=5 * (i + 1))) for i, st in enumerate(ROAD)
        ]
        feed[2:2] = [
            ful.Scan(other, "picked_up", T0 + dt.timedelta(hours=1)),
            ful.Scan(other, "delivered", T0 + dt.timedelta(hours=2)),  # skips the road
            ful.Scan(other, "teleported", T0 + dt.timedelta(hours=2)),
            ful.Scan(other + 99, "picked_up", T0 + dt.timedelta(hours=2)),
        ]
        results = ful.record_scans(s, scans=feed)
        assert now(s) == T0  # the caller's clock is left as it was
        ids = single, bulk, other
    single, bulk, other = ids
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "ScanRow",
        "ScanRow",
        "ScanRow",
        IllegalTrackingTransition.__name__,
        UnknownTrackingStatus.__name__,
        ShipmentNotFound.__name__,
        "ScanRow",
        "ScanRow",
    ]
    with uow() as s:
        assert _state(s, bulk) == _state(s, single)
        status, delivered, order_status, scans, outbox = _state(s, bulk)
        assert (status, delivered, order_status) == (
            "delivered",
            dt.timedelta(hours=20),
            "delivered",
        )
        assert [st for st, _ in scans] == ["created", *ROAD]
        assert outbox == 2  # shipment.created, shipment.delivered
        sh = s.get(Shipment, other)
        assert sh.status == "picked_up"
        assert [e.status for e in sh.events] == ["created", "picked_up"]


def test_an_empty_feed_and_naive_times(uow, carriers):
    with uow() as s:
        assert ful.record_scans(s, scans=[]) == []
        with pytest.raises(ValueError):
            ful.record_scans(s, scans=[ful.Scan(1, "picked_up", dt.datetime(2026, 6, 18))])


def test_objects_loaded_before_a_feed_are_read_again(uow, carriers):
    with uow() as s:
        set_clock(s, T0)
        shipment_id = _shipped(s)
        sh = s.get(Shipment, shipment_id)
        order = orders.get_order(s, order_id=sh.order_id)
        assert (sh.status, order.status) == ("created", "shipped")
        feed = [
            ful.Scan(shipment_id, st, T0 + dt.timedelta(hours=i + 1)) for i, st in enumerate(ROAD)
        ]
        results = ful.record_scans(s, scans=feed)
        assert [r.id for r in results] == [e.id for e in sh.events[1:]]
        assert (sh.status, sh.delivered_at) == ("delivered", T0 + dt.timedelta(hours=4))
        assert (order.status, order.delivered_at) == ("delivered", T0 + dt.timedelta(hours=4))
