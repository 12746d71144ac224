"""The storefront microcache: public product pages and lists served from serialized bytes.

What a CDN in front of a shop does, inside each server process: `GET /storefront/products/{id}`
and `GET /storefront/products?…` answers (200 only) are kept as bytes for `ttl` seconds, keyed by
product id (detail) or query string (list), with a strong `ETag`; `If-None-Match` gets a 304.
A hit never enters FastAPI (no routing, no dependencies, no thread, no database).

Staleness is bounded: an entry lives at most `ttl` seconds (default 2), and a commit that
changes a product (catalog events) or its stock (`stock.changed`) drops the product's entry,
and every list, in the process that committed it, right after the commit. Other worker
processes and other programs (CLI, simulator) are not told: there, what a shopper sees may lag
by up to `ttl`. Nothing sells from this cache: cart and checkout read stock in their own
transaction and refuse what is not there.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopops.db import after_commit
from shopops.events import OutboxEvent, subscribe

DETAIL_PREFIX = "/storefront/products/"
LIST_PATH = "/storefront/products"
DETAIL_ROUTE = "/storefront/products/{product_id}"

Key = tuple[str, Any]  # ("p", product id) or ("l", raw query string)


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: bytes
    content_type: bytes
    expires: float


class StorefrontCache:
    """Entries of one app (one process); thread-safe: commits invalidate from worker threads."""

    def __init__(
        self, ttl: float, *, max_entries: int = 20_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Key, Entry] = {}
        self._sku_product: dict[int, int] = {}  # which product a SKU's stock shows on
        self._pending: dict[Key, object] = {}  # misses in flight; invalidation withdraws them
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        _caches.add(self)

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires <= self.clock():
            return None
        return entry

    def begin(self, key: Key) -> object:
        """Start a miss: the token `put` needs, withdrawn if `key` is invalidated meanwhile
        (the response was read before the change committed: it must not be kept)."""
        token = object()
        with self._lock:
            self._pending[key] = token
        return token

    def abandon(self, key: Key, token: object) -> None:
        with self._lock:
            if self._pending.get(key) is token:
                del self._pending[key]

    def put(self, key: Key, token: object, body: bytes, content_type: bytes) -> tuple[Entry, bool]:
        """The entry for this answer, and whether it was kept (not if invalidated meanwhile)."""
        entry = Entry(body=body, etag=etag_of(body), content_type=content_type, expires=0.0)
        with self._lock:
            if self._pending.get(key) is not token:
                return entry, False
            del self._pending[key]
            if not self.enabled:
                return entry, False
            if len(self._entries) >= self.max_entries:
                self._evict()
            entry = Entry(body, entry.etag, content_type, self.clock() + self.ttl)
            self._entries[key] = entry
            if key[0] == "p":
                for sku_id in _sku_ids(body):
                    self._sku_product[sku_id] = key[1]
        return entry, True

    def _evict(self) -> None:
        now = self.clock()
        self._entries = {k: e for k, e in self._entries.items() if e.expires > now}
        if len(self._entries) >= self.max_entries:
            self._entries.clear()

    def invalidate(self, *, product_ids: Iterable[int] = (), sku_ids: Iterable[int] = ()) -> None:
        """Drop these products' pages; a catalog change (`product_ids`) drops every list too
        (lists show titles and prices, not stock, so a stock change (`sku_ids`) keeps them)."""
        with self._lock:
            products = set(product_ids)
            if products:
                self._drop_lists()
            for sku_id in sku_ids:
                product_id = self._sku_product.get(sku_id)
                if product_id is None:  # a SKU not seen yet: its product may be a miss in flight
                    self._pending.clear()
                else:
                    products.add(product_id)
            for product_id in products:
                self._entries.pop(("p", product_id), None)
                self._pending.pop(("p", product_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._pending.clear()

    def _drop_lists(self) -> None:
        for key in [k for k in self._entries if k[0] == "l"]:
            del self._entries[key]
        for key in [k for k in self._pending if k[0] == "l"]:
            del self._pending[key]


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def _sku_ids(body: bytes) -> list[int]:
    try:
        return [int(s["id"]) for s in json.loads(body).get("skus", ())]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 weak comparison: `*`, or any listed tag equal once `W/` is ignored."""
    for tag in if_none_match.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == etag:
            return True
    return False


# --- invalidation on commit --------------------------------------------------------------------

_caches: weakref.WeakSet[StorefrontCache] = weakref.WeakSet()
_PENDING = "storefront_cache_invalidate"


def invalidate_all(*, product_ids: Iterable[int] = (), sku_ids: Iterable[int] = ()) -> None:
    """Invalidate in every cache of this process (usually one: the app's)."""
    products, skus = list(product_ids), list(sku_ids)
    for cache in list(_caches):
        cache.invalidate(product_ids=products, sku_ids=skus)


