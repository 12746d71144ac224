"""Refunds of units in bulk: `refund_loaded_order` of many locked orders in one set of
statements.

`plan_refunds` checks and plans each refund as `refund_loaded_order` would (the same refusals,
in its order), reading every order's captured payment and shipping already refunded in one
query and writing nothing; `write_refunds` then writes the planned ones: the gateway asked in
item order, every refund and its parts in one flush, each order's refund recorded at the
item's moment (`record_refunds_on_many`, the set-based `record_refund_on`), and
`refund.succeeded` for all of them in one `emit_many` (its subscribers set-based through their
`subscribe_bulk` twins). An order appears at most once in
a batch: a second refund of it is planned on the first one's balances, so it goes in the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.orders.models import Order
from shopops.orders.rules import PAID_STATUSES
from shopops.orders.service.refunded_bulk import RefundOn, record_refunds_on_many
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
from shopops.payments.service.refunds import _require_payment


@dataclass(frozen=True, slots=True)
class RefundItem:
    """`refund_loaded_order(session, order, units=…, reason=…, return_id=…)` at `at`."""

    order: Order
    units: dict[int, int]
    reason: str
    return_id: int | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class PlannedRefund:
    item: RefundItem
    plan: rules.RefundPlan
    payment: Payment


_ORDER_IDS = bindparam("order_ids", expanding=True)
# Shipping already refunded per order (built once, bound ids).
_SHIPPING_REFUNDED = (
    select(Refund.order_id, func.coalesce(func.sum(RefundLine.amount), 0))
    .join(Refund, Refund.id == RefundLine.refund_id)
    .where(
        Refund.order_id.in_(_ORDER_IDS),
        Refund.kind == RefundKind.ORDER,
        Refund.status == RefundStatus.SUCCEEDED,
        RefundLine.order_line_id.is_(None),
    )
    .group_by(Refund.order_id)
)
# Every succeeded attempt of the orders not itself given back, first success first.
_CAPTURED = (
    select(Payment)
    .where(
        Payment.order_id.in_(_ORDER_IDS),
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.id.not_in(
            select(Refund.payment_id).where(
                Refund.order_id.in_(_ORDER_IDS), Refund.kind == RefundKind.REVERSAL
            )
        ),
    )
    .order_by(Payment.order_id, Payment.completed_at, Payment.id)
)


def _payments_and_shipping(
    session: Session, order_ids: list[int]
) -> tuple[dict[int, Payment], dict[int, int]]:
    """Order id → its captured payment, and → shipping already refunded; two queries."""
    if not order_ids:
        return {}, {}
    captured: dict[int, Payment] = {}
    for payment in session.scalars(_CAPTURED, {"order_ids": order_ids}):
        captured.setdefault(payment.order_id, payment)
    shipping = {
        int(order_id): int(total or 0)
        for order_id, total in session.execute(_SHIPPING_REFUNDED, {"order_ids": order_ids})
    }
    return captured, shipping


def plan_refunds(
    session: Session, items: Sequence[RefundItem]
) -> list[PlannedRefund | ShopOpsError]:
    """Per item, its plan and payment, or the error `refund_loaded_order` would refuse it
    with (`nothing_to_refund` included); nothing is written."""
    ids = [item.order.id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("an order is refunded at most once in a batch")
    captured, shipping = _payments_and_shipping(session, sorted(ids))
    out: list[PlannedRefund | ShopOpsError] = []
    for item in items:
        order = item.order
        try:
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
            plan = rules.plan_refund(
                balances,
                units=item.units,
                shipping_remaining=order.shipping_fee - shipping.get(order.id, 0),
                refundable=order.paid_amount - order.refunded_amount,
            )
            payment = _require_payment(captured.get(order.id), order_id=order.id)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        out.append(PlannedRefund(item, plan, payment))
    return out


def write_refunds(
    session: Session, planned: Sequence[PlannedRefund], gateway: SimulatedGateway | None = None
) -> list[Refund]:
    """Write the planned refunds (as `refund_loaded_order` on each in order, at its moment)
    and return them; the caller's clock is left as it was."""
    if not planned:
        return []
    provider = gateway_or_default(gateway)
    refunds: list[Refund] = []
    for p in planned:
        result = provider.refund(gateway_txn_id=p.payment.gateway_txn_id, amount=p.plan.total)
        parts = [
            RefundLine(order_line_id=line_id, quantity=quantity, amount=part)
            for line_id, (quantity, part) in p.plan.lines.items()
        ]
        if p.plan.shipping:
            parts.append(RefundLine(order_line_id=None, quantity=0, amount=p.plan.shipping))
        refund = Refund(
            order_id=p.item.order.id,
            payment_id=p.payment.id,
            amount=p.plan.total,
            status=RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED,
            kind=RefundKind.ORDER,
            reason=p.item.reason.strip(),
            return_id=p.item.return_id,
            gateway_refund_id=result.gateway_refund_id,
            created_at=p.item.at,
            completed_at=p.item.at,
            lines=parts,
        )
        session.add(refund)
        refunds.append(refund)
    session.flush()  # every refund and part in one flush: the events carry their ids
    # Each order's refund recorded at the refund's moment, the batch in one flush.
    record_refunds_on_many(
        session,
        [RefundOn(p.item.order, p.plan.lines, p.plan.shipping, p.item.at) for p in planned],
    )
    announced: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    for p, refund in zip(planned, refunds, strict=True):
        order = p.item.order
        payload = events.refund_payload(
            refund,
            order_number=order.number,
            channel=p.payment.channel,
            sku_by_line={line.id: line.sku_id for line in order.lines},
        )
        announced.append((events.AGGREGATE, order.id, payload, refund.completed_at))
    emit_many(session, events.REFUND_SUCCEEDED, announced)
    return refunds
