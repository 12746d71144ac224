"""Rate limits per caller (API key, or client address for anonymous calls): a token bucket.

A caller gets `per_minute` requests a minute on average and bursts up to `burst`; past that the
API answers 429 `rate_limited` with `Retry-After`. In-process state: one bucket per caller per
server process, which is what an embedded deployment needs; a shared limiter (Redis) can replace
`TokenBuckets` behind the same middleware when the API runs on several machines.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

from shopops.api.errors import error_body


class TokenBuckets:
    """Pure-ish limiter (time is injected) shared by all requests of one process."""

    def __init__(self, per_minute: int, burst: int, max_callers: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, caller: str, now: float) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        with self._lock:
            tokens, last = self._buckets.pop(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[caller] = (tokens, now)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)  # forget the longest-idle caller
            return wait


def caller_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name in (b"authorization", b"x-api-key"):
            return "key:" + hashlib.sha256(value).hexdigest()[:16]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in ("/healthz", "/metrics"):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(caller_id(scope), time.monotonic())
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        import json

        body = json.dumps(
            error_body("rate_limited", f"too many requests; retry in {math.ceil(wait)} s")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(math.ceil(wait)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
