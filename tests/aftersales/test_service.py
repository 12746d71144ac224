"""Return and exchange use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests import factories as f

from shopops.aftersales import service as aftersales
from shopops.aftersales.errors import (
    IllegalReturnTransition,
    OrderNotReturnable,
    ReturnNotFound,
    ReturnQuantityExceeded,
    ReturnWindowClosed,
)
from shopops.db import set_clock
from shopops.events import OutboxEvent
from shopops.fulfillment import service as fulfillment
from shopops.fulfillment.models import Shipment
from shopops.inventory import service as inventory
from shopops.orders.errors import OrderNotFound
from shopops.payments import service as payments
from shopops.payments.models import Refund
from shopops.verify import run_checks

BEIJING = dt.timezone(dt.timedelta(hours=8))
DELIVERED = dt.datetime(2026, 6, 1, 15, 0, tzinfo=BEIJING)


def _names(session, aggregate_id: int) -> list[str]:
    session.flush()
    stmt = (
        select(OutboxEvent.name)
        .where(
            OutboxEvent.aggregate_type == "return", OutboxEvent.aggregate_id == str(aggregate_id)
        )
        .order_by(OutboxEvent.seq)
    )
    return list(session.scalars(stmt))


def _delivered(session, **kwargs):
    set_clock(session, DELIVERED)
    order = f.delivered_order(session, **kwargs)
    set_clock(session, DELIVERED + dt.timedelta(days=3))
    return order


def _request(session, order, *, quantity=1, line=0, **kwargs):
    return aftersales.request_return(
        session,
        customer_id=order.customer_id,
        order_number=order.number,
        kind=kwargs.pop("kind", "return"),
        lines=[(order.lines[line].id, quantity)],
        **kwargs,
    )


def test_a_no_reason_return_inside_seven_days(session):
    order = _delivered(session, quantity=2)
    request = _request(session, order)
    assert (request.status, request.kind, request.no_reason) == ("requested", "return", True)
    assert [(x.order_line_id, x.quantity) for x in request.lines] == [(order.lines[0].id, 1)]
    assert _names(session, request.id) == ["return.requested"]
    event = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "return.requested")).one()
    assert event.payload["lines"] == [
        {"order_line_id": order.lines[0].id, "sku_id": order.lines[0].sku_id, "quantity": 1}
    ]


def test_outside_seven_days_only_a_quality_return_is_accepted(session):
    order = _delivered(session, quantity=2)
    # Delivered 1 June (Beijing): the 7 days run 2–8 June.
    set_clock(session, dt.datetime(2026, 6, 9, 0, 0, tzinfo=BEIJING))
    with pytest.raises(ReturnWindowClosed) as err:
        _request(session, order)
    assert err.value.details["deadline"] == "2026-06-08T16:00:00+00:00"
    quality = _request(session, order, no_reason=False, reason="屏幕有坏点")
    assert quality.no_reason is False
    set_clock(session, dt.datetime(2026, 6, 17, 0, 0, tzinfo=BEIJING))
    with pytest.raises(ReturnWindowClosed) as late:
        _request(session, order, no_reason=False, reason="坏了")
    assert late.value.details["window_days"] == 15


def test_quantities_beyond_what_is_left_are_refused(session):
    order = _delivered(session, quantity=2)
    first = _request(session, order, quantity=2)
    with pytest.raises(ReturnQuantityExceeded) as err:
        _request(session, order, quantity=1)
    assert err.value.status_code == 422
    assert err.value.details == {
        "order_line_id": order.lines[0].id,
        "requested": 1,
        "returnable": 0,
    }
    aftersales.reject_return(session, return_id=first.id, reason="已拆封影响二次销售")
    assert _request(session, order, quantity=2).status == "requested"


def test_units_refunded_without_a_return_cannot_be_returned(session):
    order = _delivered(session, quantity=2)
    payments.refund_order(
        session, order_id=order.id, lines=[(order.lines[0].id, 1)], gateway=f.gateway()
    )
    with pytest.raises(ReturnQuantityExceeded):
        _request(session, order, quantity=2)
    assert _request(session, order, quantity=1).status == "requested"


def test_only_own_delivered_orders_can_be_returned(session):
    paid = f.paid_order(session)
    with pytest.raises(OrderNotReturnable):
        _request(session, paid)
    delivered = _delivered(session)
    stranger = f.customer(session)
    with pytest.raises(OrderNotFound):
        aftersales.request_return(
            session,
            customer_id=stranger.id,
            order_number=delivered.number,
            kind="return",
            lines=[(delivered.lines[0].id, 1)],
        )


def test_receive_restocks_and_refunds(session):
    fulfillment.ensure_default_carriers(session)
    order = _delivered(session, price=3333, quantity=3)
    line = order.lines[0]
    stock_before = inventory.available(session, sku_ids=[line.sku_id])[line.sku_id]
    request = _request(session, order, quantity=2)
    aftersales.approve_return(session, return_id=request.id)
    with pytest.raises(IllegalReturnTransition):
        aftersales.receive_return(session, return_id=request.id, gateway=f.gateway())
    shipped = aftersales.ship_return(
        session,
        customer_id=order.customer_id,
        return_id=request.id,
        carrier_code="sf",
        tracking_number="SF1234567890",
    )
    assert shipped.status == "in_transit"
    parcel = session.get(Shipment, shipped.reverse_shipment_id)
    assert parcel.direction == "return" and parcel.weight_grams == 2 * 200

    done = aftersales.receive_return(session, return_id=request.id, gateway=f.gateway())
    assert done.status == "refunded" and done.received_at is not None
    refund = session.get(Refund, done.refund_id)
    assert refund.return_id == request.id and refund.amount == 3333 * 2
    assert line.refunded_quantity == 2 and order.status == "partially_refunded"
    assert inventory.available(session, sku_ids=[line.sku_id])[line.sku_id] == stock_before + 2
    assert _names(session, request.id) == [
        "return.requested",
        "return.approved",
        "return.received",
        "return.refunded",
    ]
    with pytest.raises(IllegalReturnTransition):
        aftersales.receive_return(session, return_id=request.id, gateway=f.gateway())
    # The last unit can still come back; the order is then fully refunded.
    last = _request(session, order, quantity=1)
    assert last.status == "requested"


def test_an_exchange_is_recorded_without_refund_or_stock_movement(session):
    fulfillment.ensure_default_carriers(session)
    order = _delivered(session)
    line = order.lines[0]
    request = _request(session, order, kind="exchange", no_reason=False, reason="尺码不对")
    aftersales.approve_return(session, return_id=request.id)
    aftersales.ship_return(
        session, customer_id=order.customer_id, return_id=request.id, carrier_code="zto"
    )
    stock = inventory.available(session, sku_ids=[line.sku_id])
    done = aftersales.receive_return(session, return_id=request.id)
    assert done.status == "exchanged" and done.refund_id is None
    assert inventory.available(session, sku_ids=[line.sku_id]) == stock
    assert session.scalar(select(func.count()).select_from(Refund)) == 0
    assert _names(session, request.id)[-2:] == ["return.received", "return.exchanged"]


def test_illegal_moves_and_other_shoppers_are_refused(session):
    order = _delivered(session)
    request = _request(session, order)
    with pytest.raises(IllegalReturnTransition):
        aftersales.ship_return(
            session, customer_id=order.customer_id, return_id=request.id, carrier_code="sf"
        )
    aftersales.reject_return(session, return_id=request.id, reason="no")
    with pytest.raises(IllegalReturnTransition) as err:
        aftersales.approve_return(session, return_id=request.id)
    assert err.value.code == "illegal_transition"
    stranger = f.customer(session)
    with pytest.raises(ReturnNotFound):
        aftersales.get_customer_return(session, customer_id=stranger.id, return_id=request.id)
    with pytest.raises(ReturnNotFound):
        aftersales.approve_return(session, return_id=9999)


def test_queue_lists_by_status(session):
    order = _delivered(session, quantity=3)
    one = _request(session, order)
    two = _request(session, order)
    aftersales.approve_return(session, return_id=two.id)
    assert [r.id for r in aftersales.list_returns(session)] == [one.id, two.id]
    assert [r.id for r in aftersales.list_returns(session, status="approved")] == [two.id]
    mine = aftersales.list_returns(session, customer_id=order.customer_id)
    assert [r.id for r in mine] == [two.id, one.id]


def test_invariants_hold_after_a_return(engine, uow):
    with uow() as s:
        fulfillment.ensure_default_carriers(s)
        order = _delivered(s, price=2999, quantity=3)
        request = _request(s, order, quantity=3)
        aftersales.approve_return(s, return_id=request.id)
        aftersales.ship_return(
            s, customer_id=order.customer_id, return_id=request.id, carrier_code="jd"
        )
        aftersales.receive_return(s, return_id=request.id, gateway=f.gateway())
        assert order.status == "partially_refunded"  # the shipping fee was not refunded
    assert [(r.check.name, r.examples) for r in run_checks(engine) if not r.ok] == []
