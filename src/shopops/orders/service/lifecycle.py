"""An order's life after checkout: reads, every move of the state machine (each through
`rules.next_status`, each emitting its event), refunds, and the timed jobs (unpaid orders
expire, delivered orders complete)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import OutboxEvent, emit, events_for
from shopops.inventory import service as inventory
from shopops.orders import events
from shopops.orders.errors import (
    AmountMismatch,
    InvalidRefund,
    OrderNotFound,
    OrderTransitionRefused,
)
from shopops.orders.models import Order, OrderLine
from shopops.orders.rules import IllegalOrderTransition, OrderAction, OrderStatus, next_status
from shopops.orders.service.checkout import RESERVATION_REF

A, S = OrderAction, OrderStatus
MAX_REASON = 100


# --- reads -------------------------------------------------------------------------------------


def _load(
    session: Session,
    stmt: Select[tuple[Order]],
    *,
    for_update: bool = False,
    details: bool = False,
    missing: dict[str, Any],
) -> Order:
    if details:
        # Lines in the same query (one join: half the ORM work of a second SELECT).
        stmt = stmt.options(joinedload(Order.lines), selectinload(Order.discounts))
    if for_update:
        # Re-read the row under the lock, even if this session loaded it before.
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    order = session.scalars(stmt).unique().one_or_none()
    if order is None:
        raise OrderNotFound("no such order", details=missing)
    return order


def get_order(
    session: Session, *, order_id: int, for_update: bool = False, details: bool = False
) -> Order:
    """The order (locked for the transaction with `for_update`); 404 `order_not_found`.

    `details=True` loads its lines and discounts up front (two more queries, no lazy loads).
    """
    return _load(
        session,
        select(Order).where(Order.id == order_id),
        for_update=for_update,
        details=details,
        missing={"order_id": order_id},
    )


def get_order_by_number(session: Session, *, number: str, details: bool = False) -> Order:
    """The order with this number; 404 `order_not_found`."""
    return _load(
        session,
        select(Order).where(Order.number == number),
        details=details,
        missing={"number": number},
    )


def get_customer_order(
    session: Session, *, customer_id: int, number: str, for_update: bool = False
) -> Order:
    """The customer's own order by number, with lines and discounts (locked with
    `for_update`); someone else's order is 404 like a missing one (a shopper must not learn
    that it exists)."""
    return _load(
        session,
        select(Order).where(Order.number == number, Order.customer_id == customer_id),
        for_update=for_update,
        details=True,
        missing={"number": number},
    )


def list_orders(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    number: str | None = None,
    placed_from: dt.datetime | None = None,
    placed_to: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Order], int]:
    """One page of orders, newest first (lines not loaded), and how many match in all."""
    stmt = select(Order)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if number:
        stmt = stmt.where(Order.number == number)
    if placed_from is not None:
        stmt = stmt.where(Order.placed_at >= placed_from)
    if placed_to is not None:
        stmt = stmt.where(Order.placed_at < placed_to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = session.scalars(
        stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    )
    return list(page), total


def order_numbers(session: Session, *, order_ids: Sequence[int]) -> dict[int, str]:
    """The numbers of these orders in one query (unknown ids are left out)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = session.execute(select(Order.id, Order.number).where(Order.id.in_(ids)))
    return {order_id: number for order_id, number in rows}


def order_timeline(session: Session, *, order_id: int) -> list[OutboxEvent]:
    """The order's events, oldest first: created, paid, shipped…"""
    return events_for(session, aggregate_type=events.AGGREGATE, aggregate_id=order_id)


# --- moves of the state machine ----------------------------------------------------------------


def _target(order: Order, action: OrderAction) -> OrderStatus:
    """Where `action` takes the order, or 409 `illegal_transition` saying where it stands."""
    try:
        return next_status(order.status, action, resume=order.resume_status or None)
    except IllegalOrderTransition as exc:
        raise OrderTransitionRefused(
            f"cannot {action.value.replace('_', ' ')} order {order.number}: it is {order.status}",
            details={
                "order_id": order.id,
                "number": order.number,
                "status": order.status,
                "action": action.value,
            },
        ) from exc


def _emit(session: Session, name: str, order: Order, payload: dict[str, Any]) -> None:
    emit(session, name, aggregate_type=events.AGGREGATE, aggregate_id=order.id, payload=payload)


def _simple_move(
    session: Session, *, order_id: int, action: OrderAction, stamp: str, event: str
) -> Order:
    order = get_order(session, order_id=order_id, for_update=True)
    target = _target(order, action)
    previous, when = order.status, now(session)
    order.status = target.value
    setattr(order, stamp, when)
    _emit(session, event, order, events.status_changed(order, previous=previous))
    session.flush()
    return order


