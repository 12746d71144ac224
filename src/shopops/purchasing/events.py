"""Events of the purchasing domain and their payloads (money in fen).

`purchase_order.received` is emitted once per receipt (a delivery), with `complete` saying
whether the order is now fully received; the stock itself moves through inventory's
`stock.changed` (ref_type `purchase_order`, ref_id the order number).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shopops.purchasing.models import PurchaseOrder, PurchaseReceipt, Supplier

SUPPLIER_CREATED = "supplier.created"
SUPPLIER_UPDATED = "supplier.updated"
PO_SUBMITTED = "purchase_order.submitted"
PO_RECEIVED = "purchase_order.received"
PO_CANCELLED = "purchase_order.cancelled"

SUPPLIER_AGGREGATE = "supplier"
PO_AGGREGATE = "purchase_order"


def supplier_payload(supplier: Supplier) -> dict[str, Any]:
    return {
        "supplier_id": supplier.id,
        "code": supplier.code,
        "name": supplier.name,
        "lead_time_days": supplier.lead_time_days,
        "vmi": supplier.vmi,
        "rating": supplier.rating,
        "active": supplier.active,
    }


def order_payload(po: PurchaseOrder) -> dict[str, Any]:
    return {
        "purchase_order_id": po.id,
        "number": po.number,
        "supplier_id": po.supplier_id,
        "warehouse_id": po.warehouse_id,
        "status": po.status,
        "expected_at": po.expected_at.isoformat(),
        "lines": [
            {"sku_id": ln.sku_id, "quantity": ln.quantity, "unit_cost": ln.unit_cost}
            for ln in po.lines
        ],
        "total_cost": sum(ln.quantity * ln.unit_cost for ln in po.lines),
    }


def received_payload(
    po: PurchaseOrder,
    receipt: PurchaseReceipt,
    units: list[tuple[int, int, int]],
    *,
    on_time: bool,
    at: dt.datetime,
) -> dict[str, Any]:
    """`units` are (sku_id, accepted, rejected) of this receipt."""
    return {
        "purchase_order_id": po.id,
        "number": po.number,
        "receipt_id": receipt.id,
        "supplier_id": po.supplier_id,
        "warehouse_id": po.warehouse_id,
        "status": po.status,
        "complete": po.status == "received",
        "on_time": on_time,
        "expected_at": po.expected_at.isoformat(),
        "received_at": at.isoformat(),
        "lines": [{"sku_id": s, "accepted": a, "rejected": r} for s, a, r in units],
    }
