"""The storefront microcache: ETag/304, invalidation after commit, TTL, request collapsing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests import factories as f

from shopops.api.app import create_app
from shopops.api.microcache import StorefrontCache, StorefrontCacheMiddleware, etag_matches
from shopops.catalog import service as catalog
from shopops.config import Settings
from shopops.db import session_scope
from shopops.inventory import service as inventory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shop(client):
    """A listed product with one SKU (price 19900, 100 in stock); the app's cache on a fake
    clock."""
    with session_scope(client.app.state.engine) as s:
        wh = f.warehouse(s)
        p = f.product(s, price=19900, stock=100, wh=wh)
        ids = {"product": p.id, "sku": p.skus[0].id, "warehouse": wh.id}
    clock = Clock()
    client.app.state.storefront_cache.clock = clock
    return {**ids, "clock": clock, "url": f"/storefront/products/{p.id}"}


def _raw_price(client, sku_id: int, price: int) -> None:
    # Behind the services' back: no event, so only the TTL can make it visible.
    with client.app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE sku SET list_price = :p WHERE id = :i"), {"p": price, "i": sku_id}
        )


def test_etag_and_if_none_match_304(client, shop):
    first = client.get(shop["url"])
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    again = client.get(shop["url"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(shop["url"], headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    other = client.get(shop["url"], headers={"If-None-Match": '"nope", "other"'})
    assert other.status_code == 200 and other.json() == first.json()


def test_serves_from_cache_until_ttl(client, shop):
    cache = client.app.state.storefront_cache
    assert client.get(shop["url"]).json()["price"] == 19900
    _raw_price(client, shop["sku"], 100)
    assert client.get(shop["url"]).json()["price"] == 19900  # cached: the DB is not read
    assert cache.hits >= 1
    shop["clock"].now += 2.01  # past the default TTL of 2 s
    assert client.get(shop["url"]).json()["price"] == 100


def test_price_change_visible_right_after_commit(client, shop):
    before = client.get(shop["url"])
    assert before.json()["price"] == 19900
    with session_scope(client.app.state.engine) as s:
        catalog.update_sku(s, sku_id=shop["sku"], list_price=17900)
        s.flush()
        # Not committed yet: the cached page still stands.
        assert client.get(shop["url"]).json()["price"] == 19900
    after = client.get(shop["url"], headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.json()["price"] == 17900
    assert after.headers["etag"] != before.headers["etag"]


def test_stock_change_visible_after_commit_and_rollback_keeps_cache(client, shop):
    assert client.get(shop["url"]).json()["available"] == 100
    client.get("/storefront/products")  # lists show no stock: a stock change keeps them
    with pytest.raises(RuntimeError), session_scope(client.app.state.engine) as s:
        inventory.receive_stock(s, sku_id=shop["sku"], warehouse_id=shop["warehouse"], quantity=5)
        raise RuntimeError("rolled back")
    _raw_price(client, shop["sku"], 100)  # proves the entry survived the rollback
    assert client.get(shop["url"]).json()["price"] == 19900
    with session_scope(client.app.state.engine) as s:
        inventory.receive_stock(s, sku_id=shop["sku"], warehouse_id=shop["warehouse"], quantity=5)
    body = client.get(shop["url"]).json()
    assert body["available"] == 105 and body["price"] == 100
    assert ("l", b"") in client.app.state.storefront_cache._entries


def test_list_cached_and_invalidated_by_product_change(client, shop, api_headers):
    url = "/storefront/products?limit=5"
    assert client.get(url).json()["items"][0]["title"] == "氮化镓快充充电器 65W"
    resp = client.patch(
        f"/admin/products/{shop['product']}",
        json={"title": "新标题"},
        headers=api_headers("operator"),
    )
    assert resp.status_code == 200
    assert client.get(url).json()["items"][0]["title"] == "新标题"
    assert client.get(shop["url"]).json()["title"] == "新标题"


def test_brand_rename_clears_pages(client, shop, api_headers):
    brand_id = client.get(shop["url"]).json()["brand"]["id"]
    resp = client.patch(
        f"/admin/brands/{brand_id}", json={"name": "新品牌"}, headers=api_headers("operator")
    )
    assert resp.status_code == 200
    assert client.get(shop["url"]).json()["brand"]["name"] == "新品牌"


def test_errors_are_not_cached(client, shop):
    assert client.get("/storefront/products/999").status_code == 404
    assert client.get("/storefront/products/abc").status_code == 422
    assert client.app.state.storefront_cache._entries == {}


def test_zero_ttl_disables_but_keeps_etags(sqlite_engine, tmp_path):
    with session_scope(sqlite_engine) as s:
        p = f.product(s, price=19900)
        sku_id = p.skus[0].id
    app = create_app(Settings(data_dir=tmp_path, storefront_cache_seconds=0), engine=sqlite_engine)
    with TestClient(app) as c:
        first = c.get(f"/storefront/products/{p.id}")
        with sqlite_engine.begin() as conn:
            conn.execute(text("UPDATE sku SET list_price = 100 WHERE id = :i"), {"i": sku_id})
        assert c.get(f"/storefront/products/{p.id}").json()["price"] == 100
        resp = c.get(
            f"/storefront/products/{p.id}", headers={"If-None-Match": first.headers["etag"]}
        )
        assert resp.status_code == 200  # the body changed, so did the tag
        etag = resp.headers["etag"]
        assert (
            c.get(f"/storefront/products/{p.id}", headers={"If-None-Match": etag}).status_code
            == 304
        )


def test_hits_are_counted_by_route_template(client, shop):
    for _ in range(3):
        client.get(shop["url"])
    text_ = client.get("/metrics").text
    line = (
        'shopops_http_requests_total{method="GET",'
        'route="/storefront/products/{product_id}",status="200"} 3.0'
    )
    assert line in text_


def test_etag_matching():
    assert etag_matches(b'"a", W/"b"', b'"b"')
    assert etag_matches(b"*", b'"x"')
    assert not etag_matches(b'"a"', b'"b"')


def test_concurrent_misses_reach_the_app_once():
    calls = 0

    async def origin(scope, receive, send):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"id": 7, "skus": [{"id": 70}]}'})

    cache = StorefrontCache(2.0)
    app = StorefrontCacheMiddleware(origin, cache)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await asyncio.gather(*(c.get("/storefront/products/7") for _ in range(20)))

    responses = asyncio.run(run())
    assert calls == 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.headers["etag"] for r in responses}) == 1
    cache.invalidate(sku_ids=[70])  # the SKU's stock changed: its product's page goes
    assert cache.get(("p", 7)) is None
