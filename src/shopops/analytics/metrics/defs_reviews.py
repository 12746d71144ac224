"""Review metrics (F-14, 售后库存服务 group): average rating, review rate, good and negative
review shares, over `fact_reviews` and the orders completed in the period.

This module brings its own sources and measures and adds them to the shared `SOURCES` and
`MEASURES` when it is imported (the registry imports it), so the review family stays in one
file. Reviews count in the period of the day they were submitted; a rejected review (spam,
unrelated content) does not count towards ratings. An order counts as reviewed when any of its
lines has a review, whenever it was written.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir

from shopops.analytics.metrics.measures import MEASURES, Measure
from shopops.analytics.metrics.metric import Metric, _m, _r
from shopops.analytics.metrics.sources import (
    CUSTOMER_DIMS,
    PRODUCT_DIMS,
    SOURCES,
    Context,
    Source,
    _cols,
    _simple,
    _with_customer,
)

GOOD_FROM = 4  # 好评: 4–5★
NEGATIVE_UPTO = 2  # 差评: 1–2★
REJECTED = "rejected"
_REVIEWED = frozenset({"reviewed"})


def _completed(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    """Orders completed in the periods (`_ts` = completed_at), with `_reviewed` on demand."""
    # An order is placed no later than it completes: later partitions cannot hold one.
    known = ctx.wh.derived("completion_lag")
    if known is not None:
        # Nor placed more than the longest completion lag (UTC dates: a day more for the shop's
        # time zone) before the first day; a negative lag widens the far side.
        lag = known[1]
        widen = {
            "before_days": int(lag["max_lag_days"]) + 1,
            "after_days": max(0, -int(lag.get("min_lag_days", 0))) + 1,
        }
        o = ctx.dated("fact_orders", **widen)
        placed = (o.date <= ctx.hi) & ctx.within(o.date, **widen)
    else:
        o = ctx.until("fact_orders")
        placed = o.date <= ctx.hi
    t = o.filter(placed & o.completed_at.notnull()).mutate(_ts=o.completed_at)
    t = _cols(t, dims, {"sales_channel": "sales_channel", "province": "province"})
    t = _with_customer(ctx, t, dims, "customer_id")
    if "reviewed" in features:
        known = ctx.wh.derived("reviewed_orders")
        if known is not None:
            # The loader's distinct reviewed orders (one file, not every review partition).
            k = known[0]
            reviewed = k.select(_r_order=k.order_id)
        else:
            r = ctx.wh.dated("fact_reviews")
            reviewed = r.select(_r_order=r.order_id).distinct()
        j = t.left_join(reviewed, t.order_id == reviewed._r_order)
        t = j.mutate(_reviewed=j._r_order.notnull()).drop("_r_order")
    return t


def _kept(s: ir.Table) -> ir.BooleanValue:
    return s.status.notnull() & (s.status != REJECTED)


REVIEW_SOURCES: tuple[Source, ...] = (
    Source(
        "reviews",
        "fact_reviews",
        (*PRODUCT_DIMS, *CUSTOMER_DIMS),
        _simple("fact_reviews", {}, product=True, customer=True),
    ),
    Source(
        "orders_completed",
        "fact_orders",
        ("sales_channel", "province", *CUSTOMER_DIMS),
        _completed,
        scope="ts",
    ),
)

REVIEW_MEASURES: tuple[Measure, ...] = (
    Measure("reviews", "reviews", lambda s: s.count(where=_kept(s))),
    Measure("rating_sum", "reviews", lambda s: s.rating.sum(where=_kept(s))),
    Measure("good_reviews", "reviews", lambda s: s.count(where=_kept(s) & (s.rating >= GOOD_FROM))),
    Measure(
        "negative_reviews",
        "reviews",
        lambda s: s.count(where=_kept(s) & (s.rating <= NEGATIVE_UPTO)),
    ),
    Measure("completed_orders", "orders_completed", lambda s: s.count()),
    Measure(
        "reviewed_completed_orders",
        "orders_completed",
        lambda s: s.count(where=s._reviewed),
        features=_REVIEWED,
    ),
)

for _source in REVIEW_SOURCES:
    SOURCES.setdefault(_source.name, _source)
for _measure in REVIEW_MEASURES:
    MEASURES.setdefault(_measure.name, _measure)

G = "售后库存服务"
REVIEWS: tuple[Metric, ...] = (
    _m(
        "reviews",
        "评价数",
        "Reviews",
        G,
        "reviews submitted in the period, not rejected",
        "count",
        "up",
        ["reviews"],
    ),
    _m(
        "avg_rating",
        "平均评分",
        "Average rating",
        G,
        "Σ stars / reviews (submitted in the period, not rejected; 1–5)",
        "count",
        "up",
        ["rating_sum", "reviews"],
        _r("rating_sum", "reviews"),
        "decimal",
    ),
    _m(
        "review_rate",
        "评价率",
        "Review rate",
        G,
        "orders completed in the period with ≥ 1 review / orders completed in the period",
        "ratio",
        "up",
        ["reviewed_completed_orders", "completed_orders"],
        _r("reviewed_completed_orders", "completed_orders"),
        "percent",
    ),
    _m(
        "good_review_rate",
        "好评率",
        "Good-review share",
        G,
        "reviews with 4–5★ / reviews",
        "ratio",
        "up",
        ["good_reviews", "reviews"],
        _r("good_reviews", "reviews"),
        "percent",
    ),
    _m(
        "negative_review_rate",
        "差评率",
        "Negative-review share",
        G,
        "reviews with 1–2★ / reviews",
        "ratio",
        "down",
        ["negative_reviews", "reviews"],
        _r("negative_reviews", "reviews"),
        "percent",
    ),
)
