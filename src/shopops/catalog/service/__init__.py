"""Use cases of the catalog: categories, brands, products and SKUs, listing status, reads.

Writes validate first and then act, so a refused request changes nothing. Every change other
domains or the warehouse care about emits an event (see `catalog.events`).
`get_sellable_skus` is the contract other domains (cart, orders, pricing) read SKUs through.
"""

from shopops.catalog.service._common import KEEP, Page
from shopops.catalog.service.categories import (
    category_tree,
    create_brand,
    create_category,
    get_category,
    list_brands,
    list_categories,
    move_category,
    update_brand,
    update_category,
)
from shopops.catalog.service.products import (
    SkuSpec,
    change_product_status,
    create_product,
    create_sku,
    get_product,
    get_sku,
    update_product,
    update_sku,
)
from shopops.catalog.service.reads import (
    ProductListing,
    ProductSort,
    SkuSnapshot,
    get_sellable_skus,
    list_products,
    storefront_product,
)

__all__ = [
    "KEEP",
    "Page",
    "ProductListing",
    "ProductSort",
    "SkuSnapshot",
    "SkuSpec",
    "category_tree",
    "change_product_status",
    "create_brand",
    "create_category",
    "create_product",
    "create_sku",
    "get_category",
    "get_product",
    "get_sellable_skus",
    "get_sku",
    "list_brands",
    "list_categories",
    "list_products",
    "move_category",
    "storefront_product",
    "update_brand",
    "update_category",
    "update_product",
    "update_sku",
]
