"""Use cases of reviews: a shopper reviews a line of a delivered order (rating, text, photos,
anonymous), adds one 追评; the pre-check publishes clean reviews and queues the rest; staff
publish or reject, and reply; 晒单有奖 points go through the members service (and back on a
rejection); product summaries read published reviews only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.reviews import events, rules
from shopops.reviews.errors import (
    FollowUpClosed,
    FollowUpExists,
    OrderLineNotFound,
    OrderNotReviewable,
    ReviewExists,
    ReviewNotFound,
    ReviewRejected,
)
from shopops.reviews.models import Review, ReviewRequest
from shopops.reviews.rules import RatingSummary, ReviewAction, ReviewStatus

MAX_PAGE = 500
RECENT_FOR_DUPLICATES = 20


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """What reviews obey; the defaults are the house's (rules.py)."""

    reward_points: int = rules.REWARD_POINTS
    follow_up_days: int = rules.FOLLOW_UP_DAYS
    banned_words: frozenset[str] = field(default=rules.BANNED_WORDS)


# ---------------------------------------------------------------------------------------------
# Reads


def get_review(session: Session, *, review_id: int, for_update: bool = False) -> Review:
    """The review (locked with `for_update`); 404 `review_not_found`."""
    stmt = select(Review).where(Review.id == review_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(stmt).one_or_none()
    if found is None:
        raise ReviewNotFound(f"no review {review_id}", details={"review_id": review_id})
    return found


def get_customer_review(session: Session, *, customer_id: int, review_id: int) -> Review:
    """The shopper's own review; someone else's is 404 like a missing one."""
    review = get_review(session, review_id=review_id)
    if review.customer_id != customer_id:
        raise ReviewNotFound(f"no review {review_id}", details={"review_id": review_id})
    return review


def _status(status: str | None) -> str | None:
    if status is not None and status not in set(ReviewStatus):
        raise InvalidInput(
            f"unknown status {status!r}",
            details={"status": status, "allowed": [s.value for s in ReviewStatus]},
        )
    return status


def list_reviews(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    product_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Review]:
    """Reviews; the staff queue is oldest first (as it is worked), a shopper's newest first."""
    stmt = select(Review)
    if customer_id is not None:
        stmt = stmt.where(Review.customer_id == customer_id)
    if _status(status) is not None:
        stmt = stmt.where(Review.status == status)
    if product_id is not None:
        stmt = stmt.where(Review.product_id == product_id)
    if customer_id is None:
        stmt = stmt.order_by(Review.created_at, Review.id)
    else:
        stmt = stmt.order_by(Review.created_at.desc(), Review.id.desc())
    page = stmt.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))
    return list(session.scalars(page))


def count_reviews(session: Session) -> dict[str, int]:
    """How many reviews are in each status (every status present, 0 when none)."""
    counts = dict.fromkeys((s.value for s in ReviewStatus), 0)
    for status, n in session.execute(select(Review.status, func.count()).group_by(Review.status)):
        counts[status] = int(n)
    return counts


def list_product_reviews(
    session: Session,
    *,
    product_id: int,
    with_photos: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[Review]:
    """A product's published reviews, newest first (only those with photos: 有图)."""
    stmt = select(Review).where(
        Review.product_id == product_id, Review.status == ReviewStatus.PUBLISHED
    )
    if with_photos:
        stmt = stmt.where(Review.photo_count > 0)
    stmt = stmt.order_by(Review.published_at.desc(), Review.id.desc())
    return list(session.scalars(stmt.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))))


def product_ratings(
    session: Session, *, product_ids: Sequence[int] | None = None
) -> dict[int, RatingSummary]:
    """Rating summaries of published reviews per product (every product with one, or these
    products, 0 reviews included), in one grouped query."""
    has_photos = Review.photo_count > 0
    stmt = (
        select(Review.product_id, Review.rating, has_photos, func.count())
        .where(Review.status == ReviewStatus.PUBLISHED)
        .group_by(Review.product_id, Review.rating, has_photos)
    )
    if product_ids is not None:
        stmt = stmt.where(Review.product_id.in_(sorted(set(product_ids))))
    counts: dict[int, dict[tuple[int, bool], int]] = {pid: {} for pid in product_ids or ()}
    for product_id, rating, photos, n in session.execute(stmt):
        counts.setdefault(product_id, {})[(int(rating), bool(photos))] = int(n)
    return {pid: rules.summarize(c) for pid, c in sorted(counts.items())}


