"""API schemas of the catalog: categories, brands, products, SKUs and storefront views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shopops.catalog.rules import (
    MAX_IMAGE_URL,
    MAX_IMAGES,
    ListingStatus,
    ProductRole,
    ProductTier,
    is_image_url,
)

MAX_PRICE = 100_000_000  # ¥1,000,000 in fen: above this a price is a typo
MAX_WEIGHT = 1_000_000  # grams


def _image_url(url: str) -> str:
    if not is_image_url(url):
        raise ValueError("must be an absolute http(s) URL")
    return url


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SkuCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64
    ),
]
ImageUrl = Annotated[str, Field(max_length=MAX_IMAGE_URL), AfterValidator(_image_url)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]
AttrValue = Annotated[str, StringConstraints(max_length=100)] | int | float | bool
Attributes = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=50)], AttrValue],
    Field(max_length=20),
]


# ---- categories and brands ---------------------------------------------------------------


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug | None = Field(default=None, description="Derived from the name when omitted")
    parent_id: int | None = Field(default=None, gt=0)
    position: int = Field(default=0, ge=0, le=10_000)


class CategoryUpdate(BaseModel):
    """Fields to change; `parent_id: null` moves the category to the root."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    slug: Slug | None = None
    parent_id: int | None = Field(default=None, gt=0)
    position: int | None = Field(default=None, ge=0, le=10_000)


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    name: str
    slug: str
    position: int


class CategoryNode(CategoryRead):
    children: list[CategoryNode] = []


class BrandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug | None = None


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    slug: Slug | None = None


class BrandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str


# ---- SKUs ------------------------------------------------------------------------------


class SkuCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: SkuCode
    attributes: Attributes = {}
    list_price: Price
    cost: Price
    weight_grams: int = Field(default=200, ge=0, le=MAX_WEIGHT)
    active: bool = True


class SkuUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attributes: Attributes | None = None
    list_price: Price | None = None
    cost: Price | None = None
    weight_grams: int | None = Field(default=None, ge=0, le=MAX_WEIGHT)
    active: bool | None = None


class SkuRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    code: str
    attributes: dict[str, Any]
    list_price: int
    cost: int
    weight_grams: int
    active: bool


# ---- products ----------------------------------------------------------------------------


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: str = Field(default="", max_length=20_000)
    category_id: int = Field(gt=0)
    brand_id: int | None = Field(default=None, gt=0)
    role: ProductRole = ProductRole.LONG_TAIL
    tier: ProductTier = ProductTier.BASIC
    images: list[ImageUrl] = Field(default=[], max_length=MAX_IMAGES)
    skus: list[SkuCreate] = Field(default=[], max_length=100)


class ProductUpdate(BaseModel):
    """Fields to change; `brand_id: null` removes the brand."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: str | None = Field(default=None, max_length=20_000)
    category_id: int | None = Field(default=None, gt=0)
    brand_id: int | None = Field(default=None, gt=0)
    role: ProductRole | None = None
    tier: ProductTier | None = None
    images: list[ImageUrl] | None = Field(default=None, max_length=MAX_IMAGES)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ListingStatus


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    category_id: int
    brand_id: int | None
    role: ProductRole
    tier: ProductTier
    status: ListingStatus
    images: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    skus: list[SkuRead]


class ProductSummary(BaseModel):
    """One product in a list: its first image and lowest active price."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    category_id: int
    brand_id: int | None
    role: ProductRole
    tier: ProductTier
    status: ListingStatus
    image: str | None
    price: int | None = Field(description="Lowest list price of its active SKUs, in fen")
    created_at: dt.datetime


class ProductPage(BaseModel):
    items: list[ProductSummary]
    total: int
    limit: int
    offset: int


# ---- storefront --------------------------------------------------------------------------


class StorefrontProductSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    category_id: int
    brand_id: int | None
    role: ProductRole
    tier: ProductTier
    image: str | None
    price: int | None


class StorefrontProductPage(BaseModel):
    items: list[StorefrontProductSummary]
    total: int
    limit: int
    offset: int


class StorefrontSku(BaseModel):
    id: int
    code: str
    attributes: dict[str, Any]
    price: int
    available: int


class StorefrontRef(BaseModel):
    id: int
    name: str


class StorefrontProduct(BaseModel):
    """A listed product as a shopper sees it: active SKUs, prices and stock, no cost."""

    id: int
    title: str
    description: str
    role: ProductRole
    tier: ProductTier
    images: list[str]
    category: StorefrontRef
    brand: StorefrontRef | None
    price: int | None
    available: int
    skus: list[StorefrontSku]
