"""Routes of reviews: shoppers write and read their own (`/reviews/...`), staff moderate and
reply (`/reviews/queue`, `/reviews/{id}/...`), anyone reads a product's published reviews and
rating summary (`/storefront/products/{id}/reviews|rating`, public like the product page)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from shopops.accounts.service import Principal
from shopops.api.deps import OperatorOrAgent, SessionDep, Shopper, Staff
from shopops.reviews import service
from shopops.reviews.rules import ReviewStatus
from shopops.reviews.schemas import (
    FollowUpCreate,
    PublicReview,
    RatingSummaryRead,
    ReviewCreate,
    ReviewRead,
    ReviewReject,
    ReviewReply,
    ReviewRequestRead,
)

router = APIRouter(tags=["reviews"])
Page = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0)]


def _by(who: Principal) -> str:
    return f"api-key:{who.key_id}"


@router.post("/reviews", response_model=ReviewRead, status_code=status.HTTP_201_CREATED)
def submit_review(body: ReviewCreate, session: SessionDep, who: Shopper) -> ReviewRead:
    review = service.submit_review(
        session,
        customer_id=int(who.customer_id or 0),
        order_number=body.order_number,
        order_line_id=body.order_line_id,
        rating=body.rating,
        content=body.content,
        photos=body.photos,
        anonymous=body.anonymous,
    )
    return ReviewRead.model_validate(review)


@router.get("/reviews/mine", response_model=list[ReviewRead])
def my_reviews(
    session: SessionDep, who: Shopper, limit: Page = 50, offset: Offset = 0
) -> list[ReviewRead]:
    rows = service.list_reviews(
        session, customer_id=int(who.customer_id or 0), limit=limit, offset=offset
    )
    return [ReviewRead.model_validate(r) for r in rows]


@router.get("/reviews/requests", response_model=list[ReviewRequestRead])
def my_review_requests(session: SessionDep, who: Shopper) -> list[ReviewRequestRead]:
    rows = service.list_review_requests(session, customer_id=int(who.customer_id or 0))
    return [ReviewRequestRead.model_validate(r) for r in rows]


@router.post("/reviews/{review_id}/follow-up", response_model=ReviewRead)
def follow_up(
    review_id: int, body: FollowUpCreate, session: SessionDep, who: Shopper
) -> ReviewRead:
    review = service.add_follow_up(
        session,
        customer_id=int(who.customer_id or 0),
        review_id=review_id,
        content=body.content,
        photos=body.photos,
    )
    return ReviewRead.model_validate(review)


@router.get("/reviews/queue", response_model=list[ReviewRead])
def review_queue(
    session: SessionDep,
    _: Staff,
    status_: Annotated[ReviewStatus | None, Query(alias="status")] = ReviewStatus.PENDING,
    product_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Page = 50,
    offset: Offset = 0,
) -> list[ReviewRead]:
    rows = service.list_reviews(
        session, status=status_, product_id=product_id, limit=limit, offset=offset
    )
    return [ReviewRead.model_validate(r) for r in rows]


@router.post("/reviews/{review_id}/publish", response_model=ReviewRead)
def publish(review_id: int, session: SessionDep, who: OperatorOrAgent) -> ReviewRead:
    review = service.publish_review(session, review_id=review_id, by=_by(who))
    return ReviewRead.model_validate(review)


@router.post("/reviews/{review_id}/reject", response_model=ReviewRead)
def reject(
    review_id: int, body: ReviewReject, session: SessionDep, who: OperatorOrAgent
) -> ReviewRead:
    review = service.reject_review(session, review_id=review_id, reason=body.reason, by=_by(who))
    return ReviewRead.model_validate(review)


@router.post("/reviews/{review_id}/reply", response_model=ReviewRead)
def reply(
    review_id: int, body: ReviewReply, session: SessionDep, who: OperatorOrAgent
) -> ReviewRead:
    review = service.reply_to_review(session, review_id=review_id, text=body.text, by=_by(who))
    return ReviewRead.model_validate(review)


@router.get(
    "/storefront/products/{product_id}/reviews",
    response_model=list[PublicReview],
    tags=["storefront"],
)
def product_reviews(
    product_id: int,
    session: SessionDep,
    with_photos: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> list[PublicReview]:
    rows = service.list_product_reviews(
        session, product_id=product_id, with_photos=with_photos, limit=limit, offset=offset
    )
    return [PublicReview.of(r) for r in rows]


@router.get(
    "/storefront/products/{product_id}/rating",
    response_model=RatingSummaryRead,
    tags=["storefront"],
)
def product_rating(product_id: int, session: SessionDep) -> RatingSummaryRead:
    summary = service.product_rating(session, product_id=product_id)
    return RatingSummaryRead(product_id=product_id, **asdict(summary))