def product_rating(session: Session, *, product_id: int) -> RatingSummary:
    """One product's summary: count, average, distribution, photo share, good-review rate."""
    return product_ratings(session, product_ids=[product_id])[product_id]


def list_review_requests(
    session: Session, *, customer_id: int, open_only: bool = True, limit: int = 50
) -> list[ReviewRequest]:
    """The shopper's review requests (评价邀请), newest first; open ones only by default."""
    stmt = select(ReviewRequest).where(ReviewRequest.customer_id == customer_id)
    if open_only:
        stmt = stmt.where(ReviewRequest.reviewed_at.is_(None))
    stmt = stmt.order_by(ReviewRequest.requested_at.desc(), ReviewRequest.id.desc())
    return list(session.scalars(stmt.limit(min(max(limit, 1), MAX_PAGE))))


# ---------------------------------------------------------------------------------------------
# Moves


def _emit(session: Session, name: str, review: Review, **extra: object) -> None:
    session.flush()  # the payload carries the id; later locked reads see this state
    emit(
        session,
        name,
        aggregate_type=events.AGGREGATE,
        aggregate_id=review.id,
        payload=events.review_payload(review, extra),
    )


def open_review_request(
    session: Session, *, order_id: int, customer_id: int, at: dt.datetime | None = None
) -> ReviewRequest:
    """The order's review request (opened once: a second call returns the first)."""
    existing = session.scalar(select(ReviewRequest).where(ReviewRequest.order_id == order_id))
    if existing is not None:
        return existing
    request = ReviewRequest(
        order_id=order_id, customer_id=customer_id, requested_at=at or now(session)
    )
    session.add(request)
    session.flush()
    return request


# Built once with bound ids: building and keying them per batch cost more than their SQL.
_REQUESTED = select(ReviewRequest.order_id).where(
    ReviewRequest.order_id.in_(bindparam("ids", expanding=True))
)
_INSERT_REQUESTS = insert(ReviewRequest.__table__)


def open_review_requests(
    session: Session, items: Sequence[tuple[int, int, dt.datetime | None]]
) -> int:
    """`open_review_request` for many `(order id, customer id, at)` in two statements; orders
    that have one already are left alone. Returns how many were opened."""
    wanted = {order_id: (customer_id, at) for order_id, customer_id, at in items}
    if not wanted:
        return 0
    session.flush()
    taken = set(session.scalars(_REQUESTED, {"ids": sorted(wanted)}))
    clock = now(session)
    rows = [
        {"order_id": oid, "customer_id": cid, "requested_at": at or clock}
        for oid, (cid, at) in wanted.items()
        if oid not in taken
    ]
    if rows:
        session.execute(_INSERT_REQUESTS, rows)
    return len(rows)


