"""Events of the after-sales domain and their payloads.

Each carries the request's lines with their SKUs, so the warehouse counts returned units
(`return_rate` = units received / units shipped) without reading the tables; `kind` tells a
return (money back) from an exchange (a replacement instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopops.aftersales.models import ReturnRequest

RETURN_REQUESTED = "return.requested"
RETURN_APPROVED = "return.approved"
RETURN_REJECTED = "return.rejected"
RETURN_RECEIVED = "return.received"
RETURN_REFUNDED = "return.refunded"
RETURN_EXCHANGED = "return.exchanged"

AGGREGATE = "return"


def return_payload(
    request: ReturnRequest,
    *,
    order_number: str,
    sku_by_line: Mapping[int, int],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The request as a fact: order, customer, kind, why, status and its lines."""
    payload: dict[str, Any] = {
        "return_id": request.id,
        "order_id": request.order_id,
        "order_number": order_number,
        "customer_id": request.customer_id,
        "kind": request.kind,
        "no_reason": request.no_reason,
        "reason": request.reason,
        "status": request.status,
        "requested_at": request.requested_at.isoformat(),
        "lines": [
            {
                "order_line_id": line.order_line_id,
                "sku_id": sku_by_line.get(line.order_line_id),
                "quantity": line.quantity,
            }
            for line in request.lines
        ],
    }
    payload.update(extra or {})
    return payload
