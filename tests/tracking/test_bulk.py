"""Bulk ingestion (a loader's path): the same checks and rows as batches, one sync."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from shopops.tracking import service
from shopops.tracking.errors import InvalidEvent

T0 = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)


def _event(i: int) -> dict:
    return {
        "event": "product_view",
        "distinct_id": f"anon-{i % 5}",
        "uuid": str(uuid.UUID(int=i + 1)),
        "timestamp": (T0 + dt.timedelta(seconds=i)).isoformat(),
        "properties": {"url": f"https://shop.example.com/p/{i}", "sku_id": 1 + i % 3},
    }


@pytest.fixture
def store(tmp_path: Path):
    opened = service.open_store(tmp_path, segment_bytes=64 * 1024)
    yield opened
    service.close_store(opened)


def _rows(data_dir: Path) -> list[tuple]:
    table = service.read_events(data_dir).to_pylist()
    return sorted((r["event_id"], r["event"], r["distinct_id"], r["sku_id"]) for r in table)


def test_ingest_many_stores_what_batches_store_with_one_sync(store, tmp_path, monkeypatch):
    monkeypatch.setattr(service, "MAX_BATCH", 10)  # 25 events → 3 frames
    events = [_event(i) for i in range(25)]
    events[3] = {"event": "Bad Name", "distinct_id": "x"}
    events[17] = "not an object"
    before = store.log.syncs
    result = service.ingest_many(store, events=events, received_at=T0)
    assert store.log.syncs - before == 1
    assert result.accepted == 23
    assert [r.index for r in result.rejected] == [3, 17]

    other = tmp_path / "batches"
    single = service.open_store(other)
    try:
        for k in range(0, 25, 10):
            service.ingest_batch(single, events=events[k : k + 10], received_at=T0)
    finally:
        service.close_store(single)
    assert len(_rows(tmp_path)) == 23
    assert _rows(tmp_path) == _rows(other)


def test_identify_many_checks_each_before_writing_and_syncs_once(store, tmp_path):
    with pytest.raises(InvalidEvent):
        service.identify_many(store, identities=[("anon-1", 7, T0), ("anon-2", 0, T0)])
    assert service.read_events(tmp_path).num_rows == 0
    before = store.log.syncs
    service.identify_many(store, identities=[("anon-1", 7, T0), ("anon-2", 8, T0)])
    assert store.log.syncs - before == 1
    rows = service.read_events(tmp_path).to_pylist()
    assert sorted((r["event"], r["distinct_id"], r["customer_id"]) for r in rows) == [
        ("$identify", "anon-1", 7),
        ("$identify", "anon-2", 8),
    ]
