"""The set-based parts of a bulk payment on their own: the members' `order.paid` twin, the
orders' `mark_orders_paid` and inventory's `commit_reservations_many` — replays and repeats
change nothing, refusals are the single calls' refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.events import OutboxEvent
from shopops.inventory.models import Reservation, StockMovement
from shopops.inventory.service.settle_bulk import commit_reservations_many
from shopops.members.errors import CustomerNotFound
from shopops.members.models import PointsEntry
from shopops.members.service.paid_bulk import PaidOrder, record_orders_paid
from shopops.orders.errors import AmountMismatch, OrderNotFound, OrderTransitionRefused
from shopops.orders.service.paid_bulk import mark_orders_paid, payable_orders

AT = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)


def _count(session: Session, model: type, *where: object) -> int:
    session.flush()
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_replayed_or_repeated_order_earns_once(session: Session):
    cust = f.customer(session)
    paid = PaidOrder(order_id=77, customer_id=cust.id, paid_amount=12000, items_paid=11000, at=AT)
    record_orders_paid(session, orders=[paid, paid])
    record_orders_paid(session, orders=[paid])
    [entry] = session.scalars(select(PointsEntry).where(PointsEntry.order_id == 77))
    assert (entry.kind, entry.amount, entry.growth, entry.balance_after) == ("earn", 110, 120, 110)
    assert entry.created_at == AT and entry.expires_at == dt.datetime(2027, 6, 18, 2, tzinfo=dt.UTC)
    assert cust.paid_orders == 1 and cust.total_paid == 12000 and cust.points_balance == 110
    assert _count(session, OutboxEvent, OutboxEvent.name == "points.earned") == 1


def test_an_unknown_customer_is_refused(session: Session):
    with pytest.raises(CustomerNotFound):
        record_orders_paid(
            session, orders=[PaidOrder(1, 10**6, paid_amount=100, items_paid=100, at=AT)]
        )


def test_mark_orders_paid_refuses_as_mark_paid_does(session: Session):
    order = f.placed_order(session)
    with pytest.raises(AmountMismatch):
        mark_orders_paid(session, payments=[(order.id, order.total - 1, AT)])
    with pytest.raises(OrderNotFound):
        mark_orders_paid(session, payments=[(10**6, 100, AT)])
    with pytest.raises(OrderTransitionRefused):
        mark_orders_paid(
            session, payments=[(order.id, order.total, AT), (order.id, order.total, AT)]
        )
    mark_orders_paid(session, payments=[(order.id, order.total, AT)])
    assert order.status == "paid" and order.paid_at == AT
    assert payable_orders(session, order_ids=[order.id, 10**6])[order.id].status == "paid"


def test_a_ref_committed_twice_sells_once(session: Session):
    order = f.placed_order(session, quantity=2, skus=2)
    ref = ("order", str(order.id), AT)
    before = f.stock_levels(session)
    commit_reservations_many(session, refs=[ref, ref])
    commit_reservations_many(session, refs=[ref])
    after = f.stock_levels(session)
    assert {k: (before[k][0] - v[0], before[k][1] - v[1]) for k, v in after.items()} == {
        k: (2, 2) for k in after
    }
    assert _count(session, StockMovement, StockMovement.reason == "sale") == 2
    statuses = session.scalars(select(Reservation.status).where(Reservation.ref_id == ref[1]))
    assert set(statuses) == {"committed"}
    f.assert_stock_ledger(session)
