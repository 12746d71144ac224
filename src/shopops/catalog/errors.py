"""Errors of the catalog domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"


class SkuNotFound(NotFound):
    code = "sku_not_found"


class CategoryNotFound(NotFound):
    code = "category_not_found"


class BrandNotFound(NotFound):
    code = "brand_not_found"


class DuplicateSlug(Conflict):
    code = "duplicate_slug"


class DuplicateSkuCode(Conflict):
    code = "duplicate_sku_code"


class CategoryCycle(Conflict):
    code = "category_cycle"


class InvalidImageUrl(InvalidInput):
    code = "invalid_image_url"


class InvalidProductField(InvalidInput):
    """A role, tier or status that is not one of the known values."""

    code = "invalid_product_field"


class IllegalListingTransition(IllegalTransition):
    code = "illegal_listing_transition"


class NoActiveSku(Conflict):
    """A product goes to review or on sale only with at least one active SKU."""

    code = "no_active_sku"


class SkuUnpriced(Conflict):
    """An active SKU of a product in review or on sale needs a list price above zero."""

    code = "sku_unpriced"


class SkuBelowCost(Conflict):
    """An active SKU of a product in review or on sale may not cost more than its price."""

    code = "sku_below_cost"
