"""Catalog reads: product lists with filters, the storefront product page (a hot path) and
the SKU snapshots other domains sell from (`get_sellable_skus`, one query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from shopops.catalog.errors import (
    ProductNotFound,
)
from shopops.catalog.models import Brand, Category, Product, Sku
from shopops.catalog.rules import (
    ListingStatus,
    ProductRole,
    descendants,
)
from shopops.catalog.service._common import Page, parent_map, parse_enum
from shopops.inventory import service as inventory_service


class ProductSort(StrEnum):
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"


@dataclass(frozen=True, slots=True)
class SkuSnapshot:
    """What selling a SKU needs, read in one query; `listed` = product listed and SKU active."""

    sku_id: int
    product_id: int
    code: str
    title: str
    attributes: dict[str, Any]
    list_price: int
    cost: int
    weight_grams: int
    category_id: int
    brand_id: int | None
    role: str
    listed: bool


@dataclass(frozen=True, slots=True)
class ProductListing:
    """One product in a list: first image and lowest active SKU price (None: no active SKU)."""

    id: int
    title: str
    category_id: int
    brand_id: int | None
    role: str
    tier: str
    status: str
    image: str | None
    price: int | None
    created_at: Any


_MIN_PRICE = (
    select(func.min(Sku.list_price))
    .where(Sku.product_id == Product.id, Sku.active.is_(True))
    .correlate(Product)
    .scalar_subquery()
    .label("price")
)


def list_products(
    session: Session,
    *,
    category_id: int | None = None,
    brand_id: int | None = None,
    role: str | None = None,
    status: str | None = None,
    q: str | None = None,
    sort: str = ProductSort.NEWEST,
    limit: int = 20,
    offset: int = 0,
) -> Page[ProductListing]:
    """Products matching every filter, a page of them and the total.

    `category_id` includes its descendants; `q` is a case-insensitive substring of the title.
    """
    order = ProductSort(parse_enum(ProductSort, sort, "sort"))
    filters = []
    if category_id is not None:
        ids = descendants(parent_map(session), category_id)
        filters.append(Product.category_id.in_(sorted(ids)))
    if brand_id is not None:
        filters.append(Product.brand_id == brand_id)
    if role is not None:
        filters.append(Product.role == parse_enum(ProductRole, role, "role"))
    if status is not None:
        filters.append(Product.status == parse_enum(ListingStatus, status, "status"))
    if q:
        filters.append(Product.title.icontains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(Product).where(*filters)) or 0
    stmt: Select[Any] = select(
        Product.id,
        Product.title,
        Product.category_id,
        Product.brand_id,
        Product.role,
        Product.tier,
        Product.status,
        Product.images,
        _MIN_PRICE,
        Product.created_at,
    ).where(*filters)
    if order is ProductSort.NEWEST:
        stmt = stmt.order_by(Product.created_at.desc(), Product.id.desc())
    elif order is ProductSort.PRICE_ASC:
        stmt = stmt.order_by(_MIN_PRICE.asc().nulls_last(), Product.id)
    else:
        stmt = stmt.order_by(_MIN_PRICE.desc().nulls_last(), Product.id)
    items = [
        ProductListing(
            id=r.id,
            title=r.title,
            category_id=r.category_id,
            brand_id=r.brand_id,
            role=r.role,
            tier=r.tier,
            status=r.status,
            image=r.images[0] if r.images else None,
            price=r.price,
            created_at=r.created_at,
        )
        for r in session.execute(stmt.limit(limit).offset(offset))
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


# The storefront detail is a hot path: one Core statement, built once, for product and SKUs.
_P, _C, _B, _S = (t.__table__.c for t in (Product, Category, Brand, Sku))


_STOREFRONT_DETAIL = (
    select(
        _P.id,
        _P.title,
        _P.description,
        _P.role,
        _P.tier,
        _P.images,
        _C.id.label("category_id"),
        _C.name.label("category_name"),
        _B.id.label("brand_id"),
        _B.name.label("brand_name"),
        _S.id.label("sku_id"),
        _S.code,
        _S.attributes,
        _S.list_price,
    )
    .select_from(
        Product.__table__.join(Category.__table__, _C.id == _P.category_id)
        .outerjoin(Brand.__table__, _B.id == _P.brand_id)
        .outerjoin(Sku.__table__, (_S.product_id == _P.id) & _S.active.is_(True))
    )
    .where(_P.id == bindparam("product_id"), _P.status == ListingStatus.LISTED.value)
    .order_by(_S.id)
)


def storefront_product(session: Session, *, product_id: int) -> dict[str, Any]:
    """A listed product as the shopper sees it (schema `StorefrontProduct`), in two queries:
    the product with its active SKUs, then their available stock. Unlisted: ProductNotFound."""
    rows = session.execute(_STOREFRONT_DETAIL, {"product_id": product_id}).all()
    if not rows:
        raise ProductNotFound(f"no product {product_id}", details={"product_id": product_id})
    head = rows[0]
    sku_rows = [r for r in rows if r.sku_id is not None]
    stock = inventory_service.available(session, sku_ids=[r.sku_id for r in sku_rows])
    skus = [
        {
            "id": r.sku_id,
            "code": r.code,
            "attributes": r.attributes,
            "price": r.list_price,
            "available": stock.get(r.sku_id, 0),
        }
        for r in sku_rows
    ]
    return {
        "id": head.id,
        "title": head.title,
        "description": head.description,
        "role": head.role,
        "tier": head.tier,
        "images": head.images,
        "category": {"id": head.category_id, "name": head.category_name},
        "brand": {"id": head.brand_id, "name": head.brand_name} if head.brand_id else None,
        "price": min((s["price"] for s in skus), default=None),
        "available": sum(s["available"] for s in skus),
        "skus": skus,
    }


# Checkout's SKU read, built once: Core columns (no ORM compile step) and the ids as one
# expanding parameter, so each call reuses the compiled statement from the engine's cache.
_SELLABLE = (
    select(
        _S.id,
        _S.product_id,
        _S.code,
        _P.title,
        _S.attributes,
        _S.list_price,
        _S.cost,
        _S.weight_grams,
        _P.category_id,
        _P.brand_id,
        _P.role,
        _P.status,
        _S.active,
    )
    .select_from(Sku.__table__.join(Product.__table__, _P.id == _S.product_id))
    .where(_S.id.in_(bindparam("sku_ids", expanding=True)))
)


def get_sellable_skus(session: Session, *, sku_ids: Sequence[int]) -> dict[int, SkuSnapshot]:
    """Snapshots of the SKUs that exist among `sku_ids` (unknown ids are absent); one query."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    if session.autoflush:  # a Core statement does not autoflush: see pending SKUs as the ORM would
        session.flush()
    rows = session.connection().execute(_SELLABLE, {"sku_ids": ids})
    return {
        r.id: SkuSnapshot(
            sku_id=r.id,
            product_id=r.product_id,
            code=r.code,
            title=r.title,
            attributes=dict(r.attributes),
            list_price=r.list_price,
            cost=r.cost,
            weight_grams=r.weight_grams,
            category_id=r.category_id,
            brand_id=r.brand_id,
            role=r.role,
            listed=r.status == ListingStatus.LISTED and bool(r.active),
        )
        for r in rows
    }
