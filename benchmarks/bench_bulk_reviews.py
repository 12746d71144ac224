"""Bulk reviews: `reviews.submit_reviews_many` against `submit_reviews` per order, CPU per
reviewed order.

    uv run python benchmarks/bench_bulk_reviews.py [--orders N] [--batch 20]

Builds one SQLite store of N delivered orders (1–3 lines; the test factories), copies it,
then writes the same reviews (a mix of clean texts with photos that earn 晒单有奖 points, stars
only, and ads the pre-check holds) once through `submit_reviews` per order (clock set to each
order's moment) and once through `submit_reviews_many` in batches, each batch one unit of
work in both runs. Prints CPU ms per reviewed order (`time.process_time`) and their RATIO,
then checks both stores end equal (review, review_request, points_entry, customer rows and
the outbox events). Exits non-zero only if they differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test factories build the store

from sqlalchemy import Engine, select
from tests import factories as f

import shopops.models  # noqa: F401  (every table and subscriber)
from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.events import OutboxEvent
from shopops.reviews import service as reviews
from shopops.reviews.service_bulk import ReviewItem, submit_reviews_many

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("review", "review_request", "points_entry", "customer")
TEXTS = ["充电速度很快，手机半小时就充到一半多，体积小巧，出差带着很方便！", "",
         "和描述一致，很满意。", "好评返现，加微信领红包"]  # fmt: skip


def build(engine: Engine, n: int) -> list[tuple[int, int, str, list[int]]]:
    with session_scope(engine) as s:
        set_clock(s, T0)
        custs = [f.customer(s) for _ in range(max(1, n // 3))]
        out = []
        for i in range(n):
            o = f.delivered_order(s, cust=custs[i % len(custs)], skus=1 + i % 3)
            out.append((o.id, o.customer_id, o.number, [ln.id for ln in o.lines]))
        return out


def items(built: list[tuple[int, int, str, list[int]]]) -> list[tuple[str, ReviewItem]]:
    rng = random.Random(5)
    out = []
    for k, (oid, cid, number, lines) in enumerate(built):
        drafts = []
        for lid in lines:
            photos = tuple(f"https://img.example/{lid}-{j}.jpg" for j in range(rng.randint(0, 2)))
            drafts.append(reviews.ReviewDraft(lid, rng.randint(3, 5), rng.choice(TEXTS), photos))
        out.append((number, ReviewItem(cid, oid, drafts, T0 + dt.timedelta(days=3, minutes=k))))
    return out


def snapshot(engine: Engine) -> dict[str, Any]:
    meta = Base.metadata.tables
    out: dict[str, Any] = {}
    with session_scope(engine, readonly=True) as s:
        for name in TABLES:
            t = meta[name]
            out[name] = [dict(r) for r in s.execute(select(t).order_by(t.c.id)).mappings()]
        rows = s.execute(select(OutboxEvent.name, OutboxEvent.aggregate_id, OutboxEvent.payload,
                                OutboxEvent.occurred_at)).all()  # fmt: skip
        out["events"] = sorted((n, a, json.dumps(p, sort_keys=True), str(t)) for n, a, p, t in rows)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--batch", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    single_url, bulk_url = f"sqlite:///{tmp / 'single.db'}", f"sqlite:///{tmp / 'bulk.db'}"
    builder = make_engine(single_url)
    Base.metadata.create_all(builder)
    todo = items(build(builder, args.orders))
    builder.dispose()
    shutil.copy(tmp / "single.db", tmp / "bulk.db")
    a, b = make_engine(single_url), make_engine(bulk_url)
    batches = [todo[k : k + args.batch] for k in range(0, len(todo), args.batch)]
    t = time.process_time()
    for batch in batches:
        with session_scope(a) as s:
            for number, it in batch:
                set_clock(s, it.at)
                reviews.submit_reviews(s, customer_id=it.customer_id, order_number=number,
                                       drafts=it.drafts)  # fmt: skip
    single = (time.process_time() - t) * 1000 / len(todo)
    t = time.process_time()
    for batch in batches:
        with session_scope(b) as s:
            submit_reviews_many(s, items=[it for _, it in batch])
    bulk = (time.process_time() - t) * 1000 / len(todo)
    print(f"orders={len(todo)} batch={args.batch}")
    print(f"single  {single:7.3f} ms CPU per reviewed order")
    print(f"bulk    {bulk:7.3f} ms CPU per reviewed order")
    print(f"RATIO   {single / bulk:7.1f}x")
    same = snapshot(a) == snapshot(b)
    print("stores equal" if same else "STORES DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
