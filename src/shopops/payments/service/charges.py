"""Paying: attempts, the gateway's signed callbacks, and reversing money an order cannot take.

A callback is idempotent on the gateway transaction id: a duplicate (any outcome) or a success
for an attempt that already ended changes nothing and returns the payment. A success for an
order that can no longer take it (cancelled by the unpaid timeout while the shopper was
paying, or already paid by another attempt) is recorded as succeeded — the provider did take
the money — and a `reversal` refund of the whole payment is made at once. The order never took
that money, so its paid and refunded amounts do not move: a reversal and the payment it
reverses cancel out, and order-level sums leave both out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import emit
from shopops.orders import service as orders
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order
from shopops.orders.rules import OrderStatus
from shopops.payments import events, rules
from shopops.payments.errors import (
    BadSignature,
    CallbackAmountMismatch,
    OrderNotPayable,
    PaymentNotFound,
)
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundKind,
    RefundLine,
    RefundStatus,
)
from shopops.payments.service.common import gateway_or_default, parse_channel
from shopops.payments.service.refunds import emit_refund


def start_payment(
    session: Session, *, order_id: int, channel: str, gateway: SimulatedGateway | None = None
) -> Payment:
    """Open a pending attempt for the order's total on `channel`, with a new gateway
    transaction id; its outcome arrives as a callback. The order must be pending payment
    (409 `order_not_payable`); an unknown channel is 422 `unknown_channel`."""
    chan = parse_channel(channel)
    gw = gateway_or_default(gateway)
    order = orders.get_order(session, order_id=order_id, for_update=True)
    at = now(session)
    check_payable(order, at)
    payment = Payment(
        order_id=order.id,
        channel=chan.value,
        amount=order.total,
        status=PaymentStatus.PENDING,
        gateway_txn_id=gw.new_txn_id(chan.value),
        failure_code="",
        created_at=at,
    )
    session.add(payment)
    session.flush()
    return payment


def check_payable(order: Any, at: dt.datetime) -> None:
    """A new attempt at `at` needs the order pending payment, for money, and within its
    deadline (409 `order_not_payable`); `order` has id, number, status, total, expires_at."""
    if order.status != OrderStatus.PENDING_PAYMENT or order.total <= 0:
        raise OrderNotPayable(
            f"order {order.number} is {order.status}, not awaiting payment",
            details={"order_id": order.id, "status": order.status, "total": order.total},
        )
    # Past its deadline the order is about to be cancelled and its stock released: no new
    # attempts (one already under way is still honoured, or reversed if it lands too late).
    if at >= order.expires_at:
        raise OrderNotPayable(
            f"order {order.number} was not paid in time",
            details={"order_id": order.id, "expires_at": order.expires_at.isoformat()},
        )


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """What a verified callback says happened to an attempt."""

    gateway_txn_id: str
    succeeded: bool
    failure_code: str
    amount: int | None


def read_callback(fields: Mapping[str, object], signature: str, secret: str) -> CallbackOutcome:
    """The outcome a posted callback reports, once its signature checks (401 `bad_signature`)."""
    if not rules.verify(fields, signature, secret):
        raise BadSignature("the callback signature does not match its fields")
    amount = fields.get("amount")
    return CallbackOutcome(
        gateway_txn_id=str(fields.get("gateway_txn_id", "")),
        succeeded=fields.get("status") == "succeeded",
        failure_code=str(fields.get("failure_code") or ""),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
    )


def failure_code_of(code: str) -> str:
    """The failure code a failed attempt records (the provider may give none)."""
    return (code or "declined")[:50]


def pay_order(
    session: Session, *, order_id: int, channel: str, gateway: SimulatedGateway | None = None
) -> Payment:
    """Start an attempt (`start_payment`), ask the gateway, apply its signed callback.

    Returns the attempt, succeeded or failed (a failure is an outcome, not an error: the shopper
    may retry on another channel).
    """
    gw = gateway_or_default(gateway)
    payment = start_payment(session, order_id=order_id, channel=channel, gateway=gw)
    result = gw.charge(
        channel=payment.channel, amount=payment.amount, gateway_txn_id=payment.gateway_txn_id
    )
    payload = gw.callback_payload(result)
    return receive_callback(
        session,
        fields=payload,
        signature=str(payload[rules.SIGNATURE_FIELD]),
        secret=gw.secret,
        gateway=gw,
    )


def pay_customer_order(
    session: Session,
    *,
    customer_id: int,
    order_number: str,
    channel: str,
    gateway: SimulatedGateway | None = None,
) -> Payment:
    """`pay_order` for a shopper: another customer's order is 404, as if it did not exist."""
    order = orders.get_order_by_number(session, number=order_number)
    if order.customer_id != customer_id:
        raise OrderNotFound(f"no order {order_number}", details={"number": order_number})
    return pay_order(session, order_id=order.id, channel=channel, gateway=gateway)


