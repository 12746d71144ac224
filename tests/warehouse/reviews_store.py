"""A small store with reviews, built through the real services, and independent SQL over the
review table (what `fact_reviews` must agree with)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from shopops.db import session_scope
from shopops.orders import service as orders
from shopops.reviews import service as reviews
from tests import factories as f

PHOTOS = ["https://img.example.test/1.jpg"]


@dataclass
class ReviewStore:
    completed: list[int]  # order ids, completed
    delivered: list[int]  # order ids, delivered and not completed
    review_ids: dict[str, int]  # name → review id


def _review(s, order, line: int, rating: int, **kwargs) -> int:  # type: ignore[no-untyped-def]
    return reviews.submit_review(
        s,
        customer_id=order.customer_id,
        order_number=order.number,
        order_line_id=order.lines[line].id,
        rating=rating,
        **kwargs,
    ).id


def add_reviews(engine: Engine) -> ReviewStore:
    """Four orders: A (2 lines, completed, reviewed 5★ with a photo and 4★), B (completed,
    1★), C (completed, no review), D (delivered, 2★)."""
    with session_scope(engine) as s:
        a = f.delivered_order(s, skus=2)
        b, c, d = (f.delivered_order(s) for _ in range(3))
        ids = {
            "a5": _review(s, a, 0, 5, content="很好用，充电很快", photos=PHOTOS),
            "a4": _review(s, a, 1, 4, content="不错"),
            "b1": _review(s, b, 0, 1, content="用了两天就坏了"),
            "d2": _review(s, d, 0, 2, content="一般"),
        }
        for order in (a, b, c):
            orders.complete_order(s, order_id=order.id)
        return ReviewStore([a.id, b.id, c.id], [d.id], ids)


def follow_up_and_reject(engine: Engine, store: ReviewStore) -> None:
    """B's review gets a follow-up (追评); D's is rejected."""
    with session_scope(engine) as s:
        b1 = reviews.get_review(s, review_id=store.review_ids["b1"])
        reviews.add_follow_up(
            s, customer_id=b1.customer_id, review_id=b1.id, content="客服换了新的，现在好了"
        )
        reviews.reject_review(s, review_id=store.review_ids["d2"], reason="与商品无关", by="qa")


def review_figures(engine: Engine) -> dict[str, int]:
    """The review table's figures, by plain SQL."""
    queries = {
        "reviews": "SELECT COUNT(*) FROM review",
        "rating_sum": "SELECT COALESCE(SUM(rating), 0) FROM review",
        "with_photos": "SELECT COUNT(*) FROM review WHERE photo_count > 0",
        "followed_up": "SELECT COUNT(*) FROM review WHERE followed_up_at IS NOT NULL",
        "published": "SELECT COUNT(*) FROM review WHERE status = 'published'",
        "rejected": "SELECT COUNT(*) FROM review WHERE status = 'rejected'",
        "pending": "SELECT COUNT(*) FROM review WHERE status = 'pending'",
        "reviewed_orders": "SELECT COUNT(DISTINCT order_id) FROM review",
    }
    with engine.connect() as conn:
        return {k: int(conn.execute(text(q)).scalar() or 0) for k, q in queries.items()}
