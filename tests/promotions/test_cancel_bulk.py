"""on_orders_cancelled: a batch of cancelled orders releases what `release_order` one by one
releases (counters, budgets, a campaign, per-customer uses, coupons, the events)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.orders.shop import new_customer
from tests.promotions.store import (
    coupon_for,
    coupon_promotion,
    make_promotion,
    percent,
    place,
    spend_save,
)

from shopops.db import session_scope, set_clock
from shopops.events import OutboxEvent
from shopops.promotions import service
from shopops.promotions.models import Campaign, Coupon, CustomerUsage, PromotionDef, Redemption
from shopops.promotions.schemas import CampaignCreate
from shopops.promotions.service.cancel_bulk import on_orders_cancelled

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 11, 3, tzinfo=dt.UTC)


def _orders(engine: Engine, shop: Any) -> list[int]:
    """Orders of two customers (one with three) under a budgeted campaign promotion, a
    per-customer limited one and coupons; one order claims nothing."""
    with session_scope(engine) as s:
        camp = service.create_campaign(
            s,
            spec=CampaignCreate(
                name="双11",
                starts_at=START,
                ends_at=START + dt.timedelta(days=5000),
                budget_amount=10**6,
                phases=[{"phase": "peak", "starts_at": START, "ends_at": START.replace(year=2033)}],
            ),
        ).id
    auto = make_promotion(
        engine,
        activate=False,
        **spend_save(2000, 100),
        combines_with=["order", "product"],
        limits={"total_uses": 100, "per_customer": 5, "budget_amount": 10**5},
    )
    with session_scope(engine) as s:
        service.attach_promotion(s, campaign_id=camp, promotion_id=auto, phase="peak")
        service.change_status(s, promotion_id=auto, action="activate")
    _, tid = coupon_promotion(engine, **percent(1000), combines_with=["order"])
    other = new_customer(engine)
    placed = []
    for customer, qty, coupon in (
        (shop.customer_id, 1, True),
        (other, 2, True),
        (shop.customer_id, 1, False),
        (shop.customer_id, 2, True),
        (other, 1, False),
    ):
        codes = (coupon_for(engine, tid, customer),) if coupon else ()
        placed.append(place(engine, customer, [(shop.skus[0], qty)], *codes).id)
    return placed


def _state(s: Session) -> tuple[Any, ...]:
    s.flush()
    return (
        [
            (r.id, r.status, r.released_at)
            for r in s.scalars(select(Redemption).order_by(Redemption.id))
        ],
        [
            (p.id, p.used_count, p.spent_amount)
            for p in s.scalars(select(PromotionDef).order_by(PromotionDef.id))
        ],
        [(c.id, c.spent_amount, c.uses_count) for c in s.scalars(select(Campaign))],
        sorted((u.customer_id, u.promotion_id, u.used) for u in s.scalars(select(CustomerUsage))),
        [
            (c.id, c.status, c.order_id, c.redeemed_at, c.release_count)
            for c in s.scalars(select(Coupon).order_by(Coupon.id))
        ],
        [
            (e.name, e.aggregate_id, e.payload, e.occurred_at)
            for e in s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.name.in_(["promotion.released", "coupon.released"]))
                .order_by(OutboxEvent.name, OutboxEvent.seq)
            )
        ],
    )


def _cancelled(order_ids: list[int]) -> list[OutboxEvent]:
    return [
        OutboxEvent(
            id=str(uuid.uuid4()),
            name="order.cancelled",
            occurred_at=T0 + dt.timedelta(minutes=i),
            aggregate_type="order",
            aggregate_id=str(oid),
            payload={"order_id": oid},
        )
        for i, oid in enumerate(order_ids)
    ]


def _run(engine: Engine, release: Callable[[Session, list[OutboxEvent]], None], ids: list[int]):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        trans = conn.begin()
        s = Session(bind=conn, autoflush=False)
        try:
            set_clock(s, T0)
            release(s, _cancelled(ids))
            return _state(s)
        finally:
            s.close()
            trans.rollback()


def _one_by_one(s: Session, cancelled: list[OutboxEvent]) -> None:
    for e in cancelled:
        set_clock(s, e.occurred_at)  # as emit_many runs a handler without a twin
        service.on_order_cancelled(s, e)


def test_bulk_release_equals_one_by_one(engine: Engine, shop: Any) -> None:
    placed = _orders(engine, shop)
    # Twice the same order (a repeat is released once), and one order not cancelled.
    ids = [placed[3], placed[0], placed[1], placed[2], placed[0]]
    one = _run(engine, _one_by_one, ids)
    bulk = _run(engine, on_orders_cancelled, ids)
    assert bulk == one
    redemptions, _, camps, _, coupons, emitted = bulk
    assert {r[1] for r in redemptions} == {"released", "active"}
    assert sum(c[4] for c in coupons) == 3  # the coupons of orders 0, 1 and 3 came back
    assert camps[0][2] >= 0 and len(emitted) > 4


def test_bulk_release_of_orders_without_claims_writes_nothing(engine: Engine, shop: Any) -> None:
    placed = _orders(engine, shop)
    before = _run(engine, lambda s, e: None, [])
    assert _run(engine, on_orders_cancelled, [placed[4] + 1000]) == before