def clear_all() -> None:
    for cache in list(_caches):
        cache.clear()


def clear_after_commit(session: Session) -> None:
    """Forget every cached page once `session` commits (a category or brand was renamed)."""
    after_commit(session, clear_all)


def _on_change(session: Session, event: OutboxEvent) -> None:
    # Collect the transaction's changes; invalidate once, after it commits.
    state: tuple[set[int], set[int], Callable[[], None]] | None = session.info.get(_PENDING)
    if state is None or state[2] not in session.info.get("after_commit", ()):
        # First change of this transaction (a rollback drops the hook: start again).
        products: set[int] = set()
        skus: set[int] = set()

        def _run() -> None:
            session.info.pop(_PENDING, None)
            invalidate_all(product_ids=products, sku_ids=skus)

        state = (products, skus, _run)
        session.info[_PENDING] = state
        after_commit(session, _run)
    payload = event.payload
    if "product_id" in payload:  # a catalog event (sku.* carry both ids)
        state[0].add(int(payload["product_id"]))
    elif "sku_id" in payload:  # stock.changed
        state[1].add(int(payload["sku_id"]))


# stock.changed carries the SKU; the catalog's events carry the product.
for _name in (
    "stock.changed",
    "product.created",
    "product.updated",
    "product.status_changed",
    "sku.created",
    "sku.updated",
):
    subscribe(_name, _on_change)


# --- the middleware ----------------------------------------------------------------------------


class _RouteLabel:
    """Stands in for the route on a hit, so telemetry labels it by its template."""

    def __init__(self, path: str) -> None:
        self.path = path


_DETAIL_LABEL = _RouteLabel(DETAIL_ROUTE)
_LIST_LABEL = _RouteLabel(LIST_PATH)


def cache_key(scope: Scope) -> Key | None:
    """The key of a cacheable request, or None (not a public storefront product read)."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if path == LIST_PATH:
        return ("l", scope.get("query_string", b""))
    if path.startswith(DETAIL_PREFIX) and not scope.get("query_string"):
        rest = path[len(DETAIL_PREFIX) :]
        if rest.isdigit() and rest.isascii() and len(rest) < 19:
            return ("p", int(rest))
    return None


class StorefrontCacheMiddleware:
    """Answers cacheable storefront reads from `cache`; fills it from the app on a miss.

    One request per key goes to the app at a time (like a CDN's request collapsing): the others
    that miss meanwhile wait for its answer, so an expiring entry under load costs one query,
    not one per waiting connection.
    """

    def __init__(self, app: ASGIApp, cache: StorefrontCache) -> None:
        self.app = app
        self.cache = cache
        self._inflight: dict[Key, asyncio.Future[Entry | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = cache_key(scope) if scope["type"] == "http" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        entry = self.cache.get(key)
        if entry is None and key in self._inflight:
            entry = await asyncio.shield(self._inflight[key])
            if entry is None:  # the leader's answer was not kept: ask the app ourselves
                await self.app(scope, receive, send)
                return
        if entry is not None:
            self.cache.hits += 1
            scope["route"] = _DETAIL_LABEL if key[0] == "p" else _LIST_LABEL
            await _answer(scope, send, entry)
            return
        self.cache.misses += 1
        waiters = asyncio.get_running_loop().create_future()
        self._inflight[key] = waiters
        kept: Entry | None = None
        try:
            kept = await self._fill(key, scope, receive, send)
        finally:
            del self._inflight[key]
            waiters.set_result(kept)

    async def _fill(self, key: Key, scope: Scope, receive: Receive, send: Send) -> Entry | None:
        """Ask the app; answer (with an ETag); return the entry if the cache kept it."""
        token = self.cache.begin(key)
        start: Message | None = None
        passthrough = False
        chunks: list[bytes] = []

        async def _capture(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
            elif message["type"] == "http.response.start":
                if message["status"] != 200:  # errors pass straight through, never kept
                    passthrough = True
                    await send(message)
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, _capture)
        finally:
            if start is None or passthrough:
                self.cache.abandon(key, token)
        if start is None or passthrough:
            return None
        content_type = b"application/json"
        for name, value in start.get("headers", ()):
            if name.lower() == b"content-type":
                content_type = value
        entry, kept = self.cache.put(key, token, b"".join(chunks), content_type)
        await _answer(scope, send, entry)
        return entry if kept else None


async def _answer(scope: Scope, send: Send, entry: Entry) -> None:
    headers = [
        (b"etag", entry.etag),
        # Clients and CDNs may keep it but must revalidate (a cheap 304) before reuse.
        (b"cache-control", b"no-cache"),
    ]
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if etag_matches(value, entry.etag):
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            break
    headers.append((b"content-type", entry.content_type))
    headers.append((b"content-length", str(len(entry.body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})
