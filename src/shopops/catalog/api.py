"""Routes of the catalog: public storefront reads and the back office (operators write,
any staff reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from shopops.api.deps import Operator, SessionDep, Staff
from shopops.api.microcache import clear_after_commit
from shopops.catalog import service
from shopops.catalog.rules import ListingStatus, ProductRole
from shopops.catalog.schemas import (
    BrandCreate,
    BrandRead,
    BrandUpdate,
    CategoryCreate,
    CategoryNode,
    CategoryRead,
    CategoryUpdate,
    ProductCreate,
    ProductPage,
    ProductRead,
    ProductSummary,
    ProductUpdate,
    SkuCreate,
    SkuRead,
    SkuUpdate,
    StatusChange,
    StorefrontProduct,
    StorefrontProductPage,
    StorefrontProductSummary,
)
from shopops.catalog.service import ProductSort, SkuSpec

router = APIRouter(tags=["catalog"])

CategoryFilter = Annotated[int | None, Query(gt=0, description="Includes its subcategories")]
BrandFilter = Annotated[int | None, Query(gt=0)]
TitleFilter = Annotated[str | None, Query(max_length=100, description="Substring of the title")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _tree(session: SessionDep) -> list[CategoryNode]:
    return [CategoryNode.model_validate(n) for n in service.category_tree(session)]


# ---- storefront (public) ----------------------------------------------------------------


@router.get("/storefront/categories", response_model=list[CategoryNode], tags=["storefront"])
def storefront_categories(session: SessionDep) -> list[CategoryNode]:
    return _tree(session)


@router.get("/storefront/products", response_model=StorefrontProductPage, tags=["storefront"])
def storefront_products(
    session: SessionDep,
    category_id: CategoryFilter = None,
    brand_id: BrandFilter = None,
    role: ProductRole | None = None,
    q: TitleFilter = None,
    sort: ProductSort = ProductSort.NEWEST,
    limit: Limit = 20,
    offset: Offset = 0,
) -> StorefrontProductPage:
    page = service.list_products(
        session,
        category_id=category_id,
        brand_id=brand_id,
        role=role,
        status=ListingStatus.LISTED,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return StorefrontProductPage(
        items=[StorefrontProductSummary.model_validate(p) for p in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/storefront/products/{product_id}", response_model=StorefrontProduct, tags=["storefront"]
)
def storefront_product(product_id: int, session: SessionDep) -> JSONResponse:
    # Hot path: the service builds the body in two queries; returned as is, not re-validated.
    # Usually answered by the storefront microcache before it gets here (api/microcache.py).
    return JSONResponse(service.storefront_product(session, product_id=product_id))


# ---- categories and brands ---------------------------------------------------------------


@router.post("/admin/categories", status_code=status.HTTP_201_CREATED, response_model=CategoryRead)
def create_category(body: CategoryCreate, session: SessionDep, _: Operator) -> CategoryRead:
    row = service.create_category(session, **body.model_dump())
    return CategoryRead.model_validate(row)


@router.get("/admin/categories", response_model=list[CategoryNode])
def list_categories(session: SessionDep, _: Staff) -> list[CategoryNode]:
    return _tree(session)


@router.patch("/admin/categories/{category_id}", response_model=CategoryRead)
def update_category(
    category_id: int, body: CategoryUpdate, session: SessionDep, _: Operator
) -> CategoryRead:
    if "parent_id" in body.model_fields_set:
        service.move_category(session, category_id=category_id, parent_id=body.parent_id)
    row = service.update_category(
        session, category_id=category_id, name=body.name, slug=body.slug, position=body.position
    )
    clear_after_commit(session)  # product pages show the category's name
    return CategoryRead.model_validate(row)


@router.post("/admin/brands", status_code=status.HTTP_201_CREATED, response_model=BrandRead)
def create_brand(body: BrandCreate, session: SessionDep, _: Operator) -> BrandRead:
    return BrandRead.model_validate(service.create_brand(session, **body.model_dump()))


@router.get("/admin/brands", response_model=list[BrandRead])
def list_brands(session: SessionDep, _: Staff) -> list[BrandRead]:
    return [BrandRead.model_validate(b) for b in service.list_brands(session)]


@router.patch("/admin/brands/{brand_id}", response_model=BrandRead)
def update_brand(brand_id: int, body: BrandUpdate, session: SessionDep, _: Operator) -> BrandRead:
    row = service.update_brand(session, brand_id=brand_id, name=body.name, slug=body.slug)
    clear_after_commit(session)  # product pages show the brand's name
    return BrandRead.model_validate(row)


# ---- products and SKUs ---------------------------------------------------------------------


@router.post("/admin/products", status_code=status.HTTP_201_CREATED, response_model=ProductRead)
def create_product(body: ProductCreate, session: SessionDep, _: Operator) -> ProductRead:
    fields = body.model_dump(exclude={"skus"})
    product = service.create_product(
        session, **fields, skus=[SkuSpec(**s.model_dump()) for s in body.skus]
    )
    return ProductRead.model_validate(product)


@router.get("/admin/products", response_model=ProductPage)
def list_products(
    session: SessionDep,
    _: Staff,
    category_id: CategoryFilter = None,
    brand_id: BrandFilter = None,
    role: ProductRole | None = None,
    status: ListingStatus | None = None,
    q: TitleFilter = None,
    sort: ProductSort = ProductSort.NEWEST,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ProductPage:
    page = service.list_products(
        session,
        category_id=category_id,
        brand_id=brand_id,
        role=role,
        status=status,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return ProductPage(
        items=[ProductSummary.model_validate(p) for p in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/admin/products/{product_id}", response_model=ProductRead)
def get_product(product_id: int, session: SessionDep, _: Staff) -> ProductRead:
    return ProductRead.model_validate(service.get_product(session, product_id=product_id))


@router.patch("/admin/products/{product_id}", response_model=ProductRead)
def update_product(
    product_id: int, body: ProductUpdate, session: SessionDep, _: Operator
) -> ProductRead:
    # Only the fields sent: an explicit `brand_id: null` removes the brand.
    changes = body.model_dump(exclude_unset=True)
    product = service.update_product(session, product_id=product_id, **changes)
    return ProductRead.model_validate(product)


@router.post("/admin/products/{product_id}/status", response_model=ProductRead)
def change_status(
    product_id: int, body: StatusChange, session: SessionDep, _: Operator
) -> ProductRead:
    product = service.change_product_status(session, product_id=product_id, status=body.status)
    return ProductRead.model_validate(product)


@router.post(
    "/admin/products/{product_id}/skus",
    status_code=status.HTTP_201_CREATED,
    response_model=SkuRead,
)
def create_sku(product_id: int, body: SkuCreate, session: SessionDep, _: Operator) -> SkuRead:
    sku = service.create_sku(session, product_id=product_id, **body.model_dump())
    return SkuRead.model_validate(sku)


@router.get("/admin/skus/{sku_id}", response_model=SkuRead)
def get_sku(sku_id: int, session: SessionDep, _: Staff) -> SkuRead:
    return SkuRead.model_validate(service.get_sku(session, sku_id=sku_id))


@router.patch("/admin/skus/{sku_id}", response_model=SkuRead)
def update_sku(sku_id: int, body: SkuUpdate, session: SessionDep, _: Operator) -> SkuRead:
    sku = service.update_sku(session, sku_id=sku_id, **body.model_dump(exclude_unset=True))
    return SkuRead.model_validate(sku)
