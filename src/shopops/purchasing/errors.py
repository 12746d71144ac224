"""Errors of the purchasing domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class SupplierNotFound(NotFound):
    code = "supplier_not_found"


class PurchaseOrderNotFound(NotFound):
    code = "purchase_order_not_found"


class UnknownSku(NotFound):
    code = "unknown_sku"


class UnknownWarehouse(NotFound):
    code = "unknown_warehouse"


class DuplicateSupplierCode(Conflict):
    code = "duplicate_supplier_code"


class SupplierInactive(Conflict):
    """New purchase orders go only to active suppliers."""

    code = "supplier_inactive"


class SkuNotSupplied(Conflict):
    """The supplier has no agreed cost for this SKU (or no supplier supplies it)."""

    code = "sku_not_supplied"


class OverReceipt(Conflict):
    """Receiving more units than are still outstanding on a purchase-order line."""

    code = "over_receipt"


class NotReceivable(Conflict):
    """Goods are received only against a submitted or partially received order."""

    code = "not_receivable"


class IllegalPurchaseOrderTransition(IllegalTransition):
    code = "illegal_purchase_order_transition"


class InvalidPurchasingField(InvalidInput):
    """A quantity, cost, lead time, rating or text outside its allowed range."""

    code = "invalid_purchasing_field"


class LineNotOnOrder(InvalidInput):
    """A receipt names a SKU or line that is not on the purchase order."""

    code = "line_not_on_order"


class InvalidPeriod(InvalidInput):
    """A scorecard period whose start is not before its end."""

    code = "invalid_period"
