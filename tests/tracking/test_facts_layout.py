"""fact_events' file layout: sorted by (event, person, time, id) within each day's file, in
small row groups, so funnel steps prune row groups by event and group persons in order."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from shopops.config import Settings
from shopops.tracking import service
from shopops.tracking.facts import EVENTS_ROW_GROUP, build_event_facts

T = dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC)  # 18:00 in Shanghai


def test_fact_events_sorted_by_event_person_time(tmp_path: Path):
    store = service.open_store(tmp_path)
    names = ["pay", "page_view", "add_to_cart", "product_view"]
    events = [
        {
            "event": names[(i * 7) % 4],
            "distinct_id": f"p{(i * 5) % 9}",
            "uuid": str(uuid.UUID(int=i + 1)),
            # two shop days; some events share an instant, so the id breaks ties
            "timestamp": (T + dt.timedelta(minutes=(i * 37) % 1500 // 2)).isoformat(),
            "properties": {},
        }
        for i in range(300)
    ]
    service.ingest_batch(store, events=events, received_at=T + dt.timedelta(days=2))
    service.close_store(store)
    counts = build_event_facts(Settings(data_dir=tmp_path))
    files = sorted((tmp_path / "warehouse" / "fact_events").glob("date=*/*.parquet"))
    assert len(files) == 2 and counts["fact_events"] == 300
    for path in files:
        rows = pq.read_table(path, columns=["event", "person_id", "ts_at", "event_id"]).to_pylist()
        keys = [(r["event"], r["person_id"], r["ts_at"], r["event_id"]) for r in rows]
        assert keys == sorted(keys)
        assert pq.ParquetFile(path).metadata.row_group(0).num_rows <= EVENTS_ROW_GROUP
    # A rebuild writes the same files.
    before = [p.read_bytes() for p in files]
    build_event_facts(Settings(data_dir=tmp_path))
    assert [p.read_bytes() for p in files] == before
