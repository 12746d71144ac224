"""A result cache for the console's analytics: keyed by the warehouse's state, so a page's
numbers are recomputed exactly when the loader has written new data.

The loader makes every change visible with one commit that rewrites `_state.json` (and, while
a commit is being rolled forward, holds `_journal.json`): the state file's (mtime, size, inode)
is therefore a version of the whole warehouse that costs one `stat` to read. Results are kept
per (version, page, arguments); an old version's entries are dropped as soon as a new one is
seen. Only warehouse results are cached: reads of the store's database (stock levels) stay live.

A computation costs 1–4 s on a loaded two-core machine, so a refresher thread polls the
version every POLL_SECONDS and, after a load, recomputes the most recently used keys (at most
REWARM) in the background: the pages people have open are warm again before they reload them.
A request for a key being recomputed waits for that computation instead of starting another.
Computations share one warehouse connection per version (DuckDB keeps the partition files'
footers; a fresh connection per request read them again: ~25 % of a cold page), one at a time
since a DuckDB connection is not safe to share between threads.
`SHOPOPS_CONSOLE_PREWARM=0` turns the refresher off.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request

from shopops.analytics.engine import Warehouse, open_warehouse

T = TypeVar("T")
MAX_ENTRIES = 256
REWARM = 12
POLL_SECONDS = 2.0
log = logging.getLogger(__name__)
STATE = "_state.json"
JOURNAL = "_journal.json"


def warehouse_version(root: Path) -> tuple[int, ...]:
    """The warehouse's state as a tuple that changes with every loader commit."""
    try:
        st = (root / STATE).stat()
        version: tuple[int, ...] = (st.st_mtime_ns, st.st_size, st.st_ino)
    except FileNotFoundError:
        version = (0, 0, 0)
    # A half-finished commit: do not cache what a reader sees in between.
    if (root / JOURNAL).exists():
        return (*version, -1)
    return version


class ResultCache:
    """Bounded LRU of computed results for one warehouse directory; thread-safe, and one
    computation per key at a time (concurrent requests for the same page wait for it)."""

    def __init__(self, root: Path, max_entries: int = MAX_ENTRIES) -> None:
        self.root = root
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._version: tuple[int, ...] | None = None
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Hashable, ...], threading.Lock] = {}
        # The most recently asked keys and how to compute them, for the refresher.
        self._recipes: OrderedDict[tuple[Hashable, ...], Callable[[], Any]] = OrderedDict()
        self._refresher: threading.Thread | None = None
        self._stop = threading.Event()
        self._wh: Warehouse | None = None
        self._wh_version: tuple[int, ...] | None = None
        self.wh_lock = threading.RLock()
        self.hits = 0
        self.misses = 0
        self.rewarmed = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reset(self) -> None:
        """Forget results and the warehouse connection: the state right after a load."""
        with self.wh_lock, self._lock:
            self._entries.clear()
            self._wh = None

    def warehouse(self) -> Warehouse:
        """The shared warehouse of the current version (call with `wh_lock` held)."""
        version = warehouse_version(self.root)
        if self._wh is None or version != self._wh_version:
            # New files: a new connection, so no table or footer of the old version lingers.
            self._wh = open_warehouse(self.root.parent)
            self._wh_version = version
        return self._wh

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            self._recipes[key] = compute
            self._recipes.move_to_end(key)
            while len(self._recipes) > REWARM:
                self._recipes.popitem(last=False)
        return self._get(key, compute)

    def _get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        version = warehouse_version(self.root)
        if version and version[-1] == -1:
            return compute()
        full = (version, *key)
        with self._lock:
            if version != self._version:
                # New data: every older result is stale.
                self._entries.clear()
                self._key_locks.clear()
                self._version = version
            if full in self._entries:
                self._entries.move_to_end(full)
                self.hits += 1
                return self._entries[full]  # type: ignore[no-any-return]
            key_lock = self._key_locks.setdefault(full, threading.Lock())
        with key_lock:
            with self._lock:
                if full in self._entries:
                    self.hits += 1
                    return self._entries[full]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self.misses += 1
                if self._version == version:
                    self._entries[full] = value
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
                self._key_locks.pop(full, None)
            return value

    def start_refresher(self) -> None:
        """Start the background refresher (once; a daemon thread)."""
        with self._lock:
            if self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh_loop, name="console-cache-refresher", daemon=True
                )
                self._refresher.start()
                # Stop the thread and close DuckDB before the interpreter tears down: a
                # connection destroyed mid-shutdown aborts the process.
                atexit.register(self.close)

    def close(self) -> None:
        """Stop the refresher and close the shared warehouse connection."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=10)
        with self.wh_lock:
            if self._wh is not None:
                with contextlib.suppress(Exception):
                    self._wh.con.disconnect()
                self._wh = None

    def refresh_once(self) -> int:
        """If the warehouse changed since the last look, recompute the recent keys, newest
        first; how many were recomputed."""
        version = warehouse_version(self.root)
        with self._lock:
            if version == self._version or version[-1] == -1:
                return 0
            recipes = list(reversed(self._recipes.items()))
        done = 0
        for key, compute in recipes:
            if self._stop.is_set():
                break
            # A failed recomputation is only a missed warm-up: the request computes it again.
            with contextlib.suppress(Exception):
                self._get(key, compute)
                done += 1
        self.rewarmed += done
        return done

    def _refresh_loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh_once()
            except Exception:  # the thread must outlive any one bad refresh
                log.exception("console cache refresh failed")


def result_cache(request: Request) -> ResultCache:
    """The app's cache (one per app, created on first use)."""
    state = request.app.state
    cache = getattr(state, "console_cache", None)
    if cache is None:
        with _create_lock:
            cache = getattr(state, "console_cache", None)
            if cache is None:
                root = Path(state.settings.data_dir) / "warehouse"
                cache = state.console_cache = ResultCache(root)
                if os.environ.get("SHOPOPS_CONSOLE_PREWARM", "1") != "0":
                    cache.start_refresher()
    return cache  # type: ignore[no-any-return]


_create_lock = threading.Lock()


def cached(request: Request, key: tuple[Hashable, ...], compute: Callable[[Warehouse], T]) -> T:
    """`compute(warehouse)` for `key`, from the cache while the warehouse has not changed."""
    cache = result_cache(request)

    def run() -> T:
        with cache.wh_lock:
            return compute(cache.warehouse())

    return cache.get(key, run)
