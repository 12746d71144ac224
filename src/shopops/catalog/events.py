"""Events of the catalog domain and their payloads.

Payloads carry the product and SKU dimensions (title, category, brand, role, tier, prices,
cost), so the warehouse loader builds its product dimension without re-reading the tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shopops.catalog.models import Product, Sku

PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
PRODUCT_STATUS_CHANGED = "product.status_changed"
SKU_CREATED = "sku.created"
SKU_UPDATED = "sku.updated"

PRODUCT_AGGREGATE = "product"
SKU_AGGREGATE = "sku"


def product_payload(product: Product) -> dict[str, Any]:
    """The product dimension's attributes."""
    return {
        "product_id": product.id,
        "title": product.title,
        "category_id": product.category_id,
        "brand_id": product.brand_id,
        "role": product.role,
        "tier": product.tier,
        "status": product.status,
        "created_at": product.created_at.isoformat(),
    }


def sku_payload(sku: Sku) -> dict[str, Any]:
    """The SKU dimension's attributes, prices and cost in fen."""
    return {
        "sku_id": sku.id,
        "product_id": sku.product_id,
        "code": sku.code,
        "attributes": dict(sku.attributes),
        "list_price": sku.list_price,
        "cost": sku.cost,
        "weight_grams": sku.weight_grams,
        "active": sku.active,
    }


def status_changed_payload(
    product: Product, *, old_status: str, new_status: str, at: dt.datetime
) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "old_status": old_status,
        "new_status": new_status,
        "changed_at": at.isoformat(),
        "category_id": product.category_id,
        "role": product.role,
    }


def sku_updated_payload(sku: Sku, changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The SKU after the change, each changed field as {old, new}, and old/new price."""
    payload = sku_payload(sku)
    payload["changes"] = {name: {"old": old, "new": new} for name, (old, new) in changes.items()}
    if "list_price" in changes:
        payload["old_price"], payload["new_price"] = changes["list_price"]
    return payload
