"""Reviews: the moderation queue (reviews by status, oldest first, with publish / reject and
the shop's reply through the reviews service) and the rating summary per product (count,
average, good-review rate, share with photos, a Plotly chart of the star distribution)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shopops.accounts.models import Role
from shopops.catalog import service as catalog
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.reviews import rules
from shopops.reviews.models import Review
from shopops.reviews.rules import ReviewStatus
from shopops.reviews.service import (
    count_reviews,
    list_reviews,
    product_ratings,
    publish_review,
    reject_review,
    reply_to_review,
)
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.i18n import Formatter
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/reviews", "Reviews", Role.OPERATOR, Role.AGENT)
PAGE_SIZE = 30
TOP_PRODUCTS = 12
STATUSES = [s.value for s in ReviewStatus]
ACTIONS = ("publish", "reject", "reply")
# What staff can do in each status.
ALLOWED = {
    ReviewStatus.PENDING.value: ("publish", "reject", "reply"),
    ReviewStatus.PUBLISHED.value: ("reject", "reply"),
}
TEXT_ERRORS = {
    "reject": "Say why (1-200 characters).",
    "reply": "Write a reply (1-500 characters).",
}
STAR_COLOURS = {1: "#d62728", 2: "#ff7f0e", 3: "#bcbd22", 4: "#2ca02c", 5: "#1f77b4"}


def _titles(s: Session, product_ids: set[int]) -> dict[int, str]:
    out = {}
    for product_id in sorted(product_ids):
        try:
            out[product_id] = catalog.get_product(s, product_id=product_id).title
        except ShopOpsError:
            out[product_id] = f"#{product_id}"
    return out


def _rows(s: Session, found: list[Review], tz: str) -> list[dict[str, Any]]:
    titles = _titles(s, {r.product_id for r in found})
    return [
        {
            "id": r.id,
            "product_id": r.product_id,
            "product": titles[r.product_id],
            "customer_id": r.customer_id,
            "anonymous": r.anonymous,
            "rating": r.rating,
            "content": r.content,
            "photos": list(r.photos),
            "follow_up": r.follow_up,
            "flags": list((r.precheck or {}).get("flags", []))
            + list(((r.precheck or {}).get("follow_up") or {}).get("flags", [])),
            "banned": list((r.precheck or {}).get("banned", [])),
            "status": r.status,
            "reject_reason": r.reject_reason,
            "reward_points": r.reward_points - r.reward_reversed,
            "reply": r.reply,
            "created_at": local_time(r.created_at, tz),
            "actions": ALLOWED.get(r.status, ()),
        }
        for r in found
    ]


def _summaries(s: Session, product_id: int | None) -> list[dict[str, Any]]:
    """The most reviewed products (or the one asked for) with their summaries."""
    ratings = product_ratings(s, product_ids=[product_id] if product_id else None)
    ranked = sorted(ratings.items(), key=lambda kv: (-kv[1].count, kv[0]))[:TOP_PRODUCTS]
    titles = _titles(s, {pid for pid, _ in ranked})
    return [{"product_id": pid, "product": titles[pid], "summary": sm} for pid, sm in ranked]


def _figure(products: list[dict[str, Any]], _: Callable[[str], str]) -> str:
    """Stars per product, one stacked bar each (5★ at the right), linking to its reviews."""
    if not any(p["summary"].count for p in products):
        return "{}"
    shown = list(reversed(products))  # the most reviewed on top
    names = [p["product"] for p in shown]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": f"{star}★",
            "y": names,
            "x": [p["summary"].distribution[star] for p in shown],
            "marker": {"color": STAR_COLOURS[star]},
            "customdata": [f"/console/reviews?product_id={p['product_id']}" for p in shown],
        }
        for star in range(rules.MIN_RATING, rules.MAX_RATING + 1)
    ]
    layout = {
        "barmode": "stack",
        "height": 120 + 28 * len(shown),
        "margin": {"t": 10, "l": 220, "r": 10, "b": 40},
        "xaxis": {"title": {"text": _("Reviews")}},
        "legend": {"orientation": "h"},
    }
    figures = {"rating-chart": {"data": data, "layout": layout}}
    return json.dumps(figures, ensure_ascii=False).replace("</", "<\\/")


def _page(
    request: Request,
    viewer: ConsoleViewer,
    status: str | None,
    page: int,
    product_id: int | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    extra.setdefault("row_errors", {})
    extra.setdefault("message", None)
    extra.setdefault("failed", None)
    extra.setdefault("form", {})
    extra.setdefault("status_error", None)
    tz = request.app.state.settings.timezone
    with session_scope(request.app.state.engine, readonly=True) as s:
        counts = count_reviews(s)
        found = list_reviews(
            s, status=status, product_id=product_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        rows = _rows(s, found, tz)
        products = _summaries(s, product_id)
    total = counts[status] if status else sum(counts.values())
    return render(
        request,
        "reviews.html",
        viewer,
        status_code,
        rows=rows,
        counts=counts,
        total=total,
        status=status,
        statuses=STATUSES,
        product_id=product_id,
        products=products,
        figures=_figure(products, Formatter(viewer.locale).gettext),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        **extra,
    )


@router.get("/reviews")
def reviews_page(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    status: Annotated[str | None, Query(max_length=24)] = "pending",
    product_id: Annotated[int | None, Query(ge=1)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    error = None
    if status and status not in STATUSES:
        error, status = "Unknown status.", None
    code = 200 if error is None else 422
    return _page(request, viewer, status or None, page, product_id, code, status_error=error)


@router.post("/reviews/{review_id}/{action}")
def review_action(
    request: Request,
    review_id: int,
    action: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    text: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    check_csrf(request, csrf)
    back = status if status in STATUSES else None
    text = text.strip()
    if action not in ACTIONS:
        return _page(request, viewer, back, 1, status_code=404, message="Unknown action.")
    limit = rules.MAX_REASON if action == "reject" else rules.MAX_REPLY
    if action != "publish" and not 1 <= len(text) <= limit:
        errors = {review_id: TEXT_ERRORS[action]}
        return _page(
            request, viewer, back, 1, status_code=422, row_errors=errors, form={review_id: text}
        )
    by = f"console:{viewer.username}"
    try:
        # One transaction per action: a refused move rolls back and changes nothing.
        with session_scope(request.app.state.engine) as s:
            if action == "publish":
                publish_review(s, review_id=review_id, by=by)
            elif action == "reject":
                reject_review(s, review_id=review_id, reason=text, by=by)
            else:
                reply_to_review(s, review_id=review_id, text=text, by=by)
    except ShopOpsError as exc:
        return _page(
            request, viewer, back, 1, status_code=exc.status_code, message=exc.message,
            failed=review_id,
        )  # fmt: skip
    target = "/console/reviews" + (f"?status={back}" if back else "?status=")
    return RedirectResponse(target, status_code=303)
