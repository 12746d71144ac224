"""Reviews in bulk: `submit_reviews` for many orders in a few statements.

Each item is one order's reviews (as `submit_reviews` takes them) at its own moment; the batch
is read at once (orders and lines, reviews already there, the customers' recent texts), every
item is checked with the same rules in item order, then the reviews go in one multi-row INSERT,
the review requests are closed in one executemany, and the events in one `emit_many` per name.
晒单有奖 points go through `members.points.earn_points_many` (each at its review's moment).
A refused item writes nothing; its place in the result holds the `ShopOpsError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from shopops.db import DriverInsertMany, DriverStatement
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.members.service import points
from shopops.orders import service as orders
from shopops.orders.errors import OrderNotFound
from shopops.orders.service.reads import OrderWithLines
from shopops.reviews import events, rules
from shopops.reviews.models import Review, ReviewRequest
from shopops.reviews.rules import ReviewAction, ReviewStatus
from shopops.reviews.service import (
    RECENT_FOR_DUPLICATES,
    ReviewDraft,
    ReviewPolicy,
    check_drafts,
    check_not_taken,
    check_order_lines,
)

_REVIEW = Review.__table__
_REQUEST = ReviewRequest.__table__
_COLUMNS = [
    "order_id", "order_line_id", "customer_id", "product_id", "sku_id", "rating", "content",
    "photos", "photo_count", "anonymous", "status", "precheck", "reject_reason", "moderated_by",
    "reward_points", "reward_reversed", "follow_up", "follow_up_photos", "reply", "replied_by",
    "created_at", "moderated_at", "published_at",
]  # fmt: skip
# One review per order line: RETURNING is matched by the line.
_INSERT = DriverInsertMany(_REVIEW, _COLUMNS, ["id", "order_line_id"])
CHUNK = 300  # rows per INSERT: 23 columns each, well inside every driver's parameter limit
# The writes by `executemany` on the DBAPI cursor (compiled once per dialect).
_CLOSE_REQUEST = DriverStatement(
    update(_REQUEST)
    .where(_REQUEST.c.order_id == bindparam("oid"), _REQUEST.c.reviewed_at.is_(None))
    .values(reviewed_at=bindparam("at")),
    rows=False,
)
_TAKEN = select(_REVIEW.c.order_line_id).where(
    _REVIEW.c.order_line_id.in_(bindparam("ids", expanding=True))
)
_SET_REWARD = DriverStatement(
    update(_REVIEW).where(_REVIEW.c.id == bindparam("rid")).values(reward_points=bindparam("pts")),
    rows=False,
)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One order's reviews as `submit_reviews` takes them, written at `at`."""

    customer_id: int
    order_id: int
    drafts: Sequence[ReviewDraft]
    at: dt.datetime


@dataclass(slots=True)
class WrittenReview:
    """A review as written (a `Review`-like value: the columns the callers and events read)."""

    id: int
    order_id: int
    order_line_id: int
    customer_id: int
    product_id: int
    sku_id: int
    rating: int
    content: str
    photos: list[str]
    photo_count: int
    anonymous: bool
    status: str
    precheck: dict[str, Any]
    reject_reason: str
    moderated_by: str
    reward_points: int
    reward_reversed: int
    follow_up: str
    follow_up_photos: list[str]
    reply: str
    replied_by: str
    created_at: dt.datetime
    moderated_at: dt.datetime | None
    published_at: dt.datetime | None
    clean: bool = field(default=False, repr=False)


# What reviewing reads of an order: the orders domain's read (number, status, customer,
# delivered, lines as line id → (product id, SKU id)).
OrderToReview = OrderWithLines


def orders_to_review(session: Session, *, order_ids: Sequence[int]) -> dict[int, OrderToReview]:
    """These orders with their lines (in line order), asked of the orders service in one
    read; unknown ids are absent."""
    return orders.orders_with_lines(session, order_ids=order_ids)


def _recent(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    """Each customer's last texts, newest first, as `_recent_texts` reads them (one query)."""
    if not customer_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=_REVIEW.c.customer_id, order_by=_REVIEW.c.id.desc())
        .label("rank")
    )
    inner = (
        select(_REVIEW.c.customer_id, _REVIEW.c.content, _REVIEW.c.id, rank)
        .where(_REVIEW.c.customer_id.in_(customer_ids), _REVIEW.c.content != "")
        .subquery()
    )
    out: dict[int, list[str]] = {cid: [] for cid in customer_ids}
    stmt = (
        select(inner.c.customer_id, inner.c.content)
        .where(inner.c.rank <= RECENT_FOR_DUPLICATES)
        .order_by(inner.c.customer_id, inner.c.id.desc())
    )
    for cid, content in session.execute(stmt):
        out[cid].append(content)
    return out


def _check(
    item: ReviewItem, order: OrderToReview | None, taken: set[int]
) -> list[tuple[ReviewDraft, str, list[str]]]:
    """`submit_reviews`'s checks in its order; raises the error that refuses the item."""
    checked = check_drafts(item.drafts)
    if order is None or order.customer_id != item.customer_id:
        raise OrderNotFound("no such order", details={"order_id": item.order_id})
    check_order_lines(
        item.drafts,
        lines=order.lines,
        delivered=order.delivered_at is not None,
        label=order.number,
        ref={"order_number": order.number},
        state={"order_id": item.order_id, "status": order.status},
    )
    check_not_taken(next((d.order_line_id for d in item.drafts if d.order_line_id in taken), None))
    return checked


