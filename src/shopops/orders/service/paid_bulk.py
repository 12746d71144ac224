"""Orders paid in bulk: `mark_paid` for many orders, and the read a bulk payment starts from.

`payable_orders` locks and reads a batch's orders in one statement; `mark_orders_paid` moves
each to paid exactly as `mark_paid` does (the same state machine and amount checks, the stock
committed, `order.paid` with the lines), at each order's own moment, with one read of the
orders and their lines, one UPDATE and one outbox INSERT for the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shopops.events import emit_many
from shopops.inventory.service.settle_bulk import commit_reservations_many
from shopops.orders import events
from shopops.orders.errors import AmountMismatch, OrderNotFound
from shopops.orders.models import Order, OrderLine
from shopops.orders.service.checkout import RESERVATION_REF
from shopops.orders.service.lifecycle import A, _target

_ORDER = Order.__table__
_LINE = OrderLine.__table__

_PAY = (
    update(_ORDER)
    .where(_ORDER.c.id == bindparam("oid"))
    .values(
        status=bindparam("v_status"), paid_amount=bindparam("v_paid"), paid_at=bindparam("v_at")
    )
)


@dataclass(frozen=True, slots=True)
class PayableOrder:
    """What a payment attempt needs to know of its order."""

    id: int
    number: str
    status: str
    total: int
    expires_at: dt.datetime


@dataclass(slots=True)
class _OrderRow:
    """An order as read by Core, with the attributes `events.paid` and `_target` read."""

    id: int
    number: str
    customer_id: int
    channel: str
    status: str
    resume_status: str
    currency: str
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    paid_amount: int
    refunded_amount: int
    placed_at: dt.datetime
    paid_at: dt.datetime | None
    shipping_address: dict[str, Any]
    lines: list[Any] = field(default_factory=list)


_COLUMNS = [f.name for f in fields(_OrderRow) if f.name != "lines"]
_IDS = bindparam("ids", expanding=True)
# Built once with bound ids: building and keying a statement per batch cost more than its SQL.
_PAYABLE = (
    select(_ORDER.c.id, _ORDER.c.number, _ORDER.c.status, _ORDER.c.total, _ORDER.c.expires_at)
    .where(_ORDER.c.id.in_(_IDS))
    .order_by(_ORDER.c.id)
    .with_for_update()
)
_ORDERS = (
    select(*(_ORDER.c[name] for name in _COLUMNS))
    .where(_ORDER.c.id.in_(_IDS))
    .order_by(_ORDER.c.id)
    .with_for_update()
)
_LINES = select(_LINE).where(_LINE.c.order_id.in_(_IDS)).order_by(_LINE.c.id)


def payable_orders(session: Session, *, order_ids: Sequence[int]) -> dict[int, PayableOrder]:
    """The orders of `order_ids` (unknown ids are left out), locked for the transaction in id
    order (two batches cannot deadlock) and read fresh."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    session.flush()
    rows = session.execute(_PAYABLE, {"ids": ids})
    return {r.id: PayableOrder(*r) for r in rows}


def mark_orders_paid(session: Session, *, payments: Sequence[tuple[int, int, dt.datetime]]) -> None:
    """`mark_paid` for each `(order_id, amount, at)` in order, as if the clock were `at`.

    The same refusals as `mark_paid` (404, 409 `illegal_transition`, 409 `amount_mismatch`)
    are raised for the whole batch: callers check first (a bulk payment does), so a refusal
    here is a bug that undoes the unit of work. An order named twice is refused the second
    time, as a second `mark_paid` would be."""
    if not payments:
        return
    session.flush()
    ids = sorted({order_id for order_id, _, _ in payments})
    found = {r.id: _OrderRow(**r._asdict()) for r in session.execute(_ORDERS, {"ids": ids})}
    for line in session.execute(_LINES, {"ids": ids}):
        found[line.order_id].lines.append(line)
    paid: list[_OrderRow] = []
    for order_id, amount, at in payments:
        order = found.get(order_id)
        if order is None:
            raise OrderNotFound("no such order", details={"order_id": order_id})
        target = _target(order, A.PAY)  # type: ignore[arg-type]
        if amount != order.total:
            raise AmountMismatch(
                f"order {order.number} costs {order.total}, the payment was {amount}",
                details={"order_id": order.id, "expected": order.total, "amount": amount},
            )
        order.status, order.paid_amount, order.paid_at = target.value, amount, at
        paid.append(order)
    session.execute(
        _PAY,
        [
            {"oid": o.id, "v_status": o.status, "v_paid": o.paid_amount, "v_at": o.paid_at}
            for o in paid
        ],
        execution_options={"synchronize_session": False},
    )
    for o in paid:
        held = session.identity_map.get(identity_key(Order, o.id))
        if held is not None:
            set_committed_value(held, "status", o.status)
            set_committed_value(held, "paid_amount", o.paid_amount)
            set_committed_value(held, "paid_at", o.paid_at)
    commit_reservations_many(session, refs=[(RESERVATION_REF, str(o.id), o.paid_at) for o in paid])
    emit_many(
        session,
        events.ORDER_PAID,
        [(events.AGGREGATE, o.id, events.paid(o), o.paid_at) for o in paid],  # type: ignore[arg-type]
    )
