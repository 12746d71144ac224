"""complete_orders: the same rows, events and subscriber effects (cashback, referral rewards)
as complete_order on each item in order, refusals alone and writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import now, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.members import service as members
from shopops.members.models import Customer
from shopops.orders import service as orders
from shopops.orders.models import Order
from shopops.orders.service.moves_bulk import OrderState
from shopops.promotions import service as promotions
from shopops.promotions.schemas import PromotionCreate

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("sales_order", "cashback_credit", "points_entry", "customer", "coupon")


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0)
    promo = promotions.create_promotion(
        s,
        spec=PromotionCreate(
            name="返现", kind="cashback", params={"amount": 500}, combines_with=["order", "product"]
        ),
    )
    promotions.change_status(s, promotion_id=promo.id, action="activate")
    referrer = f.customer(s)
    code = members.referral_code(s, customer_id=referrer.id)
    newbie = members.register_customer(s, phone="13912345678", referral_code=code)
    members.add_address(s, customer_id=newbie.id, recipient="新客", phone="13912345678",
                        province="上海", city="上海", detail="1 号")  # fmt: skip
    delivered = [f.delivered_order(s).id for _ in range(4)]
    delivered.append(f.delivered_order(s, cust=newbie).id)
    paid = f.paid_order(s).id
    return {"delivered": delivered, "paid": paid}


def _items(built: dict[str, Any]) -> list[tuple[int, dt.datetime]]:
    d = built["delivered"]
    hours = [T0 + dt.timedelta(hours=h) for h in range(1, 9)]
    return [
        (d[0], hours[0]),
        (built["paid"], hours[1]),  # not delivered: refused
        (d[4], hours[2]),  # the referred customer's first order: both sides rewarded
        (d[1], hours[3]),
        (10**6, hours[4]),  # no such order
        (d[0], hours[5]),  # completed just before
        (d[2], hours[6]),
        (d[3], hours[7]),
    ]


def _outcome(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ShopOpsError) else r.status for r in results]


def test_complete_orders_equals_complete_order_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built)
    single: list[Any] = []
    with session_scope(a) as s:
        for order_id, at in items:
            set_clock(s, at)
            try:
                single.append(orders.complete_order(s, order_id=order_id))
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = orders.complete_orders(s, items=items)
        assert now(s) == T0  # the caller's clock is left as it was
        bulk_codes = _outcome(bulk)
    assert (
        bulk_codes
        == single_codes
        == [
            "completed",
            "illegal_transition",
            "completed",
            "completed",
            "order_not_found",
            "illegal_transition",
            "completed",
            "completed",
        ]
    )
    assert isinstance(bulk[0], OrderState) and bulk[0].completed_at == items[0][1]
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    names = [e[0] for e in sb["outbox_event"]]
    assert names.count("order.completed") == 5
    assert names.count("cashback.granted") == 5
    assert names.count("referral.rewarded") == 1


def test_loaded_orders_are_not_stale_and_refusals_write_nothing(uow):
    with uow() as s:
        set_clock(s, T0)
        done = f.delivered_order(s)
        paid = f.paid_order(s)
        assert done.status == "delivered"  # loaded in this session
        results = orders.complete_orders(
            s, items=[(done.id, T0), (paid.id, T0 + dt.timedelta(hours=1))]
        )
        assert _outcome(results) == ["completed", "illegal_transition"]
        assert done.status == "completed" and done.completed_at == T0
        rows = s.execute(select(Order.status, Order.completed_at).where(Order.id == paid.id))
        assert rows.one() == ("paid", None)
    assert orders.complete_orders(s, items=[]) == []


def test_naive_times_are_refused(uow):
    with uow() as s, pytest.raises(ValueError):
        orders.complete_orders(s, items=[(1, dt.datetime(2026, 6, 18))])


def _referral_store(s: Session) -> dict[str, Any]:
    """R refers A and B, A refers C; R holds points already; A completes two orders."""
    set_clock(s, T0)
    r = f.customer(s)
    members.adjust_points(s, customer_id=r.id, amount=300, reason="seed", ref="seed")
    people: dict[str, int] = {"r": r.id}
    for name, phone, by in (("a", "13912340001", "r"), ("b", "13912340002", "r"),
                            ("c", "13912340003", "a")):  # fmt: skip
        code = members.referral_code(s, customer_id=people[by])
        cust = members.register_customer(s, phone=phone, referral_code=code)
        members.add_address(s, customer_id=cust.id, recipient=name, phone=phone,
                            province="上海", city="上海", detail="1 号")  # fmt: skip
        people[name] = cust.id
    orders_of = {
        key: f.delivered_order(s, cust=s.get(Customer, people[key[0]])).id
        for key in ("a1", "a2", "b1", "c1", "r1")
    }
    return {"people": people, "orders": orders_of}


def test_referral_rewards_in_bulk_equal_one_by_one(twins):  # noqa: F811
    """Chained referrals in one batch: balances follow each other, a second order of a
    rewarded customer rewards nothing, a loaded customer shows its new balance."""
    a, b, built = twins(_referral_store)
    o = built["orders"]
    items = [
        (o[k], T0 + dt.timedelta(hours=h)) for h, k in enumerate(("c1", "a1", "b1", "a2", "r1"), 1)
    ]
    with session_scope(a) as s:
        for order_id, at in items:
            set_clock(s, at)
            orders.complete_order(s, order_id=order_id)
    with session_scope(b) as s:
        set_clock(s, T0)
        held = s.get(Customer, built["people"]["a"])
        assert held is not None and held.referral_rewarded is False
        orders.complete_orders(s, items=items)
        fresh = s.execute(
            select(Customer.points_balance, Customer.referral_rewarded).where(
                Customer.id == held.id
            )
        ).one()
        assert (held.points_balance, held.referral_rewarded) == tuple(fresh)
        assert fresh.referral_rewarded is True
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    names = [e[0] for e in sb["outbox_event"]]
    assert names.count("referral.rewarded") == 3
    assert names.count("points.earned") >= 6
