"""The order state machine, as a pure rule: which action may move an order where.

pending_payment → paid → shipped → delivered → completed, with cancelled (unpaid only),
refund_requested → refunded / partially_refunded, and a rejected refund request resuming the
status it interrupted. Anything not in `TRANSITIONS` is illegal and refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class OrderAction(StrEnum):
    PAY = "pay"
    CANCEL = "cancel"
    SHIP = "ship"
    DELIVER = "deliver"
    COMPLETE = "complete"
    REQUEST_REFUND = "request_refund"
    REJECT_REFUND = "reject_refund"
    REFUND_PARTIAL = "refund_partial"
    REFUND_FULL = "refund_full"


S, A = OrderStatus, OrderAction

TRANSITIONS: dict[OrderStatus, dict[OrderAction, OrderStatus]] = {
    S.PENDING_PAYMENT: {A.PAY: S.PAID, A.CANCEL: S.CANCELLED},
    S.PAID: {A.SHIP: S.SHIPPED, A.REQUEST_REFUND: S.REFUND_REQUESTED},
    S.SHIPPED: {A.DELIVER: S.DELIVERED, A.REQUEST_REFUND: S.REFUND_REQUESTED},
    S.DELIVERED: {A.COMPLETE: S.COMPLETED, A.REQUEST_REFUND: S.REFUND_REQUESTED},
    S.COMPLETED: {A.REQUEST_REFUND: S.REFUND_REQUESTED},
    S.REFUND_REQUESTED: {A.REFUND_FULL: S.REFUNDED, A.REFUND_PARTIAL: S.PARTIALLY_REFUNDED},
    # What is left of a partly refunded order still ships, arrives and completes.
    S.PARTIALLY_REFUNDED: {
        A.SHIP: S.SHIPPED,
        A.DELIVER: S.DELIVERED,
        A.COMPLETE: S.COMPLETED,
        A.REQUEST_REFUND: S.REFUND_REQUESTED,
        A.REFUND_FULL: S.REFUNDED,
    },
    S.CANCELLED: {},
    S.REFUNDED: {},
}

TERMINAL = frozenset(s for s, moves in TRANSITIONS.items() if not moves)
# Statuses a refund request may interrupt and, if rejected, resume.
RESUMABLE = frozenset({S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.PARTIALLY_REFUNDED})
# Orders in these statuses count as paid for analytics (money was received).
PAID_STATUSES = frozenset(
    {
        S.PAID,
        S.SHIPPED,
        S.DELIVERED,
        S.COMPLETED,
        S.REFUND_REQUESTED,
        S.REFUNDED,
        S.PARTIALLY_REFUNDED,
    }
)


class IllegalOrderTransition(ValueError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} an order that is {status}")
        self.status = status
        self.action = action


def allowed_actions(status: OrderStatus | str) -> frozenset[OrderAction]:
    return frozenset(TRANSITIONS[OrderStatus(status)])


def next_status(
    status: OrderStatus | str, action: OrderAction | str, *, resume: OrderStatus | str | None = None
) -> OrderStatus:
    """The status after `action`, or `IllegalOrderTransition`.

    `resume` is the status a refund request interrupted; rejecting the request returns there.
    """
    current, act = OrderStatus(status), OrderAction(action)
    if current is S.REFUND_REQUESTED and act is A.REJECT_REFUND:
        if resume is None or OrderStatus(resume) not in RESUMABLE:
            raise IllegalOrderTransition(current, act)
        return OrderStatus(resume)
    target = TRANSITIONS[current].get(act)
    if target is None:
        raise IllegalOrderTransition(current, act)
    return target


def shipping_fee(discounted_subtotal: int, *, free_threshold: int, base_fee: int) -> int:
    """The shipping fee: free once the discounted item subtotal reaches `free_threshold`
    (a threshold of 0 turns free shipping off), else `base_fee`."""
    if free_threshold > 0 and discounted_subtotal >= free_threshold:
        return 0
    return base_fee


def merge_lines(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(sku_id, quantity) pairs with repeated SKUs added together, in first-seen order."""
    merged: dict[int, int] = {}
    for sku_id, quantity in lines:
        merged[sku_id] = merged.get(sku_id, 0) + quantity
    return list(merged.items())


def request_fingerprint(
    *,
    address_id: int | None,
    lines: Iterable[tuple[int, int]] | None,
    channel: str,
    note: str,
    coupon_codes: Iterable[str] = (),
    points: int = 0,
) -> str:
    """SHA-256 of an order request in a normal form: the same request always hashes the same
    (line order and repeated SKUs do not matter), a different one differently."""
    body = {
        "address_id": address_id,
        "channel": channel,
        "note": note.strip(),
        "lines": None if lines is None else sorted(merge_lines(lines)),
    }
    # Only present when used, so keys made before coupons existed hash as they did.
    if coupon_codes:
        body["coupon_codes"] = sorted(coupon_codes)
    if points:
        body["points"] = points
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
