"""Events of the reviews domain and their payloads.

Each carries the rating, the product and SKU, and whether it has photos, so the warehouse can
count ratings and good-review rates per product without reading the tables. The text itself
stays in the store (it is user content, not a fact).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopops.reviews.models import Review

REVIEW_SUBMITTED = "review.submitted"
REVIEW_PUBLISHED = "review.published"
REVIEW_REJECTED = "review.rejected"
# 追评: the warehouse counts follow-ups (and sees a flagged one send the review back).
REVIEW_FOLLOWED_UP = "review.followed_up"

AGGREGATE = "review"


def review_payload(review: Review | Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The review (or a Review-like value) as a fact: who, which line and product, the
    stars, photos and status."""
    payload: dict[str, Any] = {
        "review_id": review.id,
        "order_id": review.order_id,
        "order_line_id": review.order_line_id,
        "customer_id": review.customer_id,
        "product_id": review.product_id,
        "sku_id": review.sku_id,
        "rating": review.rating,
        "photo_count": review.photo_count,
        "content_length": len(review.content),
        "anonymous": review.anonymous,
        "status": review.status,
        "precheck": dict(review.precheck or {}),
        "reward_points": review.reward_points,
        "created_at": review.created_at.isoformat(),
    }
    payload.update(extra or {})
    return payload
