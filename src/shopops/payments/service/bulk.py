"""Paying in bulk: many shoppers' attempts carried out in one call (the simulator's hot path).

`pay_orders` does for each attempt what `pay_order` does — the same checks, the gateway's
charge and signed callback, the attempt recorded succeeded or failed, and on success the order
paid with every `order.paid` subscriber's effect — at the attempt's own moment, but with one
read of the batch's orders, one INSERT of attempts, one outbox INSERT per event name and the
orders' and subscribers' set-based twins (`orders.mark_orders_paid`, `emit_many`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from shopops.db import DriverInsertMany
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.orders.errors import OrderNotFound
from shopops.orders.rules import OrderStatus
from shopops.orders.service import paid_bulk as orders
from shopops.payments import events, rules
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.models import Payment, PaymentStatus
from shopops.payments.service.charges import check_payable, failure_code_of, read_callback
from shopops.payments.service.common import gateway_or_default, parse_channel

_PAYMENT_MANAGER = inspect(Payment).class_manager
_COLUMNS = [
    "order_id", "channel", "amount", "status", "gateway_txn_id", "failure_code", "created_at",
    "completed_at",
]  # fmt: skip
# One multi-row INSERT on the driver; RETURNING rows are matched by the transaction id.
_INSERT = DriverInsertMany(Payment.__table__, _COLUMNS, ["id", "gateway_txn_id"])
CHUNK = 500  # rows per INSERT: well inside every driver's parameter limit


@dataclass(frozen=True, slots=True)
class PayAttempt:
    """A shopper paying `order_id` on `channel` at `at` (timezone-aware)."""

    order_id: int
    channel: str
    at: dt.datetime


def pay_orders(
    session: Session,
    *,
    attempts: Sequence[PayAttempt],
    gateway: SimulatedGateway | None = None,
) -> list[Payment | ShopOpsError]:
    """`pay_order` for each attempt in the given order, as if the clock were its `at`.

    Per attempt, its payment (succeeded or failed: a failure is an outcome) or the error that
    refused it and wrote nothing (unknown_channel, order_not_found, order_not_payable — also
    for an order an earlier attempt of the batch has paid). The gateway is asked in the same
    order as the single calls would ask it, so a seeded gateway gives the same outcomes. The
    session's clock is left as it was (it is never read). An error past the checks (a
    subscriber's) propagates with the batch's writes made: run the call in a savepoint.
    """
    for attempt in attempts:
        if attempt.at.tzinfo is None:
            raise ValueError("an attempt's time needs a timezone-aware datetime")
    if not attempts:
        return []
    gw = gateway_or_default(gateway)
    # One locked read of the orders serves the checks here and `mark_orders_paid` below.
    locked = orders.lock_orders_to_pay(session, order_ids=[a.order_id for a in attempts])
    found = {
        o.id: orders.PayableOrder(o.id, o.number, o.status, o.total, o.expires_at)
        for o in locked.values()
    }
    out: list[Payment | ShopOpsError | None] = []
    rows: list[dict[str, Any]] = []
    for attempt in attempts:
        try:
            chan = parse_channel(attempt.channel)
            order = found.get(attempt.order_id)
            if order is None:
                raise OrderNotFound("no such order", details={"order_id": attempt.order_id})
            check_payable(order, attempt.at)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        txn = gw.new_txn_id(chan.value)
        charged = gw.charge(channel=chan.value, amount=order.total, gateway_txn_id=txn)
        fields = gw.callback_payload(charged)
        outcome = read_callback(fields, str(fields[rules.SIGNATURE_FIELD]), gw.secret)
        if outcome.succeeded:
            # The next attempt on this order finds it paid, as the single call would.
            found[order.id] = replace(order, status=OrderStatus.PAID.value)
        rows.append(
            {
                "order_id": order.id,
                "channel": chan.value,
                "amount": order.total,
                "status": (
                    PaymentStatus.SUCCEEDED if outcome.succeeded else PaymentStatus.FAILED
                ).value,
                "gateway_txn_id": txn,
                "failure_code": "" if outcome.succeeded else failure_code_of(outcome.failure_code),
                "created_at": attempt.at,
                "completed_at": attempt.at,
            }
        )
        out.append(None)
    payments = _insert(session, rows)
    succeeded, failed = [], []
    won = PaymentStatus.SUCCEEDED.value
    for payment in payments:
        number = found[payment.order_id].number
        item = (
            events.AGGREGATE,
            payment.order_id,
            events.payment_payload(payment, order_number=number, reversed_=False),
            payment.completed_at,
        )
        (succeeded if payment.status == won else failed).append(item)
    emit_many(session, events.PAYMENT_FAILED, failed)
    emit_many(session, events.PAYMENT_SUCCEEDED, succeeded)
    orders.mark_orders_paid(
        session,
        payments=[(p.order_id, p.amount, p.completed_at) for p in payments if p.status == won],
        locked=locked,
    )
    # Attached last: an empty identity map spares the set-based writes above their syncing.
    for payment in payments:
        make_transient_to_detached(payment)
        session.add(payment)
    made = iter(payments)
    return [next(made) if r is None else r for r in out]


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[Payment]:
    """The attempts in one INSERT, as `Payment`s holding every column (no SELECT); the
    caller makes them persistent objects of the session."""
    if not rows:
        return []
    conn = session.connection()
    ids: dict[str, int] = {}
    for k in range(0, len(rows), CHUNK):
        ids.update((txn, pid) for pid, txn in _INSERT.execute(conn, rows[k : k + CHUNK]))
    made = []
    for values in rows:
        payment: Payment = _PAYMENT_MANAGER.new_instance()
        payment.__dict__.update(values, id=ids[values["gateway_txn_id"]])
        made.append(payment)
    return made
