"""The background compactor: one worker for the run, a round per request, awaited at the end."""

from __future__ import annotations

import datetime as dt

import pytest

from shopops.sim import compaction
from shopops.sim.compaction import BackgroundCompactor, CompactionFailed
from shopops.tracking import service as tracking

AT = dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC)


def _event(store: tracking.EventStore, n: int) -> None:
    tracking.ingest_event(
        store,
        event={"event": "page_view", "distinct_id": f"v{n}", "timestamp": AT.isoformat()},
        received_at=AT,
    )


def test_one_worker_compacts_every_round_and_exits_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(compaction.os, "cpu_count", lambda: 2)
    store = tracking.open_store(tmp_path)
    compactor = BackgroundCompactor(store, compaction.MIN_DAYS)
    assert compactor.enabled and compactor.due(1)
    workers = set()
    for n in range(3):
        _event(store, n)
        compactor.start(seal=True)
        assert compactor.worker is not None
        workers.add(compactor.worker.pid)
    worker = compactor.worker
    tracking.compact_events(store)  # the end: in process, beside the worker's round
    compactor.finish()
    assert len(workers) == 1 and worker.returncode == 0
    assert not list(store.directory.glob("*.seg"))
    assert len(tracking.read_events(tmp_path)) == 3
    tracking.close_store(store)


def test_a_failed_worker_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(compaction.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(compaction, "WORKER", "import sys; sys.stdin.read(); sys.exit(3)")
    store = tracking.open_store(tmp_path)
    compactor = BackgroundCompactor(store, compaction.MIN_DAYS)
    _event(store, 1)
    compactor.start(seal=True)
    with pytest.raises(CompactionFailed):
        compactor.finish()
    assert list(store.directory.glob("*.seg"))  # left for the next run's recovery
    tracking.close_store(store)
