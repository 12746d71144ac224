"""A window's buyers at the till: sign-ups, the coupons and points they bring, their orders.

What one shopper does (`checkout`'s steps) is as before: a visitor whose main item is sold
out leaves; a new one registers; a refused coupon or points are dropped and the order tried
again without them. The store sees the window's buyers in three bulk calls (`sim.bulk`):
the sign-ups, the orders, the retries.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.inventory import service as inventory
from shopops.members import rules as member_rules
from shopops.sim import bulk, personas
from shopops.sim import promotions as sim_promotions
from shopops.sim.visit import Visit, order_events

if TYPE_CHECKING:
    from shopops.sim.engine import DayRun

STOCK_REFUSAL = "out_of_stock"


def checkout(run: DayRun, session: Session, buyers: list[Visit]) -> None:
    if not buyers:
        return
    set_clock(session, buyers[0].checkout_at or buyers[0].start)
    skus = sorted({sku for v in buyers for sku, _ in v.basket})
    stock = inventory.available(session, sku_ids=skus)
    ready: list[tuple[Visit, tuple[tuple[int, int], ...]]] = []
    for visit in buyers:
        lines = tuple((sku, q) for sku, q in visit.basket if stock.get(sku, 0) >= q)
        if not lines or lines[0][0] != visit.basket[0][0]:
            run.truth.lost_to_stockout += 1  # the item they came for is sold out: they leave
            continue
        for sku, q in lines:
            stock[sku] -= q
        ready.append((visit, lines))
    _sign_up(run, session, [v for v, _ in ready if v.customer_id is None])
    shopping = [(v, lines) for v, lines in ready if v.customer_id is not None]
    shoppers = []
    for visit, _lines in shopping:
        assert visit.checkout_at is not None and visit.customer_id is not None
        shoppers.append((visit.persona, visit.customer_id, visit.returning, visit.checkout_at))
    first = [
        bulk.Checkout(at, cid, lines, tuple(codes), points)
        for (_p, cid, _r, at), (_v, lines), (codes, points) in zip(
            shoppers, shopping, sim_promotions.offers_many(session, run.rng, shoppers), strict=True
        )
    ]
    if first:
        set_clock(session, first[-1].at)  # where the shopper-by-shopper loop left the clock
    results = bulk.place(session, first)
    again: list[int] = []
    for i, result in enumerate(results):
        if isinstance(result, ShopOpsError):
            _count(run, f"checkout:{result.code}")
            if result.code != STOCK_REFUSAL and (first[i].coupon_codes or first[i].points):
                again.append(i)
    plain = [bulk.Checkout(first[i].at, first[i].customer_id, first[i].lines) for i in again]
    for i, result in zip(again, bulk.place(session, plain) if plain else [], strict=True):
        if isinstance(result, ShopOpsError):
            _count(run, f"checkout:{result.code}")
        results[i] = result
    for (visit, lines), result in zip(shopping, results, strict=True):
        if isinstance(result, ShopOpsError):
            run.outcome.skipped += 1
        else:
            _placed(run, visit, lines, result)


def _count(run: DayRun, key: str) -> None:
    run.outcome.errors[key] = run.outcome.errors.get(key, 0) + 1


def _sign_up(run: DayRun, session: Session, visits: list[Visit]) -> None:
    s = run.state
    signups: list[bulk.Signup] = []
    for visit in visits:
        at = visit.checkout_at or visit.start
        s.registered += 1
        profile = personas.make_profile(run.rng, visit.persona, s.registered)
        referral = None
        if visit.channel == "referral" and s.customers and run.rng.random() < 0.7:
            referrer = run.rng.choice(list(s.customers))
            referral = member_rules.referral_code(referrer)  # the code on the friend's share card
        detail = (
            f"{run.rng.randint(1, 300)}号 {run.rng.randint(1, 30)}栋 {run.rng.randint(101, 2808)}"
        )
        signup = bulk.Signup(
            at=at, name=profile.name, phone=profile.phone, gender=profile.gender,
            birthday=profile.birthday, region=profile.province, city=profile.city,
            acquisition_channel=visit.channel, address_detail=detail,
            tags=(personas.TAG_PREFIX + visit.persona.code,), referral_code=referral,
        )  # fmt: skip
        signups.append(signup)
    for visit, result in zip(visits, bulk.register(session, signups), strict=True):
        if isinstance(result, ShopOpsError):
            run.outcome.skipped += 1
            continue
        visit.customer_id = result
        visit.new_customer = True
        s.customers[result] = visit.persona.code
        run.truth.new_customers += 1
        run.identities.append((visit.distinct_id, result, visit.checkout_at or visit.start))


def _placed(
    run: DayRun, visit: Visit, lines: tuple[tuple[int, int], ...], placed: bulk.Placed
) -> None:
    s, at = run.state, visit.checkout_at
    assert at is not None and visit.customer_id is not None
    s.orders += 1
    run.truth.orders[visit.channel] = run.truth.orders.get(visit.channel, 0) + 1
    s.truth.persona(visit.persona.code, "orders")
    for sku, q in lines:
        run.sold[sku] = run.sold.get(sku, 0) + q
    s.amounts[placed.order_id] = placed.total
    run.events.extend(order_events(visit, placed.order_id, placed.total, at, None))
    s.pay_visits[placed.order_id] = (visit.distinct_id, visit.customer_id)
    s.order_channel[placed.order_id] = (visit.channel, visit.persona.code, 0)
    s.lifecycle.orders[placed.order_id] = (
        visit.customer_id,
        visit.persona.return_rate,
        personas.pay_channel(run.rng),
    )
    s.lifecycle.schedule(
        at + dt.timedelta(seconds=run.rng.uniform(20, 240)), "pay", placed.order_id, 0
    )