def mark_paid(session: Session, *, order_id: int, amount: int) -> Order:
    """pending_payment → paid for exactly the order's total: the reserved stock becomes a
    sale and `order.paid` carries the lines. A second payment is 409 `illegal_transition`;
    a wrong amount is 409 `amount_mismatch`."""
    order = get_order(session, order_id=order_id, for_update=True, details=True)
    target = _target(order, A.PAY)
    if amount != order.total:
        raise AmountMismatch(
            f"order {order.number} costs {order.total}, the payment was {amount}",
            details={"order_id": order.id, "expected": order.total, "amount": amount},
        )
    order.status = target.value
    order.paid_amount = amount
    order.paid_at = now(session)
    inventory.commit_reservations(session, ref_type=RESERVATION_REF, ref_id=str(order.id))
    _emit(session, events.ORDER_PAID, order, events.paid(order))
    session.flush()
    return order


def cancel_order(session: Session, *, order_id: int, reason: str) -> Order:
    """Cancel an unpaid order and put its reserved stock back on sale (`order.cancelled`).

    A paid order cannot be cancelled (409 `illegal_transition`): it is refunded instead.
    """
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise InvalidInput(
            f"a cancel reason has 1 to {MAX_REASON} characters", details={"reason": reason}
        )
    order = get_order(session, order_id=order_id, for_update=True, details=True)
    target = _target(order, A.CANCEL)
    previous = order.status
    order.status = target.value
    order.cancel_reason = reason
    order.cancelled_at = now(session)
    inventory.release_reservations(session, ref_type=RESERVATION_REF, ref_id=str(order.id))
    _emit(session, events.ORDER_CANCELLED, order, events.cancelled(order, previous=previous))
    session.flush()
    return order


def mark_shipped(session: Session, *, order_id: int) -> Order:
    """paid (or partially refunded) → shipped; `order.shipped`."""
    return _simple_move(
        session, order_id=order_id, action=A.SHIP, stamp="shipped_at", event=events.ORDER_SHIPPED
    )


def mark_delivered(session: Session, *, order_id: int) -> Order:
    """shipped → delivered; `order.delivered`. The return window counts from here."""
    return _simple_move(
        session,
        order_id=order_id,
        action=A.DELIVER,
        stamp="delivered_at",
        event=events.ORDER_DELIVERED,
    )


def complete_order(session: Session, *, order_id: int) -> Order:
    """delivered → completed (确认收货); `order.completed`."""
    return _simple_move(
        session,
        order_id=order_id,
        action=A.COMPLETE,
        stamp="completed_at",
        event=events.ORDER_COMPLETED,
    )


def confirm_receipt(session: Session, *, customer_id: int, number: str) -> Order:
    """The shopper confirms receipt: a shipped order is delivered, then completed."""
    order = get_customer_order(session, customer_id=customer_id, number=number)
    if order.status == S.SHIPPED:
        mark_delivered(session, order_id=order.id)
    return complete_order(session, order_id=order.id)


def cancel_customer_order(session: Session, *, customer_id: int, number: str) -> Order:
    """The shopper cancels their own unpaid order."""
    order = get_customer_order(session, customer_id=customer_id, number=number)
    return cancel_order(session, order_id=order.id, reason="customer_cancelled")


def _request_refund(session: Session, order: Order) -> None:
    target = _target(order, A.REQUEST_REFUND)
    previous = order.status
    order.status = target.value
    order.resume_status = previous
    _emit(
        session,
        events.ORDER_REFUND_REQUESTED,
        order,
        events.status_changed(order, previous=previous),
    )


def request_refund(session: Session, *, order_id: int) -> Order:
    """A paid order's refund is requested (`order.refund_requested`); the status it
    interrupts is remembered, to resume if the request is rejected."""
    order = get_order(session, order_id=order_id, for_update=True)
    _request_refund(session, order)
    session.flush()
    return order


def reject_refund(session: Session, *, order_id: int) -> Order:
    """refund_requested → the status it interrupted; `order.refund_rejected`."""
    order = get_order(session, order_id=order_id, for_update=True)
    target = _target(order, A.REJECT_REFUND)
    previous = order.status
    order.status = target.value
    order.resume_status = ""
    _emit(
        session,
        events.ORDER_REFUND_REJECTED,
        order,
        events.status_changed(order, previous=previous),
    )
    session.flush()
    return order


