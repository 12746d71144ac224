"""Catalog use cases on both backends: tree, products, SKUs, listing status, reads, events."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests import factories as f

from shopops.catalog import service
from shopops.catalog.errors import (
    BrandNotFound,
    CategoryCycle,
    CategoryNotFound,
    DuplicateSkuCode,
    DuplicateSlug,
    IllegalListingTransition,
    InvalidImageUrl,
    InvalidProductField,
    NoActiveSku,
    ProductNotFound,
    SkuBelowCost,
    SkuNotFound,
    SkuUnpriced,
)
from shopops.catalog.models import ListingStatus
from shopops.catalog.service import SkuSpec
from shopops.events import OutboxEvent

L = ListingStatus


def _events(session, name=None):
    session.flush()
    stmt = select(OutboxEvent).order_by(OutboxEvent.seq)
    if name:
        stmt = stmt.where(OutboxEvent.name == name)
    return list(session.scalars(stmt))


def _draft(session, *, skus=(SkuSpec("C-1", 19900, 9900),), **fields):
    cat = fields.pop("cat", None) or service.create_category(session, name="充电器")
    return service.create_product(
        session, title=fields.pop("title", "氮化镓充电器"), category_id=cat.id, skus=skus, **fields
    )


# ---- categories and brands ---------------------------------------------------------------


def test_category_tree_move_and_cycles(session):
    root = service.create_category(session, name="Digital", slug="digital")
    child = service.create_category(session, name="Chargers", parent_id=root.id)
    grandchild = service.create_category(session, name="快充", parent_id=child.id, position=2)
    other = service.create_category(session, name="Home")
    assert child.slug == "chargers"
    assert grandchild.slug.startswith("category-")  # no ASCII to derive from

    tree = service.category_tree(session)
    assert [n.id for n in tree] == [root.id, other.id]
    assert tree[0].children[0].children[0].id == grandchild.id

    with pytest.raises(CategoryCycle) as err:
        service.move_category(session, category_id=root.id, parent_id=grandchild.id)
    assert err.value.details == {"category_id": root.id, "parent_id": grandchild.id}
    with pytest.raises(CategoryCycle):
        service.move_category(session, category_id=child.id, parent_id=child.id)
    with pytest.raises(CategoryNotFound):
        service.move_category(session, category_id=child.id, parent_id=999)

    service.move_category(session, category_id=child.id, parent_id=other.id)
    tree = service.category_tree(session)
    assert [c.id for c in tree[1].children] == [child.id]
    service.move_category(session, category_id=child.id, parent_id=None)
    assert len(service.category_tree(session)) == 3


def test_slugs_are_unique(session):
    service.create_category(session, name="Cables", slug="cables")
    with pytest.raises(DuplicateSlug):
        service.create_category(session, name="Other", slug="cables")
    derived = service.create_category(session, name="Cables")
    assert derived.slug.startswith("cables-")
    with pytest.raises(CategoryNotFound):
        service.create_category(session, name="x", parent_id=12345)
    b = service.create_brand(session, name="Anker")
    assert b.slug == "anker"
    with pytest.raises(DuplicateSlug):
        service.create_brand(session, name="Anker 2", slug="anker")
    renamed = service.update_brand(session, brand_id=b.id, name="安克")
    assert (renamed.name, renamed.slug) == ("安克", "anker")
    with pytest.raises(BrandNotFound):
        service.update_brand(session, brand_id=999, name="x")


# ---- products and SKUs ---------------------------------------------------------------------


def test_create_product_emits_created_events(session):
    brand = f.brand(session)
    product = _draft(
        session,
        brand_id=brand.id,
        role="traffic_driver",
        tier="trend",
        images=["https://img.example.com/1.jpg"],
        skus=[SkuSpec("A-1", 9900, 5000, {"colour": "黑色"}), SkuSpec("A-2", 12900, 6000)],
    )
    assert product.status == L.DRAFT
    assert [s.code for s in product.skus] == ["A-1", "A-2"]
    created = _events(session, "product.created")
    assert created[0].payload["role"] == "traffic_driver"
    assert created[0].payload["brand_id"] == brand.id
    skus = _events(session, "sku.created")
    assert [e.payload["code"] for e in skus] == ["A-1", "A-2"]
    assert skus[0].payload["cost"] == 5000


def test_create_product_validates_first(session):
    cat = service.create_category(session, name="x")
    with pytest.raises(CategoryNotFound):
        service.create_product(session, title="t", category_id=999)
    with pytest.raises(BrandNotFound):
        service.create_product(session, title="t", category_id=cat.id, brand_id=999)
    with pytest.raises(InvalidImageUrl) as err:
        service.create_product(session, title="t", category_id=cat.id, images=["ftp://x.cn/a"])
    assert err.value.details["invalid"] == ["ftp://x.cn/a"]
    with pytest.raises(InvalidProductField) as err:
        service.create_product(session, title="t", category_id=cat.id, role="bestseller")
    assert err.value.details["field"] == "role"
    with pytest.raises(DuplicateSkuCode):
        service.create_product(
            session, title="t", category_id=cat.id, skus=[SkuSpec("D", 1, 1), SkuSpec("D", 2, 1)]
        )
    service.create_product(session, title="t", category_id=cat.id, skus=[SkuSpec("D", 1, 1)])
    with pytest.raises(DuplicateSkuCode):
        service.create_product(session, title="u", category_id=cat.id, skus=[SkuSpec("D", 1, 1)])
    assert len(_events(session, "product.created")) == 1


def test_listing_path_and_its_checks(session):
    product = _draft(session, skus=[])
    with pytest.raises(IllegalListingTransition) as err:
        service.change_product_status(session, product_id=product.id, status="listed")
    assert err.value.details["status"] == "draft"
    with pytest.raises(NoActiveSku):
        service.change_product_status(session, product_id=product.id, status="in_review")

    sku = service.create_sku(session, product_id=product.id, code="S-0", list_price=0, cost=0)
    with pytest.raises(SkuUnpriced) as err:
        service.change_product_status(session, product_id=product.id, status="in_review")
    assert err.value.details["sku_id"] == sku.id
    service.update_sku(session, sku_id=sku.id, list_price=5000, cost=6000)
    with pytest.raises(SkuBelowCost):
        service.change_product_status(session, product_id=product.id, status="in_review")
    service.update_sku(session, sku_id=sku.id, cost=3000)

    for target in ("in_review", "listed", "delisted", "in_review", "draft"):
        product = service.change_product_status(session, product_id=product.id, status=target)
        assert product.status == target
    moves = [
        (e.payload["old_status"], e.payload["new_status"])
        for e in _events(session)
        if e.name == "product.status_changed"
    ]
    assert moves == [
        ("draft", "in_review"),
        ("in_review", "listed"),
        ("listed", "delisted"),
        ("delisted", "in_review"),
        ("in_review", "draft"),
    ]
    with pytest.raises(InvalidProductField):
        service.change_product_status(session, product_id=product.id, status="gone")
    with pytest.raises(ProductNotFound):
        service.change_product_status(session, product_id=999, status="in_review")


def test_a_listed_product_stays_sellable(session):
    product = _draft(session)
    service.change_product_status(session, product_id=product.id, status="in_review")
    service.change_product_status(session, product_id=product.id, status="listed")
    only = product.skus[0]
    with pytest.raises(NoActiveSku):
        service.update_sku(session, sku_id=only.id, active=False)
    with pytest.raises(SkuBelowCost):
        service.update_sku(session, sku_id=only.id, list_price=100)
    with pytest.raises(SkuUnpriced):
        service.create_sku(session, product_id=product.id, code="Z", list_price=0, cost=0)
    # A second good SKU lets the first one go.
    service.create_sku(session, product_id=product.id, code="Z", list_price=500, cost=100)
    assert service.update_sku(session, sku_id=only.id, active=False).active is False
    assert service.get_product(session, product_id=product.id).status == L.LISTED


def test_sku_update_event_carries_old_and_new_price(session):
    product = _draft(session)
    sku = product.skus[0]
    service.update_sku(session, sku_id=sku.id, list_price=17900, weight_grams=300)
    service.update_sku(session, sku_id=sku.id, weight_grams=300)  # no change, no event
    service.update_sku(session, sku_id=sku.id, attributes={"colour": "白色"})
    updates = _events(session, "sku.updated")
    assert len(updates) == 2
    first = updates[0].payload
    assert (first["old_price"], first["new_price"]) == (19900, 17900)
    assert first["changes"]["weight_grams"] == {"old": 200, "new": 300}
    assert "old_price" not in updates[1].payload
    with pytest.raises(SkuNotFound):
        service.update_sku(session, sku_id=999, cost=1)
    with pytest.raises(InvalidProductField):
        service.update_sku(session, sku_id=sku.id, cost=-1)


def test_update_product(session):
    brand = f.brand(session)
    product = _draft(session, brand_id=brand.id)
    other = service.create_category(session, name="Cables")
    updated = service.update_product(
        session, product_id=product.id, title="新标题", category_id=other.id, brand_id=None
    )
    assert (updated.title, updated.category_id, updated.brand_id) == ("新标题", other.id, None)
    (event,) = _events(session, "product.updated")
    assert event.payload["changed"] == ["brand_id", "category_id", "title"]
    service.update_product(session, product_id=product.id, title="新标题")  # no change
    assert len(_events(session, "product.updated")) == 1
    with pytest.raises(CategoryNotFound):
        service.update_product(session, product_id=product.id, category_id=999)
    with pytest.raises(InvalidImageUrl):
        service.update_product(session, product_id=product.id, images=["not a url"])
    with pytest.raises(ProductNotFound):
        service.update_product(session, product_id=999, title="x")


# ---- reads --------------------------------------------------------------------------------


def test_list_products_filters_sorts_and_pages(session):
    digital = service.create_category(session, name="Digital")
    chargers = service.create_category(session, name="Chargers", parent_id=digital.id)
    home = service.create_category(session, name="Home")
    brand = f.brand(session)
    a = f.product(session, cat=chargers, price=5000, cost=1000, title="USB-C 充电器 20W", stock=0)
    b = f.product(session, cat=digital, price=9000, cost=1000, title="数据线 100% 纯铜", stock=0)
    c = f.product(
        session,
        cat=home,
        price=7000,
        cost=1000,
        title="台灯",
        role="long_tail",
        status=L.DRAFT,
        stock=0,
    )
    b.brand_id = brand.id
    session.flush()

    def ids(**kw):
        page = service.list_products(session, **kw)
        return [p.id for p in page.items], page.total

    assert ids(category_id=digital.id, sort="price_asc") == ([a.id, b.id], 2)
    assert ids(category_id=chargers.id) == ([a.id], 1)
    assert ids(brand_id=brand.id) == ([b.id], 1)
    assert ids(status="draft") == ([c.id], 1)
    assert ids(role="long_tail") == ([c.id], 1)
    assert ids(q="usb-c") == ([a.id], 1)
    assert ids(q="100%") == ([b.id], 1)  # % is a literal, not a wildcard
    assert ids(q="%") == ([b.id], 1)
    assert ids(sort="price_desc") == ([b.id, c.id, a.id], 3)
    assert ids(sort="price_asc", limit=1, offset=1) == ([c.id], 3)
    assert ids(category_id=9999) == ([], 0)
    first = service.list_products(session, sort="price_asc").items[0]
    assert (first.price, first.status, first.image) == (5000, "listed", None)
    with pytest.raises(InvalidProductField):
        service.list_products(session, sort="cheapest")


def test_get_sellable_skus_is_one_query(engine, session):
    listed = f.product(session, skus=2, stock=0)
    draft = f.product(session, status=L.DRAFT, stock=0)
    off = f.sku(session, listed, active=False)
    ids = [listed.skus[0].id, listed.skus[1].id, draft.skus[0].id, off.id, 999]
    with f.StatementCounter(engine) as sql:
        snaps = service.get_sellable_skus(session, sku_ids=ids)
    assert sql.count == 1
    assert sorted(snaps) == sorted(ids[:4])
    s0 = snaps[listed.skus[0].id]
    assert (s0.product_id, s0.list_price, s0.cost, s0.title, s0.listed) == (
        listed.id,
        19900,
        11900,
        listed.title,
        True,
    )
    assert s0.attributes == {"colour": "黑色"}
    assert snaps[draft.skus[0].id].listed is False
    assert snaps[off.id].listed is False
    assert service.get_sellable_skus(session, sku_ids=[]) == {}


def test_storefront_product_is_two_queries_and_hides_unlisted(engine, session):
    wh = f.warehouse(session)
    product = f.product(session, skus=2, stock=7, wh=wh)
    f.sku(session, product, active=False)
    with f.StatementCounter(engine) as sql:
        body = service.storefront_product(session, product_id=product.id)
    assert sql.count == 2
    assert [s["available"] for s in body["skus"]] == [7, 7]
    assert body["available"] == 14
    assert body["price"] == 19900
    assert "cost" not in body["skus"][0]
    assert len(body["skus"]) == 2  # the inactive SKU is not shown

    draft = f.product(session, status=L.DRAFT, wh=wh)
    with pytest.raises(ProductNotFound):
        service.storefront_product(session, product_id=draft.id)
    with pytest.raises(ProductNotFound):
        service.storefront_product(session, product_id=999)
