"""The event log: durability (torn tails, crashes), replays, concurrency, identify."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path

import pytest

from shopops.tracking import service
from shopops.tracking import store as log
from shopops.tracking.errors import BatchTooLarge, InvalidBatch, InvalidEvent, MalformedBody

T0 = dt.datetime(2026, 11, 10, 12, 0, tzinfo=dt.UTC)


def _event(i: int, **extra: object) -> dict:
    return {
        "event": "page_view",
        "distinct_id": f"anon-{i % 7}",
        "uuid": str(uuid.UUID(int=i + 1)),
        "timestamp": (T0 + dt.timedelta(seconds=i)).isoformat(),
        "properties": {"url": f"https://shop.example.com/p/{i}"},
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path):
    opened = service.open_store(tmp_path, segment_bytes=64 * 1024)
    yield opened
    service.close_store(opened)


def _ids(data_dir: Path) -> list[str]:
    table = service.read_events(data_dir)
    return [
        e
        for e, n in zip(table["event_id"].to_pylist(), table["event"].to_pylist(), strict=True)
        if not n.startswith("$")
    ]


def test_batch_keeps_good_events_and_refuses_bad_ones_alone(store, tmp_path):
    events = [_event(0), {"event": "Bad Name", "distinct_id": ""}, _event(1), "not an object"]
    events.append(_event(2, properties={"sku_id": "x", "amount": -1}))
    result = service.ingest_batch(store, events=events, received_at=T0)
    assert result.accepted == 2
    assert [r.index for r in result.rejected] == [1, 3, 4]
    assert [r.split(":")[0] for r in result.rejected[0].reasons] == ["distinct_id", "event"]
    assert result.rejected[2].reasons == [
        "properties.amount: a non-negative integer amount in fen",
        "properties.sku_id: a positive integer id is required",
    ]
    assert sorted(_ids(tmp_path)) == sorted(str(uuid.UUID(int=i + 1)) for i in (0, 1))


def test_an_acknowledged_batch_survives_a_torn_tail(tmp_path):
    store = service.open_store(tmp_path)
    for k in range(3):
        service.ingest_batch(store, events=[_event(10 * k + j) for j in range(10)])
    segment = log.segment_paths(store.directory)[0]
    size = segment.stat().st_size
    # The process dies while writing a fourth batch: half a frame reaches the disk.
    torn = log.frame(log.encode_frame({"kind": "batch"}, b"[1,2,3]"))[:-4]
    with segment.open("ab") as f:
        f.write(torn)
    store.log.close()  # drop the writer without sealing anything new (a crash)
    service._stores.clear()
    reopened = service.open_store(tmp_path)  # recovery: cut the tail, compact
    assert sorted(_ids(tmp_path)) == sorted(str(uuid.UUID(int=i + 1)) for i in range(30))
    assert not segment.exists()  # compacted into Parquet, then deleted
    assert list((tmp_path / "events" / "parquet").glob("date=*/*.parquet"))
    assert size > 0
    service.close_store(reopened)


def test_read_frames_stops_at_a_bad_crc():
    good = log.frame(b"one") + log.frame(b"two")
    bad = bytearray(log.frame(b"three"))
    bad[-1] ^= 0xFF
    frames, end = log.read_frames(good + bytes(bad))
    assert frames == [b"one", b"two"] and end == len(good)


def test_a_replayed_batch_is_stored_twice_but_counted_once(store, tmp_path):
    from shopops.tracking.facts import build_event_facts

    batch = [_event(i) for i in range(5)]
    no_ids = [{k: v for k, v in e.items() if k != "uuid"} for e in batch]
    for _ in range(2):
        service.ingest_batch(store, events=batch)
        service.ingest_batch(store, events=no_ids)  # content ids: a retry dedups too
    counts = build_event_facts(tmp_path)
    assert counts["fact_events"] == 10
    assert len(_ids(tmp_path)) == 20


def test_concurrent_writers_lose_and_double_nothing(store, tmp_path):
    def work(k: int) -> None:
        for b in range(5):
            service.ingest_batch(store, events=[_event(1000 * k + 20 * b + j) for j in range(20)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = _ids(tmp_path)
    assert len(ids) == len(set(ids)) == 4 * 5 * 20
    assert store.log.syncs <= 4 * 5  # group commit: never more syncs than batches
    service.compact_events(store)  # segments (several: 64 KB each) → Parquet
    assert sorted(_ids(tmp_path)) == sorted(ids)


def test_body_bytes_are_parsed_and_refused_whole_when_not_a_batch(store):
    body = json.dumps({"batch": [_event(0)], "sent_at": T0.isoformat()}).encode()
    assert service.ingest_batch(store, body=body).accepted == 1
    with pytest.raises(MalformedBody):
        service.ingest_batch(store, body=b"{not json")
    with pytest.raises(InvalidBatch):
        service.ingest_batch(store, body=b'{"events": []}')
    with pytest.raises(BatchTooLarge):
        service.ingest_batch(store, events=[_event(i) for i in range(service.MAX_BATCH + 1)])


def test_clock_skew_is_corrected_and_clamped(store, tmp_path):
    later = T0 + dt.timedelta(hours=1)
    future = {**_event(0), "timestamp": (later + dt.timedelta(days=1)).isoformat()}
    skewed = {**_event(1), "timestamp": (T0 + dt.timedelta(minutes=10)).isoformat()}
    service.ingest_batch(store, events=[future], received_at=later)
    # The client's clock runs 20 minutes fast: sent_at says so.
    service.ingest_batch(
        store, events=[skewed], received_at=T0, sent_at=(T0 + dt.timedelta(minutes=20)).isoformat()
    )
    rows = service.read_events(tmp_path).to_pylist()
    times = {r["event_id"]: r["ts_at"] for r in rows}
    assert times[future["uuid"]] == later
    assert times[skewed["uuid"]] == T0 - dt.timedelta(minutes=10)


def test_identify_validates_and_is_durable(store, tmp_path):
    with pytest.raises(InvalidEvent):
        service.identify(store, distinct_id="", customer_id=1)
    with pytest.raises(InvalidEvent):
        service.identify(store, distinct_id="a", customer_id=0)
    assert service.identify(store, distinct_id="anon-1", customer_id=7) == "7"
    rows = service.read_events(tmp_path).to_pylist()
    assert [(r["event"], r["distinct_id"], r["customer_id"]) for r in rows] == [
        ("$identify", "anon-1", 7)
    ]
    with pytest.raises(InvalidEvent):
        service.ingest_event(store, event={"event": "x"})