def _recent_texts(session: Session, customer_id: int) -> list[str]:
    stmt = (
        select(Review.content)
        .where(Review.customer_id == customer_id, Review.content != "")
        .order_by(Review.id.desc())
        .limit(RECENT_FOR_DUPLICATES)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    """What a shopper writes about one line."""

    order_line_id: int
    rating: int
    content: str = ""
    photos: Sequence[str] = ()
    anonymous: bool = False


def check_drafts(drafts: Sequence[ReviewDraft]) -> list[tuple[ReviewDraft, str, list[str]]]:
    """Each draft's stars, text (stripped) and photos checked: 422 `invalid_input`."""
    checked = []
    for d in drafts:
        rules.check_rating(d.rating)
        content = rules.check_text(
            d.content, field="content", min_length=0, max_length=rules.MAX_CONTENT
        )
        checked.append((d, content, rules.check_photos(d.photos)))
    return checked


def check_order_lines(
    drafts: Sequence[ReviewDraft],
    *,
    lines: Collection[int],
    delivered: bool,
    label: str,
    ref: dict[str, Any],
    state: dict[str, Any],
) -> None:
    """The drafts' lines are the order's (404 `order_line_not_found`), the order is delivered
    (409 `order_not_reviewable`), and no line comes twice (422)."""
    for d in drafts:
        if d.order_line_id not in lines:
            raise OrderLineNotFound(
                f"order {label} has no line {d.order_line_id}",
                details={**ref, "order_line_id": d.order_line_id},
            )
    if not delivered:
        raise OrderNotReviewable(
            f"order {label} is {state.get('status', 'not delivered')}: review it once it is "
            "delivered",
            details=state,
        )
    wanted = [d.order_line_id for d in drafts]
    if len(set(wanted)) < len(wanted):
        raise InvalidInput("one review per line", details={"order_line_ids": wanted})


def check_not_taken(taken: int | None) -> None:
    """409 `review_exists` when `taken` (a line of the drafts already reviewed) is set."""
    if taken is not None:
        raise ReviewExists(
            "this line is already reviewed: add a follow-up instead",
            details={"order_line_id": taken},
        )


def submit_review(
    session: Session,
    *,
    customer_id: int,
    order_number: str,
    order_line_id: int,
    rating: int,
    content: str = "",
    photos: Sequence[str] = (),
    anonymous: bool = False,
    policy: ReviewPolicy | None = None,
) -> Review:
    """A shopper reviews one line of their own delivered order.

    404 `order_not_found` / `order_line_not_found` for an order or line that is not theirs,
    409 `order_not_reviewable` before delivery, 409 `review_exists` for a second review of the
    line, 422 for a rating outside 1–5, too long a text or a bad photo list. Emits
    `review.submitted`; a review the pre-check finds clean is published at once (and may earn
    晒单有奖 points), the others wait in the moderation queue.
    """
    draft = ReviewDraft(order_line_id, rating, content, tuple(photos), anonymous)
    (review,) = submit_reviews(
        session, customer_id=customer_id, order_number=order_number, drafts=[draft], policy=policy
    )
    return review


def submit_reviews(
    session: Session,
    *,
    customer_id: int,
    order_number: str,
    drafts: Sequence[ReviewDraft],
    policy: ReviewPolicy | None = None,
) -> list[Review]:
    """`submit_review` of several lines of one order at once (评价 of a whole order): the order
    is read once; any refused line refuses them all, before anything is written."""
    if not drafts:
        return []
    policy = policy or ReviewPolicy()
    checked = check_drafts(drafts)
    order = orders.get_customer_order(session, customer_id=customer_id, number=order_number)
    lines = {row.id: row for row in order.lines}
    check_order_lines(
        drafts,
        lines=lines,
        delivered=order.delivered_at is not None,
        label=order.number,
        ref={"order_number": order.number},
        state={"order_id": order.id, "status": order.status},
    )
    wanted = [d.order_line_id for d in drafts]
    taken = session.scalar(select(Review.order_line_id).where(Review.order_line_id.in_(wanted)))
    check_not_taken(taken)
    recent = _recent_texts(session, customer_id) if any(c for _, c, _ in checked) else []
    at = now(session)
    written: list[tuple[Review, bool]] = []
    for d, content, photo_list in checked:
        line = lines[d.order_line_id]
        check = rules.precheck(content, banned_words=policy.banned_words, recent_texts=recent)
        review = Review(
            order_id=order.id,
            order_line_id=line.id,
            customer_id=customer_id,
            product_id=line.product_id,
            sku_id=line.sku_id,
            rating=d.rating,
            content=content,
            photos=photo_list,
            photo_count=len(photo_list),
            anonymous=d.anonymous,
            status=ReviewStatus.PENDING,
            precheck=check.as_dict(),
            reject_reason="",
            created_at=at,
        )
        written.append((review, check.clean))
    try:
        # Two submissions of one line at once: the unique key lets one in.
        with session.begin_nested():
            session.add_all([r for r, _ in written])
            session.flush()
    except IntegrityError as exc:
        raise ReviewExists("already reviewed", details={"order_line_ids": wanted}) from exc
    session.execute(
        update(ReviewRequest)
        .where(ReviewRequest.order_id == order.id, ReviewRequest.reviewed_at.is_(None))
        .values(reviewed_at=at)
        .execution_options(synchronize_session=False)
    )
    for review, clean in written:
        _emit(session, events.REVIEW_SUBMITTED, review)
        if clean:
            _publish(session, review, by="precheck", policy=policy)
    return [r for r, _ in written]


def _publish(session: Session, review: Review, *, by: str, policy: ReviewPolicy) -> None:
    review.status = rules.next_status(review.status, ReviewAction.PUBLISH).value
    at = now(session)
    review.moderated_at = review.published_at = at
    review.moderated_by = by
    if policy.reward_points > 0 and rules.earns_photo_reward(review.content, review.photos):
        entry = members.earn_points(
            session,
            customer_id=review.customer_id,
            amount=policy.reward_points,
            reason=f"晒单有奖 photo review #{review.id}",
            ref=f"review:{review.id}",
        )
        review.reward_points = entry.amount
    _emit(session, events.REVIEW_PUBLISHED, review)


def publish_review(
    session: Session, *, review_id: int, by: str = "", policy: ReviewPolicy | None = None
) -> Review:
    """pending → published by staff (a queued review they found fine). Emits
    `review.published`; 晒单有奖 points when it qualifies."""
    review = get_review(session, review_id=review_id, for_update=True)
    _publish(session, review, by=by or "staff", policy=policy or ReviewPolicy())
    return review


def reject_review(session: Session, *, review_id: int, reason: str, by: str = "") -> Review:
    """pending or published → rejected, saying why; a 晒单有奖 reward is taken back (never
    below a zero balance: points already spent stay spent). Emits `review.rejected`."""
    reason = rules.check_text(reason, field="reason", min_length=1, max_length=rules.MAX_REASON)
    review = get_review(session, review_id=review_id, for_update=True)
    previous = review.status
    review.status = rules.next_status(review.status, ReviewAction.REJECT).value
    review.reject_reason = reason
    review.moderated_at = now(session)
    review.moderated_by = by or "staff"
    due = review.reward_points - review.reward_reversed
    if due > 0:
        take = min(due, members.balance(session, customer_id=review.customer_id))
        if take > 0:
            members.adjust_points(
                session,
                customer_id=review.customer_id,
                amount=-take,
                reason=f"晒单有奖 reversed: review #{review.id} rejected",
                ref=f"review:{review.id}:reversed",
            )
        review.reward_reversed += take
    _emit(session, events.REVIEW_REJECTED, review, previous_status=previous, reason=reason)
    return review


def add_follow_up(
    session: Session,
    *,
    customer_id: int,
    review_id: int,
    content: str,
    photos: Sequence[str] = (),
    policy: ReviewPolicy | None = None,
) -> Review:
    """追评: one follow-up on the shopper's own review, within `follow_up_days` of it (409
    `follow_up_closed` after, or on a rejected review; 409 `follow_up_exists` for a second).
    A follow-up the pre-check flags sends a published review back to the queue."""
    policy = policy or ReviewPolicy()
    content = rules.check_text(
        content, field="follow_up", min_length=1, max_length=rules.MAX_FOLLOW_UP
    )
    photo_list = rules.check_photos(photos)
    get_customer_review(session, customer_id=customer_id, review_id=review_id)
    review = get_review(session, review_id=review_id, for_update=True)
    if review.followed_up_at is not None:
        raise FollowUpExists("this review has its follow-up", details={"review_id": review.id})
    at = now(session)
    if review.status == ReviewStatus.REJECTED or not rules.follow_up_open(
        review.created_at, at, policy.follow_up_days
    ):
        raise FollowUpClosed(
            f"follow-ups are open for {policy.follow_up_days} days on a review that stands",
            details={"review_id": review.id, "status": review.status},
        )
    check = rules.precheck(content, banned_words=policy.banned_words)
    review.follow_up = content
    review.follow_up_photos = photo_list
    review.followed_up_at = at
    if not check.clean:
        flags = dict(review.precheck or {})
        flags["follow_up"] = check.as_dict()
        review.precheck = flags
        if review.status == ReviewStatus.PUBLISHED:
            # Back to the queue: the text the shop shows must be moderated again.
            review.status = rules.next_status(review.status, ReviewAction.REOPEN).value
            review.published_at = None
    _emit(session, events.REVIEW_FOLLOWED_UP, review, followed_up_at=at.isoformat())
    return review


def reply_to_review(session: Session, *, review_id: int, text: str, by: str) -> Review:
    """The shop's reply (one; a second replaces it), on a review that is not rejected."""
    text = rules.check_text(text, field="reply", min_length=1, max_length=rules.MAX_REPLY)
    review = get_review(session, review_id=review_id, for_update=True)
    if review.status == ReviewStatus.REJECTED:
        raise ReviewRejected("a rejected review takes no reply", details={"review_id": review.id})
    review.reply = text
    review.replied_by = by
    review.replied_at = now(session)
    session.flush()
    return review
