"""Refunding: units of lines, goodwill amounts and the shipping fee, through the payment that
took the money. A refund never returns more than was paid minus what was already refunded,
nor more units of a line than were bought minus those already refunded, and it writes nothing
when refused; the arithmetic is `rules.plan_refund`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.orders import service as orders
from shopops.orders.models import Order
from shopops.orders.rules import PAID_STATUSES
from shopops.orders.service.lifecycle import record_refund_on
from shopops.payments import events, rules
from shopops.payments.errors import OrderNotRefundable
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundKind,
    RefundLine,
    RefundStatus,
)
from shopops.payments.service.common import gateway_or_default

# Built once (bound order id): a refund runs per return, and building cost more than running.
_ORDER_ID = bindparam("order_id")
_SHIPPING_REFUNDED = (
    select(func.coalesce(func.sum(RefundLine.amount), 0))
    .join(Refund, Refund.id == RefundLine.refund_id)
    .where(
        Refund.order_id == _ORDER_ID,
        Refund.kind == RefundKind.ORDER,
        Refund.status == RefundStatus.SUCCEEDED,
        RefundLine.order_line_id.is_(None),
    )
)
# The attempt that paid the order: its first success that was not itself given back.
_CAPTURED = (
    select(Payment)
    .where(
        Payment.order_id == _ORDER_ID,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.id.not_in(
            select(Refund.payment_id).where(
                Refund.order_id == _ORDER_ID, Refund.kind == RefundKind.REVERSAL
            )
        ),
    )
    .order_by(Payment.completed_at, Payment.id)
    .limit(1)
)
_CAPTURED_AND_SHIPPING = _CAPTURED.add_columns(_SHIPPING_REFUNDED.scalar_subquery())


def _require_payment(payment: Payment | None, *, order_id: int) -> Payment:
    if payment is None:
        raise OrderNotRefundable(
            f"order {order_id} has no captured payment to refund", details={"order_id": order_id}
        )
    return payment


def _payment_and_shipping_refunded(
    session: Session, *, order_id: int
) -> tuple[Payment | None, int]:
    """The captured payment (None when there is none) and the shipping fee already refunded,
    in one query."""
    row = session.execute(_CAPTURED_AND_SHIPPING, {"order_id": order_id}).first()
    if row is None:  # no payment row to carry the sum
        return None, int(session.scalar(_SHIPPING_REFUNDED, {"order_id": order_id}) or 0)
    return row[0], int(row[1] or 0)


def refund_order(
    session: Session,
    *,
    order_id: int,
    lines: Sequence[tuple[int, int]] = (),
    amount: int | None = None,
    include_shipping: bool = False,
    reason: str = "",
    return_id: int | None = None,
    gateway: SimulatedGateway | None = None,
) -> Refund:
    """Refund units of lines (`(order_line_id, quantity)`), a goodwill `amount`, and/or the
    shipping fee, through the gateway that took the money; see `rules.plan_refund`.

    Refuses, writing nothing: an unpaid or cancelled order (409 `order_not_refundable`), more
    than paid minus refunded (409 `refund_exceeds_paid`), more units than are left (409
    `refund_exceeds_quantity`), unknown lines (422 `unknown_order_line`), a refund of nothing
    (409 `nothing_to_refund`). Emits `refund.succeeded` with the per-line parts.
    """
    if len(reason) > 200:
        raise InvalidInput("a refund reason has at most 200 characters", details={"reason": reason})
    try:
        units = rules.merge_units(lines)
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"lines": [list(x) for x in lines]}) from exc
    order = orders.get_order(session, order_id=order_id, for_update=True, details=True)
    return refund_loaded_order(
        session,
        order,
        units=units,
        amount=amount,
        include_shipping=include_shipping,
        reason=reason,
        return_id=return_id,
        gateway=gateway,
    )


def refund_loaded_order(
    session: Session,
    order: Order,
    *,
    units: dict[int, int],
    amount: int | None = None,
    include_shipping: bool = False,
    reason: str = "",
    return_id: int | None = None,
    gateway: SimulatedGateway | None = None,
) -> Refund:
    """`refund_order` of an order this transaction already holds locked with its lines
    (`get_order(for_update=True, details=True)`), `units` merged by `rules.merge_units` and
    `reason` checked: the order is read once, not again here and in `record_refund`."""
    if order.status not in PAID_STATUSES or order.paid_amount <= 0:
        raise OrderNotRefundable(
            f"order {order.number} is {order.status}: nothing was paid to refund",
            details={"order_id": order.id, "status": order.status},
        )
    balances = [
        rules.LineBalance(
            line_id=line.id,
            quantity=line.quantity,
            total=line.total,
            refunded_quantity=line.refunded_quantity,
            refunded_amount=line.refunded_amount,
        )
        for line in order.lines
    ]
    found, shipping_refunded = _payment_and_shipping_refunded(session, order_id=order.id)
    plan = rules.plan_refund(
        balances,
        units=units,
        amount=amount,
        shipping_remaining=order.shipping_fee - shipping_refunded,
        include_shipping=include_shipping,
        refundable=order.paid_amount - order.refunded_amount,
    )
    # Refused plans speak first, as when the payment was looked up after them.
    payment = _require_payment(found, order_id=order.id)
    result = gateway_or_default(gateway).refund(
        gateway_txn_id=payment.gateway_txn_id, amount=plan.total
    )
    at = now(session)
    parts = [
        RefundLine(order_line_id=line_id, quantity=quantity, amount=part)
        for line_id, (quantity, part) in plan.lines.items()
    ]
    if plan.shipping:
        parts.append(RefundLine(order_line_id=None, quantity=0, amount=plan.shipping))
    refund = Refund(
        order_id=order.id,
        payment_id=payment.id,
        amount=plan.total,
        status=RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED,
        kind=RefundKind.ORDER,
        reason=reason.strip(),
        return_id=return_id,
        gateway_refund_id=result.gateway_refund_id,
        created_at=at,
        completed_at=at,
        lines=parts,
    )
    session.add(refund)
    session.flush()
    record_refund_on(session, order, line_refunds=plan.lines, shipping_refund=plan.shipping)
    emit_refund(
        session,
        refund=refund,
        order=order,
        channel=payment.channel,
        sku_by_line={line.id: line.sku_id for line in order.lines},
    )
    return refund


def emit_refund(
    session: Session, *, refund: Refund, order: Order, channel: str, sku_by_line: dict[int, int]
) -> None:
    """Record `refund.succeeded` under the order, with each line's SKU, units and amount."""
    emit(
        session,
        events.REFUND_SUCCEEDED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=order.id,
        payload=events.refund_payload(
            refund,
            order_number=order.number,
            channel=channel,
            sku_by_line=sku_by_line,
        ),
        occurred_at=refund.completed_at,
    )


