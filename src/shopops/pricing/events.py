"""Events of the pricing domain and their payloads (plain JSON: fen as ints, ISO times)."""

from __future__ import annotations

from typing import Any

from shopops.pricing.models import FlashSale, FlashSalePurchase, PriceChange

PRICE_CHANGED = "price.changed"
FLASH_SALE_CREATED = "flash_sale.created"
FLASH_SALE_ENDED = "flash_sale.ended"
FLASH_SALE_PURCHASED = "flash_sale.purchased"
FLASH_SALE_RELEASED = "flash_sale.released"

SKU_AGGREGATE = "sku"
FLASH_SALE_AGGREGATE = "flash_sale"


def price_changed(change: PriceChange, *, price_list_code: str | None = None) -> dict[str, Any]:
    """`price.changed`: which price of which SKU moved, from what to what, by whom and why."""
    return {
        "change_id": change.id,
        "sku_id": change.sku_id,
        "price_list_id": change.price_list_id,
        "price_list_code": price_list_code,
        "old_price": change.old_price,
        "new_price": change.new_price,
        "cost": change.cost,
        "actor": change.actor,
        "reason": change.reason,
        "outside_band": change.outside_band,
        "changed_at": change.changed_at.isoformat(),
    }


def flash_sale(sale: FlashSale) -> dict[str, Any]:
    """The sale's definition and its counters."""
    return {
        "flash_sale_id": sale.id,
        "name": sale.name,
        "status": sale.status,
        "starts_at": sale.starts_at.isoformat(),
        "ends_at": sale.ends_at.isoformat(),
        "per_customer_limit": sale.per_customer_limit,
        "items": [
            {
                "sku_id": i.sku_id,
                "list_price": i.list_price,
                "flash_price": i.flash_price,
                "pool": i.pool,
                "sold": i.sold,
            }
            for i in sale.items
        ],
    }


def purchase(rows: list[FlashSalePurchase]) -> dict[str, Any]:
    """`flash_sale.purchased` / `.released`: one order's units of one sale."""
    first = rows[0]
    return {
        "flash_sale_id": first.flash_sale_id,
        "order_id": first.order_id,
        "customer_id": first.customer_id,
        "lines": [
            {"sku_id": r.sku_id, "quantity": r.quantity, "unit_price": r.unit_price} for r in rows
        ],
    }
