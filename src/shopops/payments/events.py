"""Events of the payments domain and their payloads.

Every attempt ends, in the transaction that starts it, as exactly one of `payment.succeeded`
or `payment.failed` (the simulated gateway answers at once), so attempts per channel =
succeeded + failed events and no separate `payment.attempted` is emitted. Events are filed
under the order (aggregate "order"), so an order's timeline shows its attempts and refunds.
"""

from __future__ import annotations

from typing import Any

from shopops.payments.models import Payment, Refund, RefundKind

PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
REFUND_SUCCEEDED = "refund.succeeded"

AGGREGATE = "order"


def payment_payload(payment: Payment, *, order_number: str, reversed_: bool) -> dict[str, Any]:
    """One attempt's fact: channel, amount, outcome; `reversed` when the money went back."""
    return {
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "order_number": order_number,
        "channel": payment.channel,
        "amount": payment.amount,
        "status": payment.status,
        "failure_code": payment.failure_code,
        "gateway_txn_id": payment.gateway_txn_id,
        "attempted_at": payment.created_at.isoformat(),
        "completed_at": payment.completed_at.isoformat() if payment.completed_at else None,
        "reversed": reversed_,
    }


def refund_payload(
    refund: Refund,
    *,
    order_number: str,
    channel: str,
    sku_by_line: dict[int, int],
) -> dict[str, Any]:
    """A refund with its per-line parts (SKU, units, amount) and its shipping part."""
    lines = [
        {
            "order_line_id": part.order_line_id,
            "sku_id": sku_by_line.get(part.order_line_id),
            "quantity": part.quantity,
            "amount": part.amount,
        }
        for part in refund.lines
        if part.order_line_id is not None
    ]
    # A reversal's one part has no line either, but it is the whole payment, not shipping.
    shipping = (
        sum(part.amount for part in refund.lines if part.order_line_id is None)
        if refund.kind == RefundKind.ORDER
        else 0
    )
    return {
        "refund_id": refund.id,
        "order_id": refund.order_id,
        "order_number": order_number,
        "payment_id": refund.payment_id,
        "channel": channel,
        "kind": refund.kind,
        "amount": refund.amount,
        "shipping_amount": shipping,
        "reason": refund.reason,
        "return_id": refund.return_id,
        "lines": lines,
        "refunded_at": refund.completed_at.isoformat() if refund.completed_at else None,
    }