def receive_callback(
    session: Session,
    *,
    fields: Mapping[str, object],
    signature: str,
    secret: str,
    gateway: SimulatedGateway | None = None,
) -> Payment:
    """Verify a posted callback's signature (401 `bad_signature`), then `handle_callback`."""
    outcome = read_callback(fields, signature, secret)
    return handle_callback(
        session,
        gateway_txn_id=outcome.gateway_txn_id,
        succeeded=outcome.succeeded,
        failure_code=outcome.failure_code,
        amount=outcome.amount,
        gateway=gateway,
    )


def handle_callback(
    session: Session,
    *,
    gateway_txn_id: str,
    succeeded: bool,
    failure_code: str = "",
    amount: int | None = None,
    gateway: SimulatedGateway | None = None,
) -> Payment:
    """Apply the gateway's outcome to the attempt; idempotent on `gateway_txn_id`.

    An attempt that already ended is returned unchanged. The first success marks the order
    paid (which commits its stock); a success the order cannot take is reversed at once.
    Unknown transaction: 404 `payment_not_found`; a different amount: 409 `amount_mismatch`.
    """
    found = session.execute(
        select(Payment.id, Payment.order_id).where(Payment.gateway_txn_id == gateway_txn_id)
    ).first()
    if found is None:
        raise PaymentNotFound(
            f"no payment with transaction {gateway_txn_id!r}",
            details={"gateway_txn_id": gateway_txn_id},
        )
    # Order first, then the attempt: the same lock order as `pay_order`, so no deadlock.
    order = orders.get_order(session, order_id=found.order_id, for_update=True)
    payment = session.scalars(
        select(Payment)
        .where(Payment.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if amount is not None and amount != payment.amount:
        raise CallbackAmountMismatch(
            f"the callback reports {amount}, the attempt was for {payment.amount}",
            details={
                "gateway_txn_id": gateway_txn_id,
                "amount": amount,
                "expected": payment.amount,
            },
        )
    if payment.status != PaymentStatus.PENDING:
        return payment
    payment.completed_at = now(session)
    if not succeeded:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = failure_code_of(failure_code)
        session.flush()
        emit(
            session,
            events.PAYMENT_FAILED,
            aggregate_type=events.AGGREGATE,
            aggregate_id=order.id,
            payload=events.payment_payload(payment, order_number=order.number, reversed_=False),
            occurred_at=payment.completed_at,
        )
        return payment
    payment.status = PaymentStatus.SUCCEEDED
    payment.failure_code = ""
    session.flush()
    takes_it = order.status == OrderStatus.PENDING_PAYMENT
    emit(
        session,
        events.PAYMENT_SUCCEEDED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=order.id,
        payload=events.payment_payload(payment, order_number=order.number, reversed_=not takes_it),
        occurred_at=payment.completed_at,
    )
    if takes_it:
        orders.mark_paid(session, order_id=order.id, amount=payment.amount)
    else:
        _reverse_payment(session, payment=payment, order=order, gateway=gateway_or_default(gateway))
    return payment


def _reverse_payment(
    session: Session, *, payment: Payment, order: Order, gateway: SimulatedGateway
) -> Refund:
    """Give a whole payment back: the order was cancelled or already paid when it succeeded."""
    reason = (
        "payment arrived after the order was cancelled"
        if order.status == OrderStatus.CANCELLED
        else f"duplicate payment: the order was already {order.status}"
    )
    result = gateway.refund(gateway_txn_id=payment.gateway_txn_id, amount=payment.amount)
    at = now(session)
    refund = Refund(
        order_id=order.id,
        payment_id=payment.id,
        amount=payment.amount,
        status=RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED,
        kind=RefundKind.REVERSAL,
        reason=reason,
        return_id=None,
        gateway_refund_id=result.gateway_refund_id,
        created_at=at,
        completed_at=at,
        lines=[RefundLine(order_line_id=None, quantity=0, amount=payment.amount)],
    )
    session.add(refund)
    session.flush()
    # The order never took this money: its paid and refunded amounts stay as they are.
    emit_refund(session, refund=refund, order=order, channel=payment.channel, sku_by_line={})
    return refund
