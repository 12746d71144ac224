"""The discount hook's shortcut: a cart below every promotion's minimum spend or units, with no
code presented, is priced without the engine — to exactly what the engine would give."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from tests.promotions.store import make_promotion, percent, spend_save

from shopops.db import session_scope, set_clock, utcnow
from shopops.errors import ShopOpsError
from shopops.orders import service as orders
from shopops.promotions.service import checkout


def _previews(engine, shop) -> list:
    a, b, c = shop.skus
    carts = [[(a, 1)], [(a, 2)], [(a, 1), (b, 1)], [(a, 3), (b, 2)], [(c, 4)], [(a, 2), (c, 1)]]
    with session_scope(engine, readonly=True) as s:
        return [orders.preview_checkout(s, customer_id=shop.customer_id, lines=x) for x in carts]


@pytest.mark.parametrize("units", [0, 3])
def test_out_of_reach_carts_price_as_the_engine_prices_them(engine, shop, monkeypatch, units):
    make_promotion(engine, **spend_save(9000, 1000), combines_with=["order", "shipping"])
    make_promotion(engine, **percent(500, conditions={"min_spend": 12000, "min_quantity": units}))
    taken = []
    real = checkout._out_of_reach
    monkeypatch.setattr(checkout, "_out_of_reach", lambda *a: taken.append(real(*a)) or taken[-1])
    fast = _previews(engine, shop)
    monkeypatch.setattr(checkout, "_out_of_reach", lambda *a: False)
    slow = _previews(engine, shop)
    assert fast == slow
    assert any(taken) and not all(taken)  # both sides of the shortcut were seen
    assert any(p.discount_total for p in slow)


def test_out_of_reach_needs_every_promotion_out_of_reach(engine, shop):
    make_promotion(engine, **spend_save(100000, 1000))
    make_promotion(engine, **percent(500))  # no minimum: always in reach
    for lines in itertools.islice(itertools.permutations(shop.skus, 2), 3):
        with session_scope(engine, readonly=True) as s:
            priced = orders.preview_checkout(
                s, customer_id=shop.customer_id, lines=[(x, 1) for x in lines]
            )
        assert priced.discount_total == 300  # 5% of ¥60


def test_automatic_promotions_outside_their_dates_are_left_out_as_the_engine_drops_them(
    engine, shop, monkeypatch
):
    t = utcnow().replace(microsecond=0)
    hour = dt.timedelta(hours=1)
    make_promotion(engine, **spend_save(9000, 1000), combines_with=["order", "shipping"])
    make_promotion(engine, **percent(500), starts_at=t - hour, ends_at=t + hour)  # a past day
    make_promotion(
        engine, **percent(300, conditions={"new_customers_only": True}), ends_at=t + hour
    )
    make_promotion(engine, **percent(200), starts_at=t + 3 * hour, ends_at=t + 5 * hour)
    make_promotion(engine, **percent(100), code="LATER", starts_at=t + 3 * hour)
    a, b, c = shop.skus
    carts = [[(a, 1)], [(a, 3), (b, 2)], [(c, 4)], [(a, 2), (c, 1)]]

    def previews() -> list:
        out = []
        for at in (t + 2 * hour, t + 4 * hour):
            for lines in carts:
                for codes in ((), ("LATER",)):
                    with session_scope(engine, readonly=True) as s:
                        set_clock(s, at)
                        try:
                            out.append(
                                orders.preview_checkout(
                                    s, customer_id=shop.customer_id, lines=lines, coupon_codes=codes
                                )
                            )
                        except ShopOpsError as exc:
                            out.append((exc.code, exc.details))
        return out

    taken = []
    real = checkout._off_hours
    monkeypatch.setattr(checkout, "_off_hours", lambda *a: taken.append(real(*a)) or taken[-1])
    fast = previews()
    monkeypatch.setattr(checkout, "_off_hours", lambda *a: False)
    slow = previews()
    assert fast == slow
    assert any(taken) and not all(taken)
    assert any(isinstance(p, tuple) for p in slow)  # the dated code refused before it starts
    assert any(not isinstance(p, tuple) and p.discount_total for p in slow)
