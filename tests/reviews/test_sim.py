"""The simulator's reviewers: the shares the brief asks for, and reviews written through the
service (pre-check, lower stars after a quality return)."""

from __future__ import annotations

import datetime as dt
import random
from statistics import mean

import pytest

from shopops.aftersales import service as aftersales
from shopops.db import set_clock
from shopops.sim import reviews as sim_reviews
from tests import factories as f

AT = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)


def test_plans_follow_the_shares():
    rng = random.Random(3)
    kept = [
        sim_reviews.plan_review(rng, persona_code="student", category="chargers")
        for _ in range(4000)
    ]
    assert mean(p.rating >= 4 for p in kept) > 0.8
    assert 0.26 < mean(p.photos > 0 for p in kept) < 0.34
    assert all(p.content == "" or "，" in p.content or "。" in p.content for p in kept)
    faulty = [
        sim_reviews.plan_review(rng, persona_code="student", category="chargers", outcome="faulty")
        for _ in range(2000)
    ]
    returned = [
        sim_reviews.plan_review(rng, persona_code="x", category="", outcome="returned")
        for _ in range(2000)
    ]
    assert (
        mean(p.rating for p in faulty)
        < mean(p.rating for p in returned)
        < mean(p.rating for p in kept)
    )
    chances = [sim_reviews.review_chance(c) for c in ("student", "gift_buyer", "tech_enthusiast")]
    assert all(0.25 <= c <= 0.35 for c in chances)


def test_about_three_orders_in_ten_are_reviewed(session):
    rng = random.Random(11)
    set_clock(session, AT)
    orders = [f.delivered_order(session) for _ in range(60)]
    written = [
        sim_reviews.write_reviews(
            session, rng, order_id=o.id, customer_id=o.customer_id,
            persona_code="office_worker", at=AT + dt.timedelta(days=5),
        )
        for o in orders
    ]  # fmt: skip
    reviewed = sum(1 for w in written if w)
    assert 8 <= reviewed <= 30
    for batch in written:
        for review in batch:
            assert review.created_at == AT + dt.timedelta(days=5)
            assert review.status in {"published", "pending"}
    assert session.info["now"] == AT  # the caller's clock is left as it was


@pytest.fixture
def always(monkeypatch):
    monkeypatch.setattr(sim_reviews, "REVIEW_CHANCE", {})
    monkeypatch.setattr(sim_reviews, "DEFAULT_CHANCE", 1.0)


def test_faulty_returns_review_low_and_twice_writes_nothing(session, always):
    set_clock(session, AT)
    stars = []
    for seed in range(12):
        order = f.delivered_order(session)
        aftersales.request_return(
            session, customer_id=order.customer_id, order_number=order.number,
            kind="return", lines=[(order.lines[0].id, 1)], no_reason=False, reason="质量问题",
        )  # fmt: skip
        rng = random.Random(seed)
        (review,) = sim_reviews.write_reviews(
            session, rng, order_id=order.id, customer_id=order.customer_id,
            persona_code="student", at=AT,
        )  # fmt: skip
        stars.append(review.rating)
        again = sim_reviews.write_reviews(
            session, rng, order_id=order.id, customer_id=order.customer_id,
            persona_code="student", at=AT,
        )  # fmt: skip
        assert again == []
    assert mean(stars) < 3


def test_an_undelivered_order_is_not_reviewed(session, always):
    order = f.paid_order(session)
    written = sim_reviews.write_reviews(
        session, random.Random(1), order_id=order.id, customer_id=order.customer_id,
        persona_code="student", at=AT,
    )  # fmt: skip
    assert written == []
