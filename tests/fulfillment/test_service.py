"""Fulfillment use cases on SQLite and PostgreSQL: carriers and rates, shipping paid orders,
carrier scans, return shipments, tracking lookup and the carrier scorecard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.db import set_clock
from shopops.events import OutboxEvent, events_for
from shopops.fulfillment import service as ful
from shopops.fulfillment.errors import (
    CarrierExists,
    CarrierInactive,
    DuplicateTrackingNumber,
    IllegalTrackingTransition,
    InvalidRate,
    InvalidTrackingNumber,
    InvalidWeight,
    InvalidWindow,
    NoCarrierRate,
    OrderAlreadyShipped,
    OrderNotShippable,
    OrderNotVisible,
    ShipmentNotFound,
    UnknownCarrier,
    UnknownTrackingStatus,
)
from shopops.fulfillment.models import Carrier, CarrierRate, Shipment, TrackingEvent
from shopops.fulfillment.rules import DEFAULT_CARRIERS, RateTerms
from shopops.orders import service as orders
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
ROAD = ("picked_up", "in_transit", "out_for_delivery")


def _at(s: Session, hours: float = 0) -> None:
    set_clock(s, T0 + dt.timedelta(hours=hours))


def _order(
    s: Session,
    *,
    region: str = "上海",
    city: str = "上海",
    weights: tuple[int, ...] = (350,),
    qty: int = 2,
    pay: bool = True,
) -> Order:
    """An order (paid unless `pay=False`) of `qty` units of one SKU per weight."""
    wh = f.warehouse(s)
    wh.city = "杭州"
    skus = []
    for grams in weights:
        skus.extend(f.product(s, weight_grams=grams, wh=wh).skus)
    c = f.customer(s, region=region, city=city)
    order = orders.place_order(s, customer_id=c.id, lines=[(k.id, qty) for k in skus])
    if pay:
        orders.mark_paid(s, order_id=order.id, amount=order.total)
    return order


def _deliver(s: Session, shipment_id: int, *, hours: float) -> None:
    for i, status in enumerate((*ROAD, "delivered")):
        _at(s, hours * (i + 1) / 4)
        ful.record_tracking_event(s, shipment_id=shipment_id, status=status, location="某地")


@pytest.fixture
def carriers(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        ful.ensure_default_carriers(s)


# --- carriers, rates, quotes ----------------------------------------------------------------


def test_default_carriers_are_seeded_once_and_keep_edits(uow):
    with uow() as s:
        seeded = ful.ensure_default_carriers(s)
        assert [c.code for c in seeded] == sorted(code for code, _ in DEFAULT_CARRIERS)
        ful.set_rate(
            s, carrier_code="sf", region="*", first_kg_fee=1999, extra_kg_fee=1, transit_hours=30
        )
        rates = s.scalar(select(func.count()).select_from(CarrierRate))
    with uow() as s:
        ful.ensure_default_carriers(s)
        assert s.scalar(select(func.count()).select_from(Carrier)) == 7
        assert s.scalar(select(func.count()).select_from(CarrierRate)) == rates
        assert ful.quote(s, carrier_code="sf", province="河南", weight_grams=500).fee == 1999
        names = {c.code: c.name for c in ful.list_carriers(s)}
        assert names["sf"] == "顺丰速运" and names["ems"] == "中国邮政EMS"


def test_quote_uses_province_rate_or_fallback(uow, carriers):
    with uow() as s:
        q = ful.quote(s, carrier_code="sf", province="新疆维吾尔自治区", weight_grams=2500)
        assert (q.region, q.billable_kg, q.fee, q.promised_hours) == ("新疆", 3, 6800, 72)
        q = ful.quote(s, carrier_code="zto", province="浙江省", weight_grams=800)
        assert (q.region, q.fee, q.promised_hours) == ("浙江", 500, 48)
        q = ful.quote(s, carrier_code="zto", province="河南省", weight_grams=1001)
        assert (q.region, q.fee, q.promised_hours) == ("*", 1100, 72)


def test_quote_refusals(uow, carriers):
    with uow() as s:
        with pytest.raises(UnknownCarrier) as err:
            ful.quote(s, carrier_code="ups", province="上海", weight_grams=100)
        assert err.value.details == {"carrier_code": "ups"}
        with pytest.raises(InvalidWeight):
            ful.quote(s, carrier_code="sf", province="上海", weight_grams=-1)
        ful.create_carrier(s, code="local", name="同城", rates=[RateTerms("上海", 600, 0, 4)])
        assert ful.quote(s, carrier_code="local", province="上海市", weight_grams=0).fee == 600
        with pytest.raises(NoCarrierRate):
            ful.quote(s, carrier_code="local", province="北京", weight_grams=100)


def test_create_update_carrier_and_rates(uow):
    with uow() as s:
        c = ful.create_carrier(
            s, code="deppon", name="德邦快递", rates=[RateTerms("*", 900, 400, 60)]
        )
        assert [r.region for r in c.rates] == ["*"]
        with pytest.raises(CarrierExists):
            ful.create_carrier(s, code="deppon", name="again")
        with pytest.raises(InvalidRate):
            ful.create_carrier(
                s, code="dup", name="x", rates=[RateTerms("*", 1, 1, 1), RateTerms("*", 2, 2, 2)]
            )
        with pytest.raises(InvalidRate):
            ful.set_rate(
                s, carrier_code="deppon", region="*", first_kg_fee=-1, extra_kg_fee=0,
                transit_hours=24,
            )  # fmt: skip
        with pytest.raises(InvalidRate):
            ful.set_rate(
                s, carrier_code="deppon", region="*", first_kg_fee=1, extra_kg_fee=0,
                transit_hours=0,
            )  # fmt: skip
        with pytest.raises(UnknownCarrier):
            ful.set_rate(
                s, carrier_code="nope", region="*", first_kg_fee=1, extra_kg_fee=0,
                transit_hours=1,
            )  # fmt: skip
        rate = ful.set_rate(
            s, carrier_code="deppon", region="西藏自治区", first_kg_fee=3000, extra_kg_fee=2500,
            transit_hours=150,
        )  # fmt: skip
        assert rate.region == "西藏"
        again = ful.set_rate(
            s, carrier_code="deppon", region="西藏", first_kg_fee=3100, extra_kg_fee=2500,
            transit_hours=140,
        )  # fmt: skip
        assert again.id == rate.id and again.first_kg_fee == 3100
        updated = ful.update_carrier(s, code="deppon", active=False, name="德邦")
        assert (updated.active, updated.name) == (False, "德邦")
        assert "deppon" not in {c.code for c in ful.list_carriers(s, active_only=True)}


# --- shipping ---------------------------------------------------------------------------------


def test_ship_paid_order(uow, carriers):
    with uow() as s:
        _at(s)
        order = _order(s, region="新疆维吾尔自治区", city="乌鲁木齐", weights=(350, 1200), qty=1)
        shipment = ful.ship_order(s, order_id=order.id, carrier_code="sf")
        order_id, number, shipment_id = order.id, order.number, shipment.id
    with uow() as s:
        sh = s.get(Shipment, shipment_id)
        assert re.fullmatch(r"SF\d{12}", sh.tracking_number)
        # 350 g + 1200 g = 1550 g → 2 kg to 新疆 by SF: ¥28 + ¥20.
        assert (sh.weight_grams, sh.fee, sh.promised_hours, sh.region) == (1550, 4800, 72, "新疆")
        assert (sh.status, sh.direction, sh.shipped_at) == ("created", "forward", T0)
        assert sh.warehouse_id is not None
        assert [(e.status, e.location, e.description) for e in sh.events] == [
            ("created", "杭州", "已揽收")
        ]
        assert orders.get_order(s, order_id=order_id).status == "shipped"
        (created,) = events_for(s, aggregate_type="shipment", aggregate_id=shipment_id)
        assert created.name == "shipment.created"
        assert created.payload == {
            "shipment_id": shipment_id,
            "order_id": order_id,
            "order_number": number,
            "direction": "forward",
            "carrier": "sf",
            "tracking_number": sh.tracking_number,
            "region": "新疆",
            "warehouse_id": sh.warehouse_id,
            "fee": 4800,
            "weight_grams": 1550,
            "promised_hours": 72,
            "shipped_at": T0.isoformat(),
        }


def test_ship_with_given_tracking_number_and_duplicates(uow, carriers):
    with uow() as s:
        first, second = _order(s), _order(s)
        sh = ful.ship_order(s, order_id=first.id, carrier_code="zto", tracking_number="ZT-0001")
        assert sh.tracking_number == "ZT-0001"
        with pytest.raises(DuplicateTrackingNumber) as err:
            ful.ship_order(s, order_id=second.id, carrier_code="zto", tracking_number="ZT-0001")
        assert err.value.details == {"tracking_number": "ZT-0001"}
        with pytest.raises(InvalidTrackingNumber):
            ful.ship_order(s, order_id=second.id, carrier_code="zto", tracking_number="bad #")
        assert orders.get_order(s, order_id=second.id).status == "paid"


def test_ship_refusals_write_nothing(uow, carriers):
    with uow() as s:
        unpaid = _order(s, pay=False)
        cancelled = _order(s, pay=False)
        orders.cancel_order(s, order_id=cancelled.id, reason="不想要了")
        paid = _order(s)
        ful.update_carrier(s, code="ems", active=False)
        ids = unpaid.id, cancelled.id, paid.id
    unpaid_id, cancelled_id, paid_id = ids
    with uow() as s:
        for order_id, status in ((unpaid_id, "pending_payment"), (cancelled_id, "cancelled")):
            with pytest.raises(OrderNotShippable) as err:
                ful.ship_order(s, order_id=order_id, carrier_code="sf")
            assert err.value.details == {"order_id": order_id, "status": status}
        with pytest.raises(UnknownCarrier):
            ful.ship_order(s, order_id=paid_id, carrier_code="ups")
        with pytest.raises(CarrierInactive):
            ful.ship_order(s, order_id=paid_id, carrier_code="ems")
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0
        assert s.scalar(select(func.count()).select_from(TrackingEvent)) == 0
        assert orders.get_order(s, order_id=paid_id).status == "paid"
    with uow() as s:
        ful.ship_order(s, order_id=paid_id, carrier_code="sf")
    with uow() as s:
        with pytest.raises(OrderAlreadyShipped):
            ful.ship_order(s, order_id=paid_id, carrier_code="jd")
        assert s.scalar(select(func.count()).select_from(Shipment)) == 1


def test_partly_refunded_order_ships_once(uow, carriers):
    """A partly refunded order may still ship, without its refunded units, and only once."""
    with uow() as s:
        order = _order(s, weights=(600,), qty=3)
        line = order.lines[0]
        unit = line.total // 3
        orders.record_refund(
            s, order_id=order.id, line_refunds={line.id: (1, unit)}, shipping_refund=0
        )
        assert order.status == "partially_refunded"
        sh = ful.ship_order(s, order_id=order.id, carrier_code="sto")
        assert sh.weight_grams == 1200  # 2 of 3 units leave the warehouse
        orders.record_refund(
            s, order_id=order.id, line_refunds={line.id: (1, unit)}, shipping_refund=0
        )
        assert order.status == "partially_refunded"
        with pytest.raises(OrderAlreadyShipped) as err:
            ful.ship_order(s, order_id=order.id, carrier_code="sto")
        assert err.value.details == {"order_id": order.id, "shipment_id": sh.id}


# --- tracking -------------------------------------------------------------------------------


def test_scans_to_delivery_mark_the_order_delivered(uow, carriers):
    with uow() as s:
        _at(s)
        order = _order(s, region="广东省", city="深圳")
        sh = ful.ship_order(s, order_id=order.id, carrier_code="sf")
        _deliver(s, sh.id, hours=20)
        ids = order.id, sh.id
    order_id, shipment_id = ids
    with uow() as s:
        sh = s.get(Shipment, shipment_id)
        assert sh.status == "delivered"
        assert sh.delivered_at == T0 + dt.timedelta(hours=20)
        assert [e.status for e in sh.events] == ["created", *ROAD, "delivered"]
        order = orders.get_order(s, order_id=order_id)
        assert order.status == "delivered"
        names = [e.name for e in events_for(s, aggregate_type="shipment", aggregate_id=sh.id)]
        assert names == ["shipment.created", "shipment.delivered"]
        delivered = events_for(s, aggregate_type="shipment", aggregate_id=sh.id)[-1].payload
        assert delivered["carrier"] == "sf"
        assert delivered["shipped_at"] == T0.isoformat()
        assert delivered["delivered_at"] == (T0 + dt.timedelta(hours=20)).isoformat()
        assert (delivered["hours"], delivered["promised_hours"], delivered["on_time"]) == (
            20.0,
            24,
            True,
        )
        assert (delivered["fee"], delivered["region"]) == (1200, "广东")


def test_illegal_and_unknown_scans(uow, carriers):
    with uow() as s:
        sh = ful.ship_order(s, order_id=_order(s).id, carrier_code="yto")
        with pytest.raises(IllegalTrackingTransition) as err:
            ful.record_tracking_event(s, shipment_id=sh.id, status="delivered")
        assert err.value.code == "illegal_tracking_transition"
        assert err.value.details["current"] == "created"
        assert err.value.details["allowed"] == ["exception", "picked_up"]
        with pytest.raises(UnknownTrackingStatus):
            ful.record_tracking_event(s, shipment_id=sh.id, status="teleported")
        with pytest.raises(ShipmentNotFound):
            ful.record_tracking_event(s, shipment_id=sh.id + 999, status="picked_up")
        _deliver(s, sh.id, hours=30)
        with pytest.raises(IllegalTrackingTransition):
            ful.record_tracking_event(s, shipment_id=sh.id, status="in_transit")


def test_repeated_scans(uow, carriers):
    with uow() as s:
        sh = ful.ship_order(s, order_id=_order(s).id, carrier_code="yunda")
        picked = ful.record_tracking_event(
            s, shipment_id=sh.id, status="picked_up", location="杭州"
        )
        # The same scan again (a webhook retry) changes nothing.
        again = ful.record_tracking_event(s, shipment_id=sh.id, status="picked_up", location="杭州")
        assert again.id == picked.id
        ful.record_tracking_event(
            s, shipment_id=sh.id, status="in_transit", location="杭州转运中心"
        )
        # The same status at the next hub is a new scan, not a new status.
        hub = ful.record_tracking_event(s, shipment_id=sh.id, status="in_transit", location="武汉")
        assert hub.id != picked.id
        ful.record_tracking_event(s, shipment_id=sh.id, status="out_for_delivery")
        done = ful.record_tracking_event(s, shipment_id=sh.id, status="delivered")
        late = ful.record_tracking_event(s, shipment_id=sh.id, status="delivered", location="x")
        assert late.id == done.id
        s.flush()
        assert [(e.status, e.location) for e in sh.events][1:4] == [
            ("picked_up", "杭州"),
            ("in_transit", "杭州转运中心"),
            ("in_transit", "武汉"),
        ]
        assert len(sh.events) == 6
        delivered = [
            e for e in events_for(s, aggregate_type="shipment", aggregate_id=sh.id)
            if e.name == "shipment.delivered"
        ]  # fmt: skip
        assert len(delivered) == 1


def test_exception_and_recovery(uow, carriers):
    with uow() as s:
        sh = ful.ship_order(s, order_id=_order(s).id, carrier_code="jd")
        ful.record_tracking_event(s, shipment_id=sh.id, status="picked_up")
        ful.record_tracking_event(
            s, shipment_id=sh.id, status="exception", location="郑州", description="暴雨延误"
        )
        assert (sh.status, sh.exception_count) == ("exception", 1)
        ful.record_tracking_event(s, shipment_id=sh.id, status="in_transit", location="郑州")
        ful.record_tracking_event(s, shipment_id=sh.id, status="exception", description="地址不详")
        ful.record_tracking_event(s, shipment_id=sh.id, status="out_for_delivery")
        assert (sh.status, sh.exception_count) == ("out_for_delivery", 2)
        exc = [
            e for e in events_for(s, aggregate_type="shipment", aggregate_id=sh.id)
            if e.name == "shipment.exception"
        ]  # fmt: skip
        assert [e.payload["previous_status"] for e in exc] == ["picked_up", "in_transit"]
        assert exc[0].payload["description"] == "暴雨延误"
        assert exc[0].payload["location"] == "郑州"


def test_delivery_during_a_refund_request_keeps_the_refund_state(uow, carriers):
    with uow() as s:
        order = _order(s)
        sh = ful.ship_order(s, order_id=order.id, carrier_code="sf")
        orders.request_refund(s, order_id=order.id)
        _deliver(s, sh.id, hours=10)
        assert sh.status == "delivered"
        assert orders.get_order(s, order_id=order.id).status == "refund_requested"


# --- returns and lookups ------------------------------------------------------------------------


def test_return_shipment_leaves_the_order_alone(uow, carriers):
    with uow() as s:
        _at(s)
        order = _order(s, region="浙江省", city="杭州", weights=(350,), qty=2)
        forward = ful.ship_order(s, order_id=order.id, carrier_code="zto")
        _deliver(s, forward.id, hours=30)
        back = ful.create_return_shipment(s, order_id=order.id, carrier_code="zto")
        assert (back.direction, back.region, back.weight_grams, back.fee) == (
            "return",
            "浙江",
            700,
            500,
        )
        assert back.events[0].location == "杭州"
        _deliver(s, back.id, hours=40)
        assert back.status == "delivered"
        assert orders.get_order(s, order_id=order.id).status == "delivered"
        light = ful.create_return_shipment(
            s, order_id=order.id, carrier_code="sf", weight_grams=100, tracking_number="SF-RET-1"
        )
        assert light.weight_grams == 100
        with pytest.raises(InvalidWeight):
            ful.create_return_shipment(s, order_id=order.id, carrier_code="sf", weight_grams=-5)
        unpaid = _order(s, pay=False)
        with pytest.raises(OrderNotShippable):
            ful.create_return_shipment(s, order_id=unpaid.id, carrier_code="sf")
        tracked = ful.track_order(s, order_number=order.number)
        assert [t.direction for t in tracked] == ["forward", "return", "return"]
        assert [e.status for e in tracked[0].events][-1] == "delivered"


def test_track_order_only_for_its_customer(uow, carriers):
    with uow() as s:
        order = _order(s)
        ful.ship_order(s, order_id=order.id, carrier_code="sf")
        other = f.customer(s)
        mine = ful.track_order(s, order_number=order.number, customer_id=order.customer_id)
        assert len(mine) == 1 and mine[0].status == "created"
        with pytest.raises(OrderNotVisible) as err:
            ful.track_order(s, order_number=order.number, customer_id=other.id)
        assert err.value.code == "order_not_found"
        with pytest.raises(OrderNotFound):
            ful.track_order(s, order_number="NO-SUCH-ORDER")
        assert ful.track_order(s, order_number=_order(s).number) == []


def test_list_shipments_filters(uow, carriers):
    with uow() as s:
        a = ful.ship_order(s, order_id=_order(s).id, carrier_code="sf")
        b = ful.ship_order(s, order_id=_order(s).id, carrier_code="zto")
        ful.record_tracking_event(s, shipment_id=b.id, status="picked_up")
        r = ful.create_return_shipment(s, order_id=_order(s).id, carrier_code="sf")
        assert [x.id for x in ful.list_shipments(s)] == [r.id, b.id, a.id]
        assert [x.id for x in ful.list_shipments(s, carrier_code="sf")] == [r.id, a.id]
        assert [x.id for x in ful.list_shipments(s, status="picked_up")] == [b.id]
        assert [x.id for x in ful.list_shipments(s, direction="return")] == [r.id]
        assert [x.id for x in ful.list_shipments(s, order_id=a.order_id)] == [a.id]
        assert [x.id for x in ful.list_shipments(s, limit=1, offset=1)] == [b.id]


# --- scorecard -------------------------------------------------------------------------------


def test_carrier_scorecard(uow, carriers):
    with uow() as s:
        _at(s)
        # SF to 上海 promises 24 h: one on time, one late; ZTO to 河南 promises 72 h.
        sf_fast = ful.ship_order(s, order_id=_order(s).id, carrier_code="sf")
        sf_late = ful.ship_order(s, order_id=_order(s).id, carrier_code="sf")
        sf_open = ful.ship_order(s, order_id=_order(s).id, carrier_code="sf")
        zto = ful.ship_order(s, order_id=_order(s, region="河南省").id, carrier_code="zto")
        _deliver(s, sf_fast.id, hours=20)
        _deliver(s, sf_late.id, hours=30)
        _deliver(s, zto.id, hours=60)
        ful.record_tracking_event(s, shipment_id=sf_open.id, status="exception")
        ful.create_return_shipment(s, order_id=sf_fast.order_id, carrier_code="sf")
        # Shipped outside the window: not counted.
        _at(s, 24 * 40)
        ful.ship_order(s, order_id=_order(s).id, carrier_code="zto")
    with uow(readonly=True) as s:
        card = ful.carrier_scorecard(s, since=T0, until=T0 + dt.timedelta(days=7))
        sf, zto_score = card.carriers
        assert (sf.carrier_code, sf.shipments, sf.delivered, sf.on_time) == ("sf", 3, 2, 1)
        assert sf.on_time_rate == pytest.approx(0.5)
        assert sf.mean_delivery_hours == pytest.approx(25)
        assert (sf.mean_fee, sf.exceptions) == (1400, 1)
        assert (zto_score.shipments, zto_score.on_time_rate, zto_score.mean_fee) == (1, 1.0, 800)
        assert zto_score.mean_delivery_hours == pytest.approx(60)
        with pytest.raises(InvalidWindow):
            ful.carrier_scorecard(s, since=T0, until=T0)
        with pytest.raises(InvalidWindow):
            ful.carrier_scorecard(s, since=dt.datetime(2026, 1, 1), until=T0)
        set_clock(s, T0 + dt.timedelta(days=41))
        recent = ful.carrier_scorecard(s)  # the last 30 days
        assert [(c.carrier_code, c.shipments) for c in recent.carriers] == [("zto", 1)]


def test_no_outbox_event_for_a_refused_scan(uow, carriers):
    with uow() as s:
        sh = ful.ship_order(s, order_id=_order(s).id, carrier_code="sf")
        shipment_id = sh.id
    with uow() as s:
        before = s.scalar(select(func.count()).select_from(OutboxEvent))
    with pytest.raises(IllegalTrackingTransition), uow() as s:
        ful.record_tracking_event(s, shipment_id=shipment_id, status="out_for_delivery")
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == before
        assert s.get(Shipment, shipment_id).status == "created"
