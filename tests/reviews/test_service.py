"""Review use cases on SQLite and PostgreSQL: who may review what, moderation, 晒单有奖 points
and their reversal, follow-ups, replies, review requests and the product summary."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shopops.db import set_clock
from shopops.errors import InvalidInput
from shopops.events import OutboxEvent
from shopops.members import service as members
from shopops.orders.errors import OrderNotFound
from shopops.reviews import service as reviews
from shopops.reviews.errors import (
    FollowUpClosed,
    FollowUpExists,
    IllegalReviewTransition,
    OrderLineNotFound,
    OrderNotReviewable,
    ReviewExists,
    ReviewRejected,
)
from shopops.reviews.models import ReviewRequest
from tests import factories as f

DELIVERED = dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)
PHOTOS = ["https://img.example.test/1.jpg", "https://img.example.test/2.jpg"]
TEN = [f"https://img.example.test/{i}.jpg" for i in range(10)]
LONG = "充电速度很快，做工也很扎实，出差带着很方便，推荐购买！"  # > 20 characters


def _names(session, review_id: int) -> list[str]:
    session.flush()
    stmt = (
        select(OutboxEvent.name)
        .where(OutboxEvent.aggregate_type == "review", OutboxEvent.aggregate_id == str(review_id))
        .order_by(OutboxEvent.seq)
    )
    return list(session.scalars(stmt))


def _delivered(session, **kwargs):
    set_clock(session, DELIVERED)
    order = f.delivered_order(session, **kwargs)
    set_clock(session, DELIVERED + dt.timedelta(days=2))
    return order


def _review(session, order, *, line=0, **kwargs):
    return reviews.submit_review(
        session,
        customer_id=order.customer_id,
        order_number=order.number,
        order_line_id=order.lines[line].id,
        rating=kwargs.pop("rating", 5),
        **kwargs,
    )


def test_clean_review_with_photos_publishes_and_earns_points(session):
    order = _delivered(session)
    before = members.balance(session, customer_id=order.customer_id)
    review = _review(session, order, content=LONG, photos=PHOTOS, anonymous=True)
    assert review.status == "published" and review.published_at is not None
    assert review.product_id == order.lines[0].product_id and review.photo_count == 2
    assert review.reward_points == reviews.ReviewPolicy().reward_points
    assert members.balance(session, customer_id=order.customer_id) == before + 20
    assert _names(session, review.id) == ["review.submitted", "review.published"]


def test_no_reward_without_photo_or_enough_text(session):
    order = _delivered(session, skus=2)
    first = _review(session, order, content=LONG)
    second = _review(session, order, line=1, content="不错", photos=PHOTOS)
    assert first.status == second.status == "published"
    assert first.reward_points == second.reward_points == 0


def test_flagged_review_waits_then_staff_publish_it(session):
    order = _delivered(session)
    review = _review(session, order, content=LONG + " 加微信领红包", photos=PHOTOS)
    assert review.status == "pending" and review.precheck["banned"] == ["加微信"]
    assert review.reward_points == 0
    assert [r.id for r in reviews.list_reviews(session, status="pending")] == [review.id]
    reviews.publish_review(session, review_id=review.id, by="u_agent")
    assert review.status == "published" and review.moderated_by == "u_agent"
    assert review.reward_points == 20
    with pytest.raises(IllegalReviewTransition):
        reviews.publish_review(session, review_id=review.id)


def test_rejecting_a_published_review_takes_the_reward_back(session):
    order = _delivered(session)
    start = members.balance(session, customer_id=order.customer_id)
    review = _review(session, order, content=LONG, photos=PHOTOS)
    reviews.reject_review(session, review_id=review.id, reason="图片与商品无关", by="u_op")
    assert review.status == "rejected" and review.reject_reason == "图片与商品无关"
    assert review.reward_reversed == 20
    assert members.balance(session, customer_id=order.customer_id) == start
    assert _names(session, review.id)[-1] == "review.rejected"
    with pytest.raises(IllegalReviewTransition):
        reviews.reject_review(session, review_id=review.id, reason="again")
    with pytest.raises(InvalidInput):
        reviews.reject_review(session, review_id=review.id, reason=" ")


def test_reversal_never_overdraws_spent_points(session):
    order = _delivered(session)
    review = _review(session, order, content=LONG, photos=PHOTOS)
    balance = members.balance(session, customer_id=order.customer_id)
    members.adjust_points(
        session, customer_id=order.customer_id, amount=-(balance - 5), reason="spent"
    )
    reviews.reject_review(session, review_id=review.id, reason="广告")
    assert review.reward_reversed == 5
    assert members.balance(session, customer_id=order.customer_id) == 0


def test_who_may_review_what(session):
    order = _delivered(session)
    other = f.customer(session)
    with pytest.raises(OrderNotFound):
        reviews.submit_review(
            session, customer_id=other.id, order_number=order.number,
            order_line_id=order.lines[0].id, rating=5,
        )  # fmt: skip
    with pytest.raises(OrderLineNotFound):
        reviews.submit_review(
            session, customer_id=order.customer_id, order_number=order.number,
            order_line_id=order.lines[0].id + 999, rating=5,
        )  # fmt: skip
    _review(session, order)
    with pytest.raises(ReviewExists):
        _review(session, order, rating=1)
    paid = f.paid_order(session)
    with pytest.raises(OrderNotReviewable):
        _review(session, paid)
    for bad in ({"rating": 0}, {"rating": 6}, {"content": "好" * 501}, {"photos": TEN}):
        with pytest.raises(InvalidInput):
            _review(session, _delivered(session), **{"rating": 4, **bad})


def test_follow_up_window_and_once(session):
    order = _delivered(session, skus=2)
    review = _review(session, order, content="先用用看")
    set_clock(session, DELIVERED + dt.timedelta(days=60))
    reviews.add_follow_up(
        session, customer_id=order.customer_id, review_id=review.id, content="用了两个月依然很好"
    )
    assert review.follow_up == "用了两个月依然很好" and review.followed_up_at is not None
    with pytest.raises(FollowUpExists):
        reviews.add_follow_up(
            session, customer_id=order.customer_id, review_id=review.id, content="再追一次"
        )
    late = _review(session, order, line=1)
    set_clock(session, DELIVERED + dt.timedelta(days=300))
    with pytest.raises(FollowUpClosed):
        reviews.add_follow_up(
            session, customer_id=order.customer_id, review_id=late.id, content="太晚了"
        )


def test_flagged_follow_up_sends_the_review_back_to_the_queue(session):
    order = _delivered(session)
    review = _review(session, order, content="还不错")
    assert review.status == "published"
    reviews.add_follow_up(
        session, customer_id=order.customer_id, review_id=review.id, content="好评返现骗人"
    )
    assert review.status == "pending" and review.published_at is None
    assert review.precheck["follow_up"]["banned"] == ["好评返现"]


def test_reply_and_public_reads(session):
    order = _delivered(session, skus=2)
    a = _review(session, order, rating=5, content=LONG, photos=PHOTOS, anonymous=True)
    b = _review(session, order, line=1, rating=2, content="一般")
    reviews.reply_to_review(session, review_id=b.id, text="抱歉，我们联系您处理", by="u_agent")
    assert b.reply and b.replied_by == "u_agent" and b.replied_at is not None
    product_id = order.lines[0].product_id
    listed = reviews.list_product_reviews(session, product_id=product_id)
    assert {r.id for r in listed} == {a.id, b.id}
    photos_only = reviews.list_product_reviews(session, product_id=product_id, with_photos=True)
    assert [r.id for r in photos_only] == [a.id]
    summary = reviews.product_rating(session, product_id=product_id)
    assert summary.count == 2 and summary.average == 3.5
    assert summary.good_rate == 0.5 and summary.photo_share == 0.5
    assert summary.distribution[5] == 1 and summary.distribution[2] == 1
    reviews.reject_review(session, review_id=b.id, reason="辱骂")
    with pytest.raises(ReviewRejected):
        reviews.reply_to_review(session, review_id=b.id, text="x", by="u")
    assert reviews.product_rating(session, product_id=product_id).count == 1
    assert reviews.product_rating(session, product_id=product_id + 999).count == 0
    assert reviews.count_reviews(session) == {"pending": 0, "published": 1, "rejected": 1}


def test_delivery_opens_a_review_request_and_a_review_closes_it(session):
    order = _delivered(session)
    open_ = reviews.list_review_requests(session, customer_id=order.customer_id)
    assert [r.order_id for r in open_] == [order.id]
    assert open_[0].requested_at == DELIVERED
    _review(session, order)
    assert reviews.list_review_requests(session, customer_id=order.customer_id) == []
    closed = reviews.list_review_requests(session, customer_id=order.customer_id, open_only=False)
    session.refresh(closed[0])
    assert closed[0].reviewed_at is not None
    assert reviews.open_review_request(session, order_id=order.id, customer_id=1).id == closed[0].id


def test_bulk_review_requests_skip_existing(session):
    first, second = _delivered(session), _delivered(session)
    n = reviews.open_review_requests(
        session,
        [(first.id, first.customer_id, None), (second.id, second.customer_id, DELIVERED)],
    )
    assert n == 0  # both opened by their order.delivered already
    rows = session.scalars(select(ReviewRequest).order_by(ReviewRequest.order_id)).all()
    assert [r.order_id for r in rows] == sorted([first.id, second.id])


def test_bulk_deliveries_open_the_same_requests_as_single_ones(session):
    from shopops.orders.rules import OrderAction
    from shopops.orders.service import mark_shipped
    from shopops.orders.service.moves_bulk import move_orders

    set_clock(session, DELIVERED)
    paid = [f.paid_order(session) for _ in range(3)]
    for order in paid:
        mark_shipped(session, order_id=order.id)
    at = DELIVERED + dt.timedelta(hours=5)
    move_orders(session, action=OrderAction.DELIVER, items=[(o.id, at) for o in paid])
    rows = session.scalars(select(ReviewRequest).order_by(ReviewRequest.order_id)).all()
    assert [(r.order_id, r.customer_id, r.requested_at) for r in rows] == [
        (o.id, o.customer_id, at) for o in sorted(paid, key=lambda o: o.id)
    ]


def test_an_order_reviewed_at_once(session):
    order = _delivered(session, skus=3)
    drafts = [
        reviews.ReviewDraft(order.lines[0].id, 5, LONG, tuple(PHOTOS)),
        reviews.ReviewDraft(order.lines[1].id, 4, "好评返现"),
    ]
    args = {"customer_id": order.customer_id, "order_number": order.number}
    with pytest.raises(InvalidInput):
        reviews.submit_reviews(session, **args, drafts=[drafts[0], drafts[0]])
    with pytest.raises(OrderLineNotFound):
        reviews.submit_reviews(
            session, **args, drafts=[*drafts, reviews.ReviewDraft(order.lines[0].id + 99, 5)]
        )
    assert reviews.list_reviews(session) == []  # a refused line refuses them all
    written = reviews.submit_reviews(session, **args, drafts=drafts)
    assert [r.status for r in written] == ["published", "pending"]
    assert reviews.submit_reviews(session, **args, drafts=[]) == []
    with pytest.raises(ReviewExists):
        reviews.submit_reviews(
            session, **args, drafts=[reviews.ReviewDraft(order.lines[2].id, 5), drafts[1]]
        )
