"""Events of the orders domain and their payloads.

Payloads carry plain JSON (fen as ints, ISO times, ids) with enough for the warehouse to build
order and order-line facts without reading the tables. They carry the shipping region, never
the recipient's name, phone or street.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shopops.orders.models import Order, OrderLine

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
ORDER_DELIVERED = "order.delivered"
ORDER_COMPLETED = "order.completed"
ORDER_REFUND_REQUESTED = "order.refund_requested"
ORDER_REFUND_REJECTED = "order.refund_rejected"
ORDER_REFUNDED = "order.refunded"

AGGREGATE = "order"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def region(order: Order) -> dict[str, str]:
    address = order.shipping_address or {}
    return {k: str(address.get(k, "")) for k in ("province", "city", "district")}


def header(order: Order) -> dict[str, Any]:
    """The order's identity, money and status: the head of every order event."""
    return {
        "order_id": order.id,
        "number": order.number,
        "customer_id": order.customer_id,
        "channel": order.channel,
        "status": order.status,
        "currency": order.currency,
        "items_subtotal": order.items_subtotal,
        "discount_total": order.discount_total,
        "shipping_fee": order.shipping_fee,
        "total": order.total,
        "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "placed_at": _iso(order.placed_at),
    }


def line(row: OrderLine, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "line_id": row.id,
        "sku_id": row.sku_id,
        "product_id": row.product_id,
        "sku_code": row.sku_code,
        "quantity": row.quantity,
        "unit_price": row.unit_price,
        "unit_cost": row.unit_cost,
        "subtotal": row.subtotal,
        "discount": row.discount,
        "total": row.total,
        **(extra or {}),
    }


def created(order: Order, *, line_extras: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """`order.created`: the whole order, its lines (with category and brand) and discounts.

    `line_extras` maps a SKU id to catalog facts the line does not store.
    """
    return {
        **header(order),
        "expires_at": _iso(order.expires_at),
        "region": region(order),
        "note": order.note,
        "lines": [line(row, line_extras.get(row.sku_id)) for row in order.lines],
        "discounts": [
            {
                "source": d.source,
                "reference": d.reference,
                "description": d.description,
                "amount": d.amount,
            }
            for d in order.discounts
        ],
    }


def paid(order: Order) -> dict[str, Any]:
    """`order.paid`: the sale, with each line's price, discount and cost (gross margin)."""
    return {
        **header(order),
        "paid_at": _iso(order.paid_at),
        "region": region(order),
        "lines": [line(row) for row in order.lines],
    }


def status_changed(order: Order, *, previous: str, **extra: Any) -> dict[str, Any]:
    """A move in the state machine: where from, where to, when."""
    return {
        **header(order),
        "previous_status": previous,
        "shipped_at": _iso(order.shipped_at),
        "delivered_at": _iso(order.delivered_at),
        "completed_at": _iso(order.completed_at),
        **extra,
    }


def cancelled(order: Order, *, previous: str) -> dict[str, Any]:
    """`order.cancelled`: the reason, and the units that went back on sale."""
    return status_changed(
        order,
        previous=previous,
        reason=order.cancel_reason,
        cancelled_at=_iso(order.cancelled_at),
        lines=[{"sku_id": row.sku_id, "quantity": row.quantity} for row in order.lines],
    )


def refunded(
    order: Order,
    *,
    previous: str,
    parts: Sequence[tuple[OrderLine, int, int]],
    shipping_refund: int,
) -> dict[str, Any]:
    """`order.refunded`: this refund's amount per line (quantity, amount, cost), the shipping
    part, and the order's refunded total after it."""
    return status_changed(
        order,
        previous=previous,
        amount=sum(amount for _, _, amount in parts) + shipping_refund,
        shipping_refund=shipping_refund,
        full=order.refunded_amount == order.paid_amount,
        lines=[
            {
                "line_id": row.id,
                "sku_id": row.sku_id,
                "product_id": row.product_id,
                "quantity": quantity,
                "amount": amount,
                "unit_cost": row.unit_cost,
            }
            for row, quantity, amount in parts
        ],
    )
