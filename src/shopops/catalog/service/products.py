"""Products and SKUs: create and change them, and move products through the listing
state machine, keeping products in review or on sale sellable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopops.catalog import events
from shopops.catalog.errors import (
    DuplicateSkuCode,
    IllegalListingTransition,
    InvalidImageUrl,
    InvalidProductField,
    NoActiveSku,
    ProductNotFound,
    SkuBelowCost,
    SkuNotFound,
    SkuUnpriced,
)
from shopops.catalog.models import Product, Sku
from shopops.catalog.rules import (
    MAX_IMAGES,
    REQUIRES_SELLABLE,
    IllegalListingMove,
    ListingProblem,
    ListingStatus,
    ProblemCode,
    ProductRole,
    ProductTier,
    SkuFacts,
    bad_image_urls,
    listing_problems,
    next_listing_status,
)
from shopops.catalog.service._common import KEEP, parse_enum, require_brand, require_category
from shopops.db import now
from shopops.errors import ShopOpsError
from shopops.events import emit


@dataclass(frozen=True, slots=True)
class SkuSpec:
    """A SKU to create together with its product."""

    code: str
    list_price: int
    cost: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    weight_grams: int = 200
    active: bool = True


_PROBLEM_ERRORS: dict[ProblemCode, type[ShopOpsError]] = {
    ProblemCode.NO_ACTIVE_SKU: NoActiveSku,
    ProblemCode.SKU_UNPRICED: SkuUnpriced,
    ProblemCode.SKU_BELOW_COST: SkuBelowCost,
}


def _check_images(images: Sequence[str]) -> list[str]:
    bad = bad_image_urls(images)
    if bad or len(images) > MAX_IMAGES:
        raise InvalidImageUrl(
            "images must be at most "
            f"{MAX_IMAGES} absolute http(s) URLs" + (f"; not a URL: {bad[0]!r}" if bad else ""),
            details={"field": "images", "invalid": bad},
        )
    return list(images)


def _raise_problems(product_id: int, problems: list[ListingProblem]) -> None:
    if not problems:
        return
    first = problems[0]
    raise _PROBLEM_ERRORS[first.code](
        first.message,
        details={
            "product_id": product_id,
            "sku_id": first.sku_id,
            "problems": [
                {"code": p.code.value, "message": p.message, "sku_id": p.sku_id} for p in problems
            ],
        },
    )


def _facts(skus: Iterable[Sku]) -> list[SkuFacts]:
    return [SkuFacts(s.id, s.active, s.list_price, s.cost) for s in skus]


def _check_codes_free(session: Session, codes: Sequence[str]) -> None:
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if not dupes:
        dupes = sorted(session.scalars(select(Sku.code).where(Sku.code.in_(codes))))
    if dupes:
        raise DuplicateSkuCode(f"SKU code {dupes[0]!r} is already used", details={"codes": dupes})


def _new_sku(spec: SkuSpec) -> Sku:
    return Sku(
        code=spec.code,
        attributes=dict(spec.attributes),
        list_price=spec.list_price,
        cost=spec.cost,
        weight_grams=spec.weight_grams,
        active=spec.active,
    )


def _check_money(**amounts: int | None) -> None:
    for name, value in amounts.items():
        if value is not None and value < 0:
            raise InvalidProductField(f"{name} must not be negative", details={"field": name})


def create_product(
    session: Session,
    *,
    title: str,
    category_id: int,
    brand_id: int | None = None,
    description: str = "",
    role: str = ProductRole.LONG_TAIL,
    tier: str = ProductTier.BASIC,
    images: Sequence[str] = (),
    skus: Sequence[SkuSpec] = (),
) -> Product:
    """A draft product with its SKUs; emits product.created and sku.created for each SKU."""
    role, tier = parse_enum(ProductRole, role, "role"), parse_enum(ProductTier, tier, "tier")
    image_list = _check_images(images)
    require_category(session, category_id)
    if brand_id is not None:
        require_brand(session, brand_id)
    for spec in skus:
        _check_money(list_price=spec.list_price, cost=spec.cost)
    if skus:
        _check_codes_free(session, [s.code for s in skus])
    at = now(session)
    rows = [_new_sku(spec) for spec in skus]
    product = Product(
        title=title,
        description=description,
        category_id=category_id,
        brand_id=brand_id,
        role=role,
        tier=tier,
        status=ListingStatus.DRAFT.value,
        images=image_list,
        created_at=at,
        updated_at=at,
        skus=rows,
    )
    session.add(product)
    session.flush()
    emit(
        session,
        events.PRODUCT_CREATED,
        aggregate_type=events.PRODUCT_AGGREGATE,
        aggregate_id=product.id,
        payload=events.product_payload(product),
    )
    for sku in rows:
        _emit_sku(session, events.SKU_CREATED, events.sku_payload(sku), sku.id)
    return product


def _emit_sku(session: Session, name: str, payload: dict[str, Any], sku_id: int) -> None:
    emit(session, name, aggregate_type=events.SKU_AGGREGATE, aggregate_id=sku_id, payload=payload)


def update_product(
    session: Session,
    *,
    product_id: int,
    title: str | None = None,
    description: str | None = None,
    category_id: int | None = None,
    brand_id: int | None = KEEP,
    role: str | None = None,
    tier: str | None = None,
    images: Sequence[str] | None = None,
) -> Product:
    """Change the given fields (`brand_id=None` removes the brand); emits product.updated."""
    product = get_product(session, product_id=product_id)
    new: dict[str, Any] = {}
    if title is not None:
        new["title"] = title
    if description is not None:
        new["description"] = description
    if category_id is not None:
        require_category(session, category_id)
        new["category_id"] = category_id
    if brand_id is not KEEP:
        if brand_id is not None:
            require_brand(session, brand_id)
        new["brand_id"] = brand_id
    if role is not None:
        new["role"] = parse_enum(ProductRole, role, "role")
    if tier is not None:
        new["tier"] = parse_enum(ProductTier, tier, "tier")
    if images is not None:
        new["images"] = _check_images(images)
    changes = {k: (getattr(product, k), v) for k, v in new.items() if getattr(product, k) != v}
    if not changes:
        return product
    for name, (_, value) in changes.items():
        setattr(product, name, value)
    product.updated_at = now(session)
    session.flush()
    payload = events.product_payload(product)
    payload["changed"] = sorted(changes)
    emit(
        session,
        events.PRODUCT_UPDATED,
        aggregate_type=events.PRODUCT_AGGREGATE,
        aggregate_id=product.id,
        payload=payload,
    )
    return product


def change_product_status(session: Session, *, product_id: int, status: str) -> Product:
    """Move a product through the listing state machine; emits product.status_changed.

    Entering review or going on sale needs a sellable product (see `rules.listing_problems`).
    """
    target = parse_enum(ListingStatus, status, "status")
    product = get_product(session, product_id=product_id)
    old = product.status
    try:
        new = next_listing_status(old, target)
    except IllegalListingMove as exc:
        raise IllegalListingTransition(
            str(exc), details={"product_id": product_id, "status": old, "target": target}
        ) from exc
    if new in REQUIRES_SELLABLE:
        _raise_problems(product.id, listing_problems(_facts(product.skus)))
    at = now(session)
    product.status = new.value
    product.updated_at = at
    session.flush()
    emit(
        session,
        events.PRODUCT_STATUS_CHANGED,
        aggregate_type=events.PRODUCT_AGGREGATE,
        aggregate_id=product.id,
        payload=events.status_changed_payload(product, old_status=old, new_status=new, at=at),
    )
    return product


def create_sku(
    session: Session,
    *,
    product_id: int,
    code: str,
    list_price: int,
    cost: int,
    attributes: Mapping[str, Any] | None = None,
    weight_grams: int = 200,
    active: bool = True,
) -> Sku:
    """A new SKU of a product; a product in review or on sale must stay sellable."""
    product = get_product(session, product_id=product_id)
    _check_money(list_price=list_price, cost=cost)
    _check_codes_free(session, [code])
    if product.status in REQUIRES_SELLABLE:
        facts = [*_facts(product.skus), SkuFacts(0, active, list_price, cost)]
        _raise_problems(product.id, listing_problems(facts))
    sku = _new_sku(SkuSpec(code, list_price, cost, attributes or {}, weight_grams, active))
    product.skus.append(sku)
    session.flush()
    _emit_sku(session, events.SKU_CREATED, events.sku_payload(sku), sku.id)
    return sku


def update_sku(
    session: Session,
    *,
    sku_id: int,
    list_price: int | None = None,
    cost: int | None = None,
    attributes: Mapping[str, Any] | None = None,
    weight_grams: int | None = None,
    active: bool | None = None,
) -> Sku:
    """Change a SKU; emits sku.updated (with old_price/new_price when the price moves).

    A product in review or on sale must stay sellable: a change that would leave it without an
    active, priced SKU or sell below cost is refused (delist it first).
    """
    sku = get_sku(session, sku_id=sku_id)
    _check_money(list_price=list_price, cost=cost)
    new: dict[str, Any] = {
        k: v
        for k, v in {
            "list_price": list_price,
            "cost": cost,
            "attributes": dict(attributes) if attributes is not None else None,
            "weight_grams": weight_grams,
            "active": active,
        }.items()
        if v is not None
    }
    changes = {k: (getattr(sku, k), v) for k, v in new.items() if getattr(sku, k) != v}
    if not changes:
        return sku
    product = sku.product
    if product.status in REQUIRES_SELLABLE:
        after = {k: v for k, (_, v) in changes.items()}
        facts = [
            SkuFacts(
                s.id,
                after.get("active", s.active),
                after.get("list_price", s.list_price),
                after.get("cost", s.cost),
            )
            if s.id == sku.id
            else SkuFacts(s.id, s.active, s.list_price, s.cost)
            for s in product.skus
        ]
        _raise_problems(product.id, listing_problems(facts))
    for name, (_, value) in changes.items():
        setattr(sku, name, value)
    session.flush()
    _emit_sku(session, events.SKU_UPDATED, events.sku_updated_payload(sku, changes), sku.id)
    return sku


def get_product(session: Session, *, product_id: int) -> Product:
    """A product with its SKUs (any status)."""
    product = session.scalar(
        select(Product).where(Product.id == product_id).options(selectinload(Product.skus))
    )
    if product is None:
        raise ProductNotFound(f"no product {product_id}", details={"product_id": product_id})
    return product


def get_sku(session: Session, *, sku_id: int) -> Sku:
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise SkuNotFound(f"no SKU {sku_id}", details={"sku_id": sku_id})
    return sku
