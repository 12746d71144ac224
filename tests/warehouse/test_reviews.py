"""`fact_reviews`: review events → one accumulating row per review, dated the day it was
submitted; loaded, it agrees with the review table by independent SQL, and replays change
nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
from sqlalchemy import Engine

from shopops.warehouse import files, load_warehouse
from shopops.warehouse.facts import Event, Lookups, apply_patches, build
from tests.warehouse.reviews_store import add_reviews, follow_up_and_reject, review_figures
from tests.warehouse.test_loader import contents

TZ = "Asia/Shanghai"
# 20:00 UTC on 11-10 is 11-11 in Shanghai: the row lands in the shop's day.
SUBMITTED = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)
LATER = SUBMITTED + dt.timedelta(days=3)
PAYLOAD = {
    "review_id": 9, "order_id": 7, "order_line_id": 70, "customer_id": 3, "product_id": 2,
    "sku_id": 5, "rating": 4, "photo_count": 2, "status": "pending",
    "created_at": SUBMITTED.isoformat(),
}  # fmt: skip


def _ev(name: str, seq: int, at: dt.datetime, **extra: object) -> Event:
    return Event(f"e{seq}", seq, name, at, {**PAYLOAD, **extra})


def test_review_events_accumulate_on_one_row_in_the_submitted_day() -> None:
    events = [
        _ev("review.submitted", 1, SUBMITTED),
        _ev("review.published", 2, SUBMITTED, status="published"),
        _ev("review.followed_up", 3, LATER, status="pending", followed_up_at=LATER.isoformat()),
    ]
    out = build(events, Lookups(), TZ)
    patches = out.patches["fact_reviews"]
    assert {p.date for p in patches} == {dt.date(2026, 11, 11)}
    rows: dict[int, dict[str, object]] = {}
    apply_patches(rows, patches, "review_id")
    row = rows[9]
    assert row["event_id"] == "e1" and row["updated_seq"] == 3
    assert (row["rating"], row["photo_count"], row["has_photos"]) == (4, 2, True)
    assert (row["order_id"], row["line_id"], row["sku_id"], row["product_id"]) == (7, 70, 5, 2)
    assert row["followed_up"] is True and row["followed_up_at"] == LATER
    # The follow-up's flag sent it back to the queue: the newest status wins.
    assert row["status"] == "pending" and row["published_at"] == SUBMITTED
    # Replayed or older events change nothing.
    assert apply_patches(rows, patches, "review_id") == {}
    assert rows[9]["status"] == "pending"


def test_a_review_without_photos_or_follow_up() -> None:
    out = build([_ev("review.submitted", 1, SUBMITTED, photo_count=0)], Lookups(), TZ)
    rows: dict[int, dict[str, object]] = {}
    apply_patches(rows, out.patches["fact_reviews"], "review_id")
    assert rows[9]["has_photos"] is False and rows[9]["followed_up"] is False


def _figures(root: Path) -> dict[str, int]:
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW r AS SELECT * FROM read_parquet("
        f"'{root}/fact_reviews/date=*/part-0.parquet', hive_partitioning = true)"
    )
    queries = {
        "reviews": "SELECT COUNT(*) FROM r",
        "rating_sum": "SELECT SUM(rating) FROM r",
        "with_photos": "SELECT COUNT(*) FROM r WHERE has_photos",
        "followed_up": "SELECT COUNT(*) FROM r WHERE followed_up",
        "published": "SELECT COUNT(*) FROM r WHERE status = 'published'",
        "rejected": "SELECT COUNT(*) FROM r WHERE status = 'rejected'",
        "pending": "SELECT COUNT(*) FROM r WHERE status = 'pending'",
        "reviewed_orders": "SELECT COUNT(DISTINCT order_id) FROM r",
    }
    out = {k: int(con.execute(q).fetchone()[0] or 0) for k, q in queries.items()}  # type: ignore[index]
    con.close()
    return out


def test_loads_reviews_and_follows_their_changes(engine: Engine, tmp_path: Path) -> None:
    store = add_reviews(engine)
    load_warehouse(engine, data_dir=tmp_path)
    root = tmp_path / "warehouse"
    first = review_figures(engine)
    assert first["reviews"] == 4 and first["rating_sum"] == 12  # hand count: 5 + 4 + 1 + 2
    assert _figures(root) == first
    follow_up_and_reject(engine, store)
    report = load_warehouse(engine, data_dir=tmp_path)
    assert report.rows.get("fact_reviews") == 2  # two rows changed, none added
    second = review_figures(engine)
    assert second["followed_up"] == 1 and second["rejected"] == 1
    assert _figures(root) == second


def test_replaying_reviews_changes_nothing(sqlite_engine: Engine, tmp_path: Path) -> None:
    store = add_reviews(sqlite_engine)
    follow_up_and_reject(sqlite_engine, store)
    load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=5)
    root = tmp_path / "warehouse"
    before = contents(root)
    state = files.read_state(root)
    state["sources"]["outbox"] = 0
    (root / "_state.json").write_text(json.dumps(state))
    replay = load_warehouse(sqlite_engine, data_dir=tmp_path, batch_size=5)
    assert replay.events > 0 and "fact_reviews" not in replay.rows
    assert {k: v for k, v in contents(root).items() if "fact_reviews" in k} == {
        k: v for k, v in before.items() if "fact_reviews" in k
    }
    assert _figures(root) == review_figures(sqlite_engine)
