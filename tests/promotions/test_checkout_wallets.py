"""usable_coupons and points_balances: the simulator's wallet and balance reads for a window of
shoppers, against `wallet` and `balance` called on each shopper with the clock at their moment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from tests import factories as f
from tests.promotions.store import coupon_promotion, make_template, percent

from shopops.db import session_scope, set_clock
from shopops.members import service as members
from shopops.members.service.checkout_bulk import points_balances
from shopops.promotions import service
from shopops.promotions.models import Coupon, CouponStatus
from shopops.promotions.service.checkout_wallets import usable_coupons

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)


def _first_usable(s, customer_id: int, at: dt.datetime) -> str | None:
    set_clock(s, at)
    return next(
        (c.code for c, _, usable in service.wallet(s, customer_id=customer_id) if usable), None
    )


def test_usable_coupons_pick_what_the_wallet_offers(engine, shop):
    pid, tid = coupon_promotion(engine, **percent(1000))
    short = make_template(engine, pid, valid_days=1, per_customer=5)
    paused, paused_tid = coupon_promotion(engine, **percent(500))
    with session_scope(engine) as s:
        set_clock(s, T0)
        people = [f.customer(s) for _ in range(5)]
        s.flush()
        ids = [c.id for c in people]
        a, b, c, d, _none = ids
        service.issue_coupon(s, template_id=tid, customer_id=a, reason="t")
        service.issue_coupon(s, template_id=short, customer_id=a, reason="t")  # newest, 1 day
        service.issue_coupon(s, template_id=short, customer_id=b, reason="t")
        used = service.issue_coupon(s, template_id=tid, customer_id=c, reason="t")
        service.issue_coupon(s, template_id=paused_tid, customer_id=d, reason="t")
        service.issue_coupon(s, template_id=tid, customer_id=d, reason="t")
        service.issue_coupon(s, template_id=paused_tid, customer_id=d, reason="t")
        s.execute(update(Coupon).where(Coupon.id == used.id).values(status=CouponStatus.REDEEMED))
        service.change_status(s, promotion_id=paused, action="pause")
        s.flush()
        wanted = [
            (who, T0 + dt.timedelta(hours=h))
            for h in (-1, 0, 3, 30, 24 * 400)
            for who in [*ids, a, 10**6]
        ]
        expected = [_first_usable(s, who, at) for who, at in wanted]
        assert usable_coupons(s, wanted=wanted) == expected
        assert any(expected) and None in expected
        assert usable_coupons(s, wanted=[]) == []


def test_points_balances_are_the_balances(engine, shop):
    with session_scope(engine) as s:
        people = [f.customer(s) for _ in range(3)]
        s.flush()
        members.adjust_points(s, customer_id=people[0].id, amount=700, reason="t", ref="t:1")
        got = points_balances(s, customer_ids=[p.id for p in people] + [people[0].id, 10**6])
        assert got == {p.id: members.balance(s, customer_id=p.id) for p in people}
        assert got[people[0].id] == 700
        assert points_balances(s, customer_ids=[]) == {}
