from fastapi.testclient import TestClient

from shopops.api.app import create_app
from shopops.api.ratelimit import TokenBuckets
from shopops.config import Settings


def test_bucket_allows_burst_then_refills():
    b = TokenBuckets(per_minute=60, burst=3)
    assert [b.take("a", 0.0) for _ in range(3)] == [0, 0, 0]
    assert b.take("a", 0.0) == 1.0  # one token a second
    assert b.take("b", 0.0) == 0  # callers are independent
    assert b.take("a", 1.0) == 0


def test_api_answers_429_with_retry_after(sqlite_engine, tmp_path):
    # one token a minute: no refill between requests however slow the machine is
    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=1, rate_limit_burst=2)
    with TestClient(create_app(settings, engine=sqlite_engine)) as c:
        codes = [c.get("/storefront/nothing").status_code for _ in range(3)]
        assert codes[:2] == [404, 404] and codes[2] == 429
        resp = c.get("/storefront/nothing")
        assert resp.json()["code"] == "rate_limited" and int(resp.headers["retry-after"]) >= 1
        assert c.get("/healthz").status_code == 200  # health checks are never limited
