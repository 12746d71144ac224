"""record_refunds_on_many: the same orders, lines and events as record_refund_on on each
locked order at its moment; a refund the order cannot take is refused for the batch."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import session_scope, set_clock
from shopops.orders import service as orders
from shopops.orders.errors import InvalidRefund
from shopops.orders.service.lifecycle import record_refund_on
from shopops.orders.service.refunded_bulk import RefundOn, record_refunds_on_many

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("sales_order", "order_line")


def _store(s: Session) -> list[int]:
    set_clock(s, T0 - dt.timedelta(hours=1))
    return [f.paid_order(s, quantity=2, skus=1 + k % 2).id for k in range(3)]


def _items(s: Session, ids: list[int]) -> list[RefundOn]:
    items = []
    for k, order_id in enumerate(ids):
        order = orders.get_order(s, order_id=order_id, for_update=True, details=True)
        line = order.lines[0]
        # The first order gives everything back (shipping too): refunded, the others partially.
        units = {x.id: (x.quantity, x.total) for x in order.lines} if k == 0 else {line.id: (1, 1)}
        shipping = order.shipping_fee if k == 0 else 0
        items.append(RefundOn(order, units, shipping, T0 + dt.timedelta(minutes=k)))
    return items


def test_record_refunds_on_many_equals_record_refund_on_one_by_one(twins):  # noqa: F811
    a, b, ids = twins(_store)
    with session_scope(a) as s:
        for item in _items(s, ids):
            set_clock(s, item.at)
            record_refund_on(
                s, item.order, line_refunds=item.line_refunds, shipping_refund=item.shipping_refund
            )
    with session_scope(b) as s:
        done = record_refunds_on_many(s, _items(s, ids))
        assert [o.status for o in done] == ["refunded", "partially_refunded", "partially_refunded"]
    assert snapshot(a, TABLES) == snapshot(b, TABLES)


def test_a_refund_beyond_a_line_is_refused(session: Session):
    set_clock(session, T0)
    order = orders.get_order(
        session, order_id=f.paid_order(session).id, for_update=True, details=True
    )
    line = order.lines[0]
    with pytest.raises(InvalidRefund):
        record_refunds_on_many(
            session, [RefundOn(order, {line.id: (line.quantity + 1, line.total)}, 0, T0)]
        )
    assert record_refunds_on_many(session, []) == []
