"""API schemas of reviews: a shopper's review and follow-up, staff moderation and replies,
and the public product reviews and rating summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.reviews import rules


class ReviewCreate(BaseModel):
    """A review of one line of the shopper's delivered order."""

    model_config = ConfigDict(extra="forbid")

    order_number: str = Field(min_length=1, max_length=32)
    order_line_id: int = Field(ge=1)
    rating: int = Field(ge=rules.MIN_RATING, le=rules.MAX_RATING)
    content: str = Field(default="", max_length=rules.MAX_CONTENT)
    photos: list[str] = Field(default_factory=list, max_length=rules.MAX_PHOTOS)
    anonymous: bool = False


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=rules.MAX_FOLLOW_UP)
    photos: list[str] = Field(default_factory=list, max_length=rules.MAX_PHOTOS)


class ReviewReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=rules.MAX_REASON)


class ReviewReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=rules.MAX_REPLY)


class ReviewRead(BaseModel):
    """A review as its author and staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    order_line_id: int
    customer_id: int
    product_id: int
    sku_id: int
    rating: int
    content: str
    photos: list[str]
    anonymous: bool
    status: str
    precheck: dict[str, Any]
    reject_reason: str
    reward_points: int
    reward_reversed: int
    follow_up: str
    follow_up_photos: list[str]
    followed_up_at: dt.datetime | None
    reply: str
    replied_at: dt.datetime | None
    created_at: dt.datetime
    published_at: dt.datetime | None


class PublicReview(BaseModel):
    """A published review as any shopper sees it: an anonymous one names nobody."""

    id: int
    customer_id: int | None
    sku_id: int
    rating: int
    content: str
    photos: list[str]
    follow_up: str
    follow_up_photos: list[str]
    followed_up_at: dt.datetime | None
    reply: str
    replied_at: dt.datetime | None
    published_at: dt.datetime | None

    @classmethod
    def of(cls, review: Any) -> PublicReview:
        return cls(
            id=review.id,
            customer_id=None if review.anonymous else review.customer_id,
            sku_id=review.sku_id,
            rating=review.rating,
            content=review.content,
            photos=list(review.photos),
            follow_up=review.follow_up,
            follow_up_photos=list(review.follow_up_photos),
            followed_up_at=review.followed_up_at,
            reply=review.reply,
            replied_at=review.replied_at,
            published_at=review.published_at,
        )


class RatingSummaryRead(BaseModel):
    """Published reviews of a product: count, mean stars, stars → count, shares (0–1)."""

    product_id: int
    count: int
    average: float | None
    distribution: dict[int, int]
    photo_share: float | None
    good_rate: float | None


class ReviewRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    requested_at: dt.datetime
    reviewed_at: dt.datetime | None
