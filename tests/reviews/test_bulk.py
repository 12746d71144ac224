"""submit_reviews_many: the same rows and events as submit_reviews on each item in order
(pre-check, auto-publish, 晒单有奖 points, review requests closed), refusals alone and writing
nothing; write_reviews_many makes the same decisions as write_reviews."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy.orm import Session

from shopops.db import session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.reviews import service as reviews
from shopops.reviews.service import ReviewDraft
from shopops.reviews.service_bulk import ReviewItem, orders_to_review, submit_reviews_many
from shopops.sim import reviews as sim_reviews
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("review", "review_request", "points_entry", "customer")
GOOD = "充电速度很快，手机半小时就充到一半多，体积小巧，出差带着很方便！"
PHOTOS = ("https://img.example/1.jpg", "https://img.example/2.jpg")


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0)
    a, b = f.customer(s), f.customer(s)
    o0 = f.delivered_order(s, cust=a)
    o1 = f.delivered_order(s, cust=a, skus=2)
    o2 = f.delivered_order(s, cust=a)
    o3 = f.delivered_order(s, cust=b, skus=3)
    o4 = f.delivered_order(s, cust=b, skus=2)
    paid = f.paid_order(s, cust=b)
    # Reviewed before the batch: a's text (a duplicate later) and one line of o4.
    reviews.submit_review(
        s,
        customer_id=a.id,
        order_number=o0.number,
        order_line_id=o0.lines[0].id,
        rating=5,
        content="和描述一致，很满意",
    )
    reviews.submit_review(s, customer_id=b.id, order_number=o4.number,
                          order_line_id=o4.lines[0].id, rating=4)  # fmt: skip
    lines = {o.id: [ln.id for ln in o.lines] for o in (o0, o1, o2, o3, o4, paid)}
    numbers = {o.id: o.number for o in (o0, o1, o2, o3, o4, paid)}
    return {"a": a.id, "b": b.id, "o": [o0.id, o1.id, o2.id, o3.id, o4.id], "paid": paid.id,
            "lines": lines, "numbers": numbers}  # fmt: skip


def _items(built: dict[str, Any]) -> list[ReviewItem]:
    a, b, (_o0, o1, o2, o3, o4), paid = built["a"], built["b"], built["o"], built["paid"]
    ln = built["lines"]
    at = [T0 + dt.timedelta(hours=h) for h in range(1, 20)]
    D = ReviewDraft
    return [
        # Clean with photos and words: published, 晒单有奖; an ad: held for moderation.
        ReviewItem(
            a, o1, [D(ln[o1][0], 5, GOOD, PHOTOS), D(ln[o1][1], 4, "好评返现加微信")], at[0]
        ),
        ReviewItem(b, paid, [D(ln[paid][0], 5)], at[1]),  # not delivered
        # The same text as a's review before the batch, and as o1's just now: duplicates.
        ReviewItem(a, o2, [D(ln[o2][0], 5, "和描述一致，很满意", PHOTOS)], at[2]),
        ReviewItem(a, o1, [D(ln[o1][0], 3, "再评一次")], at[3]),  # reviewed just before
        ReviewItem(a, o3, [D(ln[o3][0], 5)], at[4]),  # someone else's order
        ReviewItem(b, o3, [D(ln[o3][0], 7)], at[5]),  # a rating out of range
        ReviewItem(b, o3, [D(ln[o3][0], 5, "", ("ftp://x",))], at[6]),  # a bad photo
        ReviewItem(b, o3, [D(ln[o1][1], 5)], at[7]),  # a line of another order
        ReviewItem(b, o3, [D(ln[o3][0], 5), D(ln[o3][0], 4)], at[8]),  # one line twice
        ReviewItem(b, o4, [D(ln[o4][0], 2, "质量太差")], at[9]),  # reviewed before the batch
        ReviewItem(b, o3, [], at[10]),  # nothing to say
        ReviewItem(b, 10**6, [D(1, 5)], at[11]),  # no such order
        # b's three lines: stars only, a long one with photos, and a bad one.
        ReviewItem(
            b,
            o3,
            [
                D(ln[o3][0], 5, "", (), True),
                D(ln[o3][1], 5, GOOD + "很好", PHOTOS[:1]),
                D(ln[o3][2], 1, "用了两天就坏了，很失望"),
            ],
            at[12],
        ),
        ReviewItem(b, o4, [D(ln[o4][1], 4, GOOD, PHOTOS)], at[13]),
    ]


def _shape(result: Any) -> Any:
    if isinstance(result, ShopOpsError):
        return result.code
    return [(r.order_line_id, r.status, r.rating, r.reward_points, r.id) for r in result]


def test_submit_reviews_many_equals_submit_reviews_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built)
    single: list[Any] = []
    with session_scope(a) as s:
        for item in items:
            set_clock(s, item.at)
            try:
                with s.begin_nested():
                    single.append(
                        reviews.submit_reviews(
                            s,
                            customer_id=item.customer_id,
                            drafts=item.drafts,
                            order_number=built["numbers"].get(item.order_id, "NO-SUCH"),
                        )
                    )
            except ShopOpsError as exc:
                single.append(exc)
        single_shape = [_shape(r) for r in single]
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = submit_reviews_many(s, items=items)
        bulk_shape = [_shape(r) for r in bulk]
        assert s.info["now"] == T0  # the caller's clock is left as it was
    assert bulk_shape == single_shape
    assert bulk_shape[1:12] == ["order_not_reviewable", single_shape[2], "review_exists",
                                "order_not_found", "invalid_input", "invalid_input",
                                "order_line_not_found", "invalid_input", "review_exists", [],
                                "order_not_found"]  # fmt: skip
    assert bulk_shape[2][0][1] == "pending"  # the duplicate text waits for moderation
    statuses = [r for shape in bulk_shape if isinstance(shape, list) for r in shape]
    assert {s for _, s, *_ in statuses} == {"published", "pending"}
    assert any(pts for *_, pts, _ in statuses)
    assert snapshot(a, TABLES) == snapshot(b, TABLES)


def test_a_batch_of_one_and_an_empty_batch(twins):  # noqa: F811
    _a, b, built = twins(_store)
    (item,) = _items(built)[:1]
    with session_scope(b) as s:
        assert submit_reviews_many(s, items=[]) == []
        (written,) = submit_reviews_many(s, items=[item])
        assert isinstance(written, list)
        assert [r.status for r in written] == ["published", "pending"]
        assert written[0].reward_points == reviews.ReviewPolicy().reward_points
        # The ORM sees what the Core writes wrote.
        assert reviews.get_review(s, review_id=written[0].id).status == "published"
        (request,) = reviews.list_review_requests(s, customer_id=item.customer_id,
                                                  open_only=False, limit=500)[:1]  # fmt: skip
        assert request is not None


def _sim_store(s: Session) -> list[tuple[int, int, str, dt.datetime]]:
    set_clock(s, T0)
    done = []
    for k in range(24):
        o = f.delivered_order(s, skus=1 + k % 3)
        persona = ("student", "gift_buyer", "tech_enthusiast", "office_worker")[k % 4]
        done.append((o.id, o.customer_id, persona, T0 + dt.timedelta(hours=k)))
    paid = f.paid_order(s)
    done.insert(5, (paid.id, paid.customer_id, "student", T0))  # not delivered: skipped
    return done


def test_write_reviews_many_decides_as_write_reviews(twins, monkeypatch):  # noqa: F811
    monkeypatch.setattr(sim_reviews, "DEFAULT_CHANCE", 0.6)
    monkeypatch.setattr(sim_reviews, "REVIEW_CHANCE", {"student": 0.9})
    a, b, completed = twins(_sim_store)
    with session_scope(a) as s:
        rng = random.Random(7)
        one_by_one = sum(
            len(sim_reviews.write_reviews(s, rng, order_id=o, customer_id=c, persona_code=p,
                                          at=at))
            for o, c, p, at in completed
        )  # fmt: skip
        left_a = rng.random()
    with session_scope(b) as s:
        rng = random.Random(7)
        many = sim_reviews.write_reviews_many(s, rng, completed=completed)
        left_b = rng.random()
    assert many == one_by_one > 10
    assert left_a == left_b  # the same draws
    assert snapshot(a, TABLES) == snapshot(b, TABLES)


def test_orders_handed_over_are_not_read_again_and_a_partial_read_is_redone(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built)
    ids = sorted({i.order_id for i in items})
    with session_scope(a) as s:
        set_clock(s, T0)
        found = orders_to_review(s, order_ids=ids)
        handed = [_shape(r) for r in submit_reviews_many(s, items=items, orders_read=found)]
    with session_scope(b) as s:
        set_clock(s, T0)
        partial = dict(list(orders_to_review(s, order_ids=ids).items())[:1])
        redone = [_shape(r) for r in submit_reviews_many(s, items=items, orders_read=partial)]
    assert handed == redone
    assert snapshot(a, TABLES) == snapshot(b, TABLES)