def _refund_parts(
    order: Order, line_refunds: Mapping[int, tuple[int, int]], shipping_refund: int
) -> list[tuple[OrderLine, int, int]]:
    """Check a refund against what the order has left to refund; the parts per line."""
    by_id = {line.id: line for line in order.lines}
    parts: list[tuple[OrderLine, int, int]] = []
    for line_id, (quantity, amount) in line_refunds.items():
        line = by_id.get(line_id)
        if line is None:
            raise InvalidRefund(
                f"order {order.number} has no line {line_id}", details={"order_line_id": line_id}
            )
        if quantity < 0 or amount < 0:
            raise InvalidRefund(
                "refund quantities and amounts are not negative",
                details={"order_line_id": line_id, "quantity": quantity, "amount": amount},
            )
        if line.refunded_quantity + quantity > line.quantity:
            raise InvalidRefund(
                f"line {line_id} has {line.quantity - line.refunded_quantity} units left",
                details={"order_line_id": line_id, "quantity": quantity},
            )
        if line.refunded_amount + amount > line.total:
            raise InvalidRefund(
                f"line {line_id} has {line.total - line.refunded_amount} left to refund",
                details={"order_line_id": line_id, "amount": amount},
            )
        parts.append((line, quantity, amount))
    refunded_shipping = order.refunded_amount - sum(line.refunded_amount for line in order.lines)
    if shipping_refund < 0 or refunded_shipping + shipping_refund > order.shipping_fee:
        raise InvalidRefund(
            f"shipping refund must be between 0 and {order.shipping_fee - refunded_shipping}",
            details={"shipping_refund": shipping_refund},
        )
    # Lines and shipping add up to what was paid, so these bounds keep refunds within it.
    total = sum(amount for _, _, amount in parts) + shipping_refund
    if total <= 0:
        raise InvalidRefund("a refund returns some money", details={"amount": total})
    return parts


def record_refund(
    session: Session,
    *,
    order_id: int,
    line_refunds: Mapping[int, tuple[int, int]],
    shipping_refund: int,
) -> Order:
    """Record money returned: `line_refunds` maps order line id → (quantity, amount).

    The order (requesting the refund first if nobody did) becomes refunded when everything
    paid has come back, else partially refunded; `order.refunded` carries the amounts.
    """
    order = get_order(session, order_id=order_id, for_update=True, details=True)
    return record_refund_on(
        session, order, line_refunds=line_refunds, shipping_refund=shipping_refund
    )


def record_refund_on(
    session: Session,
    order: Order,
    *,
    line_refunds: Mapping[int, tuple[int, int]],
    shipping_refund: int,
) -> Order:
    """`record_refund` on an order this transaction already holds locked with its lines
    (`get_order(for_update=True, details=True)`): a refund that loaded it reads it once."""
    if order.status != S.REFUND_REQUESTED:
        _target(order, A.REQUEST_REFUND)
    parts = _refund_parts(order, line_refunds, shipping_refund)
    if order.status != S.REFUND_REQUESTED:
        _request_refund(session, order)
    for line, quantity, amount in parts:
        line.refunded_quantity += quantity
        line.refunded_amount += amount
    order.refunded_amount += sum(amount for _, _, amount in parts) + shipping_refund
    full = order.refunded_amount == order.paid_amount
    target = _target(order, A.REFUND_FULL if full else A.REFUND_PARTIAL)
    previous = order.status
    order.status = target.value
    _emit(
        session,
        events.ORDER_REFUNDED,
        order,
        events.refunded(order, previous=previous, parts=parts, shipping_refund=shipping_refund),
    )
    session.flush()
    return order


# --- timed jobs --------------------------------------------------------------------------------


def _due(session: Session, stmt: Select[tuple[int]], limit: int) -> list[int]:
    # SKIP LOCKED: an order being paid right now is left to its payment (PostgreSQL).
    return list(session.scalars(stmt.limit(limit).with_for_update(skip_locked=True)))


def expire_unpaid_orders(session: Session, *, limit: int = 500) -> int:
    """Cancel orders still unpaid after `expires_at` (reason `payment_timeout`), releasing
    their stock; returns how many. Run it every minute or so."""
    stmt = (
        select(Order.id)
        .where(Order.status == S.PENDING_PAYMENT, Order.expires_at <= now(session))
        .order_by(Order.expires_at, Order.id)
    )
    ids = _due(session, stmt, limit)
    for order_id in ids:
        cancel_order(session, order_id=order_id, reason="payment_timeout")
    return len(ids)


def complete_delivered_orders(session: Session, *, days: int, limit: int = 500) -> int:
    """Complete orders delivered at least `days` days ago (automatic 确认收货); returns how
    many. `days` is the shop's `auto_complete_days`."""
    cutoff = now(session) - dt.timedelta(days=days)
    stmt = (
        select(Order.id)
        .where(Order.status == S.DELIVERED, Order.delivered_at <= cutoff)
        .order_by(Order.delivered_at, Order.id)
    )
    ids = _due(session, stmt, limit)
    for order_id in ids:
        complete_order(session, order_id=order_id)
    return len(ids)
