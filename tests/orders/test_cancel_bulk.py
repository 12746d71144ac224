"""cancel_orders: the same rows, events and subscriber effects (stock released, redeemed points
given back) as cancel_order on each item in order, refusals alone and writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import now, session_scope, set_clock
from shopops.errors import InvalidInput, ShopOpsError
from shopops.members.service import adjust_points
from shopops.orders import service as orders
from shopops.orders.models import Order
from shopops.orders.service.moves_bulk import OrderState, cancel_orders

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
REASON = "支付超时 / payment timed out"
TABLES = (
    "sales_order",
    "reservation",
    "stock_level",
    "stock_movement",
    "points_entry",
    "customer",
)


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(hours=1))
    pending = [f.placed_order(s, quantity=q, skus=1 + q % 2).id for q in (1, 2, 3)]
    saver = f.customer(s)
    adjust_points(s, customer_id=saver.id, amount=1000, reason="test", ref="seed")
    prod = f.product(s, price=19900, stock=10)
    with_points = orders.place_order(
        s, customer_id=saver.id, lines=[(prod.skus[0].id, 1)], points=500
    )
    paid = f.paid_order(s).id
    return {"pending": pending, "points": with_points.id, "paid": paid}


def _items(built: dict[str, Any]) -> list[tuple[int, dt.datetime]]:
    p = built["pending"]
    hours = [T0 + dt.timedelta(minutes=10 * k) for k in range(1, 8)]
    return [
        (p[0], hours[0]),
        (built["paid"], hours[1]),  # paid: refused (refunded instead)
        (built["points"], hours[2]),  # its redeemed points come back
        (10**6, hours[3]),  # no such order
        (p[0], hours[4]),  # cancelled just before
        (p[2], hours[5]),
        (p[1], hours[6]),
    ]


def _outcome(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ShopOpsError) else r.status for r in results]


def test_cancel_orders_equals_cancel_order_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built)
    single: list[Any] = []
    with session_scope(a) as s:
        for order_id, at in items:
            set_clock(s, at)
            try:
                single.append(orders.cancel_order(s, order_id=order_id, reason=REASON))
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = cancel_orders(s, items=items, reason=REASON)
        assert now(s) == T0  # the caller's clock is left as it was
        bulk_codes = _outcome(bulk)
    assert (
        bulk_codes
        == single_codes
        == [
            "cancelled",
            "illegal_transition",
            "cancelled",
            "order_not_found",
            "illegal_transition",
            "cancelled",
            "cancelled",
        ]
    )
    assert isinstance(bulk[0], OrderState)
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    names = [e[0] for e in sb["outbox_event"]]
    assert names.count("order.cancelled") == 4
    assert [e["kind"] for e in sb["points_entry"]].count("return") == 1  # the 500 came back


def test_loaded_orders_are_not_stale_and_refusals_write_nothing(uow):
    with uow() as s:
        set_clock(s, T0)
        pending = f.placed_order(s)
        paid = f.paid_order(s)
        assert pending.status == "pending_payment"  # loaded in this session
        results = cancel_orders(
            s, items=[(pending.id, T0), (paid.id, T0 + dt.timedelta(hours=1))], reason=REASON
        )
        assert _outcome(results) == ["cancelled", "illegal_transition"]
        assert pending.status == "cancelled" and pending.cancelled_at == T0
        assert pending.cancel_reason == REASON
        rows = s.execute(select(Order.status, Order.cancelled_at).where(Order.id == paid.id))
        assert rows.one() == ("paid", None)
    assert cancel_orders(s, items=[], reason=REASON) == []


def test_bad_reasons_and_naive_times_are_refused(uow):
    with uow() as s:
        with pytest.raises(InvalidInput):
            cancel_orders(s, items=[], reason=" ")
        with pytest.raises(ValueError):
            cancel_orders(s, items=[(1, dt.datetime(2026, 6, 18))], reason=REASON)
