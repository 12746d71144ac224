"""Errors of the inventory domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, InvalidInput, NotFound


class OutOfStock(Conflict):
    """Details: the first short SKU's `sku_id`, `requested`, `available`, and `shortages`
    listing every short SKU the same way."""

    code = "out_of_stock"


class UnknownSku(NotFound):
    code = "unknown_sku"


class UnknownWarehouse(NotFound):
    code = "unknown_warehouse"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class InvalidRef(InvalidInput):
    """A reference (ref_type/ref_id) that is empty or too long."""

    code = "invalid_ref"


class NegativeStock(Conflict):
    code = "negative_stock"


class StockBelowReserved(Conflict):
    """An adjustment may not take on-hand stock below what is reserved for open orders."""

    code = "stock_below_reserved"


class WarehouseInactive(Conflict):
    code = "warehouse_inactive"


class NoActiveWarehouse(Conflict):
    code = "no_active_warehouse"


class DuplicateWarehouseCode(Conflict):
    code = "duplicate_warehouse_code"
