"""`fact_reviews` of `gen_store.py`: about 30% of delivered lines reviewed a few days after
delivery, mostly 4–5★. Drawn from its own seeded generator, so adding it changes no other
table of a seed's store."""

from __future__ import annotations

from typing import Any

import numpy as np
from gen_store import DAY, ids, ints, strings, ts

STATUSES = ["published", "pending", "rejected"]


def reviews(s: Any, w: Any) -> int:
    o, li = s.o, s.li
    rng = np.random.default_rng(s.args.seed + 14)  # F-14: its own stream
    lo = li["order"]
    m = len(lo)
    at = o["delivered"][lo] + rng.integers(DAY // 4, 10 * DAY, m)
    chosen = o["is_delivered"][lo] & (rng.random(m) < 0.3) & (at < s.horizon)
    idx = np.flatnonzero(chosen)
    n = len(idx)
    rid = np.arange(1, n + 1)
    rating = rng.choice(np.arange(1, 6), n, p=[0.04, 0.03, 0.08, 0.25, 0.60])
    photos = np.where(rng.random(n) < 0.25, rng.integers(1, 10, n), 0)
    status = rng.choice(3, n, p=[0.9, 0.05, 0.05])
    follow = (rng.random(n) < 0.08) & (status != 2)
    follow_at = at[idx] + rng.integers(DAY, 30 * DAY, n)
    follow &= follow_at < s.horizon
    published = status == 0
    return int(
        w.fact(
            "fact_reviews",
            s.day_of(at[idx]),
            {
                "event_id": ids("review.submitted-", rid),
                "review_id": ints(rid),
                "order_id": ints(lo[idx] + 1),
                "line_id": ints(li["id"][idx]),
                "customer_id": ints(o["cust"][lo[idx]] + 1),
                "product_id": ints(s.product_of[li["sku"][idx]]),
                "sku_id": ints(li["sku"][idx] + 1),
                "rating": ints(rating),
                "photo_count": ints(photos),
                "has_photos": ints(photos).cast("bool"),
                "followed_up": ints(follow.astype(np.int64)).cast("bool"),
                "followed_up_at": ts(s.utc(follow_at), follow),
                "status": strings(STATUSES, status),
                "submitted_at": ts(s.utc(at[idx])),
                "published_at": ts(s.utc(at[idx]), published),
                "updated_seq": ints(rid * 4 + status),
            },
        )
    )
