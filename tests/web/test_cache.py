"""The console's result cache: a hit while the warehouse is unchanged, recomputed after a
loader commit (the checkpoint rewritten), never cached mid-commit, refreshed in the background."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from shopops.web.cache import ResultCache, warehouse_version


def _commit(root: Path, n: int) -> None:
    # What the loader's commit does last: the checkpoint replaced atomically.
    tmp = root / "_state.json.tmp"
    tmp.write_text(json.dumps({"sources": {"outbox": n}}))
    os.replace(tmp, root / "_state.json")


def test_hits_until_the_loader_commits(tmp_path: Path) -> None:
    _commit(tmp_path, 1)
    cache = ResultCache(tmp_path)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get(("p", 1), compute) == 1
    assert cache.get(("p", 1), compute) == 1
    assert cache.get(("p", 2), compute) == 2  # another key: computed
    assert (cache.hits, cache.misses) == (1, 2)
    before = warehouse_version(tmp_path)
    _commit(tmp_path, 2)
    assert warehouse_version(tmp_path) != before
    assert cache.get(("p", 1), compute) == 3


def test_not_cached_while_a_commit_is_rolled_forward(tmp_path: Path) -> None:
    _commit(tmp_path, 1)
    (tmp_path / "_journal.json").write_text("{}")
    cache = ResultCache(tmp_path)
    values = iter(range(10))
    assert cache.get(("p",), lambda: next(values)) == 0
    assert cache.get(("p",), lambda: next(values)) == 1
    (tmp_path / "_journal.json").unlink()
    assert cache.get(("p",), lambda: next(values)) == 2
    assert cache.get(("p",), lambda: next(values)) == 2


def test_no_warehouse_yet_then_a_first_load(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    values = iter(range(10))
    assert cache.get(("p",), lambda: next(values)) == 0
    assert cache.get(("p",), lambda: next(values)) == 0
    _commit(tmp_path, 1)
    assert cache.get(("p",), lambda: next(values)) == 1


def test_refresher_recomputes_recent_keys_after_a_load(tmp_path: Path) -> None:
    _commit(tmp_path, 1)
    cache = ResultCache(tmp_path)
    counter = {"n": 0}

    def compute() -> int:
        counter["n"] += 1
        return counter["n"]

    assert cache.get(("overview",), compute) == 1
    assert cache.refresh_once() == 0  # nothing changed
    _commit(tmp_path, 2)
    assert cache.refresh_once() == 1
    hits = cache.hits
    assert cache.get(("overview",), compute) == 2  # the refreshed value, served as a hit
    assert cache.hits == hits + 1 and counter["n"] == 2


def test_concurrent_requests_compute_once(tmp_path: Path) -> None:
    _commit(tmp_path, 1)
    cache = ResultCache(tmp_path)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "done"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("k",), slow)))]
    threads[0].start()
    started.wait(5)
    threads.append(threading.Thread(target=lambda: results.append(cache.get(("k",), slow))))
    threads[1].start()
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["done", "done"] and len(calls) == 1
