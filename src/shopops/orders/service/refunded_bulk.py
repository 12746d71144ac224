"""Refunds recorded on many locked orders at once: `record_refund_on` of each in turn, at its
own moment, with one flush and one `emit_many` per event name for the batch.

Each item follows `record_refund_on` exactly (the same transition checks, refund parts
checked against what is left, a refund requested first when nobody did, the lines' and the
order's refunded amounts, refunded or partially refunded), but the batch's orders are flushed
once and `order.refund_requested` / `order.refunded` go out in one INSERT each (per order, the
request still comes before its refund) instead of an ORM event and a flush per order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shopops.events import emit_many
from shopops.orders import events
from shopops.orders.models import Order
from shopops.orders.rules import OrderAction, OrderStatus
from shopops.orders.service.lifecycle import _refund_parts, _target

A, S = OrderAction, OrderStatus
Announced = list[tuple[str, int | str, dict[str, Any], dt.datetime | None]]


@dataclass(frozen=True, slots=True)
class RefundOn:
    """`record_refund_on(session, order, line_refunds=…, shipping_refund=…)` at `at`."""

    order: Order
    line_refunds: Mapping[int, tuple[int, int]]
    shipping_refund: int
    at: dt.datetime


def record_refunds_on_many(session: Session, items: Sequence[RefundOn]) -> list[Order]:
    """`record_refund_on` of each item in order, as if the clock were its `at`; the orders are
    held locked with their lines by this transaction. A refusal (409 `illegal_transition`,
    422 `invalid_refund`) raises for the whole batch, as the single call would at that item:
    callers plan first (a bulk refund does), so it is a bug that undoes the unit of work."""
    requested: Announced = []
    refunded: Announced = []
    for item in items:
        order, at = item.order, item.at
        if order.status != S.REFUND_REQUESTED:
            _target(order, A.REQUEST_REFUND)
        parts = _refund_parts(order, item.line_refunds, item.shipping_refund)
        if order.status != S.REFUND_REQUESTED:
            # As `_request_refund`: the status it interrupts is remembered.
            previous = order.status
            order.status = _target(order, A.REQUEST_REFUND).value
            order.resume_status = previous
            payload = events.status_changed(order, previous=previous)
            requested.append((events.AGGREGATE, order.id, payload, at))
        for line, quantity, amount in parts:
            line.refunded_quantity += quantity
            line.refunded_amount += amount
        order.refunded_amount += sum(amount for _, _, amount in parts) + item.shipping_refund
        full = order.refunded_amount == order.paid_amount
        target = _target(order, A.REFUND_FULL if full else A.REFUND_PARTIAL)
        previous = order.status
        order.status = target.value
        payload = events.refunded(
            order, previous=previous, parts=parts, shipping_refund=item.shipping_refund
        )
        refunded.append((events.AGGREGATE, order.id, payload, at))
    session.flush()
    emit_many(session, events.ORDER_REFUND_REQUESTED, requested)
    emit_many(session, events.ORDER_REFUNDED, refunded)
    return [item.order for item in items]
