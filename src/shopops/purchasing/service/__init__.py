"""Use cases of purchasing: suppliers and their SKU costs, purchase orders, receiving,
scorecards and replenishment suggestions.

Writes validate first and then act, so a refused request changes nothing. Stock moves only
through `inventory.service.receive_stock` (ref_type `purchase_order`, ref_id the number).
"""

from shopops.purchasing.service._common import Page
from shopops.purchasing.service.orders import (
    LineSpec,
    cancel_purchase_order,
    create_purchase_order,
    get_purchase_order,
    list_purchase_orders,
    on_order,
    po_number,
    submit_purchase_order,
)
from shopops.purchasing.service.receiving import (
    REF_TYPE,
    ReceiptSpec,
    receive_in_full,
    receive_purchase_order,
)
from shopops.purchasing.service.scorecards import (
    replenishment_suggestions,
    supplier_scorecards,
)
from shopops.purchasing.service.suppliers import (
    create_supplier,
    get_supplier,
    list_supplier_skus,
    list_suppliers,
    preferred_suppliers,
    set_supplier_costs,
    supplier_for_sku,
    update_supplier,
)

__all__ = [
    "REF_TYPE",
    "LineSpec",
    "Page",
    "ReceiptSpec",
    "cancel_purchase_order",
    "create_purchase_order",
    "create_supplier",
    "get_purchase_order",
    "get_supplier",
    "list_purchase_orders",
    "list_supplier_skus",
    "list_suppliers",
    "on_order",
    "po_number",
    "preferred_suppliers",
    "receive_in_full",
    "receive_purchase_order",
    "replenishment_suggestions",
    "set_supplier_costs",
    "submit_purchase_order",
    "supplier_for_sku",
    "supplier_scorecards",
    "update_supplier",
]
