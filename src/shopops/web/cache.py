"""A result cache for the console's analytics: keyed by the warehouse's state, so a page's
numbers are recomputed exactly when the loader has written new data.

The loader makes every change visible with one commit that rewrites `_state.json` (and, while
a commit is being rolled forward, holds `_journal.json`): the state file's (mtime, size, inode)
is therefore a version of the whole warehouse that costs one `stat` to read. Results are kept
per (version, page, arguments); an old version's entries are dropped as soon as a new one is
seen. Only warehouse results are cached: reads of the store's database (titles, stock levels)
stay live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request

from shopops.analytics.engine import Warehouse, open_warehouse

T = TypeVar("T")
MAX_ENTRIES = 256
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
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
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
    return cache  # type: ignore[no-any-return]


_create_lock = threading.Lock()


def cached(request: Request, key: tuple[Hashable, ...], compute: Callable[[Warehouse], T]) -> T:
    """`compute(warehouse)` for `key`, from the cache while the warehouse has not changed."""
    data_dir = request.app.state.settings.data_dir
    return result_cache(request).get(key, lambda: compute(open_warehouse(data_dir)))