def submit_reviews_many(
    session: Session,
    *,
    items: Sequence[ReviewItem],
    policy: ReviewPolicy | None = None,
    orders_read: dict[int, OrderToReview] | None = None,
) -> list[list[WrittenReview] | ShopOpsError]:
    """`submit_reviews` of each item in order, each at its own `at`: per item the reviews
    written (pending, or published by the pre-check with 晒单有奖 points), or the error that
    refused it (nothing written for it). Items need not be in time order, but a later item
    sees an earlier one's reviews (a second review of a line is `review_exists`).
    `orders_read` may hold `orders_to_review` of (at least) the items' orders as this unit of
    work read them and has not changed since: they are not read again."""
    if not items:
        return []
    policy = policy or ReviewPolicy()
    session.flush()  # pending ORM changes first: the reads below see them
    order_ids = sorted({i.order_id for i in items})
    found = orders_read
    if found is None or not found.keys() >= set(order_ids):
        found = orders_to_review(session, order_ids=order_ids)
    line_ids = sorted({d.order_line_id for i in items for d in i.drafts})
    taken: set[int] = set()
    if line_ids:
        taken = set(session.scalars(_TAKEN, {"ids": line_ids}))
    texted = sorted({i.customer_id for i in items if any(d.content.strip() for d in i.drafts)})
    recent = _recent(session, texted)
    results: list[list[WrittenReview] | ShopOpsError] = []
    rows: list[WrittenReview] = []
    closes: list[dict[str, Any]] = []
    for item in items:
        if not item.drafts:
            results.append([])
            continue
        order = found.get(item.order_id)
        try:
            checked = _check(item, order, taken)
        except ShopOpsError as exc:
            results.append(exc)
            continue
        assert order is not None
        texts = recent.get(item.customer_id, []) if any(c for _, c, _ in checked) else []
        written = []
        for d, content, photo_list in checked:
            check = rules.precheck(content, banned_words=policy.banned_words, recent_texts=texts)
            product_id, sku_id = order.lines[d.order_line_id]
            review = WrittenReview(
                id=0, order_id=item.order_id, order_line_id=d.order_line_id,
                customer_id=item.customer_id, product_id=product_id, sku_id=sku_id,
                rating=d.rating, content=content, photos=photo_list,
                photo_count=len(photo_list), anonymous=d.anonymous,
                status=ReviewStatus.PENDING.value, precheck=check.as_dict(), reject_reason="",
                moderated_by="", reward_points=0, reward_reversed=0, follow_up="",
                follow_up_photos=[], reply="", replied_by="", created_at=item.at,
                moderated_at=None, published_at=None, clean=check.clean,
            )  # fmt: skip
            written.append(review)
            taken.add(d.order_line_id)
        # A later item of this customer sees these texts, newest first, as the single path.
        fresh = [r.content for r in reversed(written) if r.content]
        if item.customer_id in recent:
            recent[item.customer_id] = (fresh + recent[item.customer_id])[:RECENT_FOR_DUPLICATES]
        elif fresh:
            recent[item.customer_id] = fresh[:RECENT_FOR_DUPLICATES]
        rows.extend(written)
        closes.append({"oid": item.order_id, "at": item.at})
        results.append(written)
    if rows:
        _write(session, rows, closes, policy)
    return results


def _write(
    session: Session,
    rows: list[WrittenReview],
    closes: list[dict[str, Any]],
    policy: ReviewPolicy,
) -> None:
    # The pre-check publishes clean reviews at once: they go in published, with the
    # submitted event still saying what was submitted (pending, no reward yet).
    published = [r for r in rows if r.clean]
    for r in published:
        r.status = rules.next_status(r.status, ReviewAction.PUBLISH).value
        r.moderated_at = r.published_at = r.created_at
        r.moderated_by = "precheck"
    conn = session.connection()
    ids: dict[int, int] = {}
    for k in range(0, len(rows), CHUNK):
        chunk = [_as_row(r) for r in rows[k : k + CHUNK]]
        ids.update((lid, rid) for rid, lid in _INSERT.execute(conn, chunk))
    for r in rows:
        r.id = ids[r.order_line_id]
    _CLOSE_REQUEST.executemany(conn, closes)
    _expire_requests(session, {c["oid"] for c in closes})
    as_submitted = {"status": ReviewStatus.PENDING.value, "reward_points": 0}
    emit_many(
        session,
        events.REVIEW_SUBMITTED,
        [
            (events.AGGREGATE, r.id, events.review_payload(r, as_submitted), r.created_at)
            for r in rows
        ],
    )
    earning = [
        r
        for r in published
        if policy.reward_points > 0 and rules.earns_photo_reward(r.content, r.photos)
    ]
    entries = points.earn_points_many(
        session,
        items=[
            (r.customer_id, policy.reward_points, f"晒单有奖 photo review #{r.id}",
             f"review:{r.id}", r.created_at)
            for r in earning
        ],
    )  # fmt: skip
    rewards: list[dict[str, Any]] = []
    for r, entry in zip(earning, entries, strict=True):
        r.reward_points = entry.amount
        rewards.append({"rid": r.id, "pts": r.reward_points})
    if rewards:
        _SET_REWARD.executemany(session.connection(), rewards)
    emit_many(
        session,
        events.REVIEW_PUBLISHED,
        [(events.AGGREGATE, r.id, events.review_payload(r), r.published_at) for r in published],
    )


def _expire_requests(session: Session, order_ids: set[int]) -> None:
    # Requests are keyed by id, not order: expire the loaded ones of these orders.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ReviewRequest) and obj.order_id in order_ids:
            session.expire(obj)


def _as_row(r: WrittenReview) -> dict[str, Any]:
    return {name: getattr(r, name) for name in _COLUMNS}