def refunded_units(
    session: Session, *, order_id: int, outside_returns: bool = False
) -> dict[int, int]:
    """Units refunded per order line; `outside_returns`: only refunds not tied to a return."""
    stmt = (
        select(RefundLine.order_line_id, func.sum(RefundLine.quantity))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(
            Refund.order_id == order_id,
            Refund.status == RefundStatus.SUCCEEDED,
            RefundLine.order_line_id.is_not(None),
        )
        .group_by(RefundLine.order_line_id)
    )
    if outside_returns:
        stmt = stmt.where(Refund.return_id.is_(None))
    return {int(line_id): int(q or 0) for line_id, q in session.execute(stmt) if q}


def list_refunds(session: Session, *, order_id: int) -> list[Refund]:
    """An order's refunds with their lines, oldest first (404 when the order does not exist)."""
    orders.get_order(session, order_id=order_id)
    stmt = (
        select(Refund)
        .where(Refund.order_id == order_id)
        .options(selectinload(Refund.lines))
        .order_by(Refund.id)
    )
    return list(session.scalars(stmt))


# Units refunded per line of many orders, not tied to a return (built once, bound ids).
_UNITS_OUTSIDE_RETURNS = (
    select(RefundLine.order_line_id, func.sum(RefundLine.quantity))
    .join(Refund, Refund.id == RefundLine.refund_id)
    .where(
        Refund.order_id.in_(bindparam("order_ids", expanding=True)),
        Refund.status == RefundStatus.SUCCEEDED,
        RefundLine.order_line_id.is_not(None),
        Refund.return_id.is_(None),
    )
    .group_by(RefundLine.order_line_id)
)


def refunded_units_outside_returns(session: Session, *, order_ids: Sequence[int]) -> dict[int, int]:
    """`refunded_units(outside_returns=True)` of many orders in one query: order line id →
    units refunded without a return (lines of different orders never share an id)."""
    if not order_ids:
        return {}
    rows = session.execute(_UNITS_OUTSIDE_RETURNS, {"order_ids": sorted(set(order_ids))})
    return {int(line_id): int(q or 0) for line_id, q in rows if q}
