"""Orders paid in bulk: `mark_paid` for many orders, and the read a bulk payment starts from.

`lock_orders_to_pay` locks and reads a batch's orders in one statement; `mark_orders_paid`
moves each to paid exactly as `mark_paid` does (the same state machine and amount checks, the
stock committed, `order.paid` with the lines), at each order's own moment, with one read of
the lines (and of the orders, unless the caller's locked read is handed over), one
`executemany` of the orders and one outbox INSERT for the batch.
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

from shopops.db import DriverStatement
from shopops.events import emit_many
from shopops.inventory.service.settle_bulk import commit_reservations_many
from shopops.orders import events
from shopops.orders.errors import AmountMismatch, OrderNotFound
from shopops.orders.models import Order, OrderLine
from shopops.orders.service.checkout import RESERVATION_REF
from shopops.orders.service.lifecycle import A, _target

_ORDER = Order.__table__
_LINE = OrderLine.__table__

# On the DBAPI cursor (compiled once per dialect): one executemany a batch.
_PAY = DriverStatement(
    update(_ORDER)
    .where(_ORDER.c.id == bindparam("oid"))
    .values(
        status=bindparam("v_status"), paid_amount=bindparam("v_paid"), paid_at=bindparam("v_at")
    ),
    rows=False,
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
class OrderToPay:
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
    expires_at: dt.datetime
    lines: list[Any] = field(default_factory=list)


_COLUMNS = [f.name for f in fields(OrderToPay) if f.name != "lines"]
_IDS = bindparam("ids", expanding=True)
# Built once with bound ids: building and keying a statement per batch cost more than its SQL.
_ORDERS = (
    select(*(_ORDER.c[name] for name in _COLUMNS))
    .where(_ORDER.c.id.in_(_IDS))
    .order_by(_ORDER.c.id)
    .with_for_update()
)
# What `events.paid` lists of a line (no title or attributes JSON to decode).
_LINE_COLUMNS = (
    "id", "order_id", "sku_id", "product_id", "sku_code", "quantity", "unit_price", "unit_cost",
    "subtotal", "discount", "total",
)  # fmt: skip
_LINES = (
    select(*(_LINE.c[name] for name in _LINE_COLUMNS))
    .where(_LINE.c.order_id.in_(_IDS))
    .order_by(_LINE.c.id)
)


def lock_orders_to_pay(session: Session, *, order_ids: Sequence[int]) -> dict[int, OrderToPay]:
    """The orders of `order_ids` (unknown ids are left out), locked for the transaction in id
    order (two batches cannot deadlock) and read fresh, without their lines."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    session.flush()
    return {r[0]: OrderToPay(*r) for r in session.execute(_ORDERS, {"ids": ids})}


def payable_orders(session: Session, *, order_ids: Sequence[int]) -> dict[int, PayableOrder]:
    """What a payment attempt reads of the orders of `order_ids` (`lock_orders_to_pay`)."""
    return {
        o.id: PayableOrder(o.id, o.number, o.status, o.total, o.expires_at)
        for o in lock_orders_to_pay(session, order_ids=order_ids).values()
    }


def mark_orders_paid(
    session: Session,
    *,
    payments: Sequence[tuple[int, int, dt.datetime]],
    locked: dict[int, OrderToPay] | None = None,
) -> None:
    """`mark_paid` for each `(order_id, amount, at)` in order, as if the clock were `at`.

    The same refusals as `mark_paid` (404, 409 `illegal_transition`, 409 `amount_mismatch`)
    are raised for the whole batch: callers check first (a bulk payment does), so a refusal
    here is a bug that undoes the unit of work. An order named twice is refused the second
    time, as a second `mark_paid` would be. `locked` may hold the orders as this transaction
    read them with `lock_orders_to_pay` and has not changed since (then they are not re-read;
    they are changed in place)."""
    if not payments:
        return
    session.flush()
    ids = sorted({order_id for order_id, _, _ in payments})
    found = locked if locked is not None else lock_orders_to_pay(session, order_ids=ids)
    for line in session.execute(_LINES, {"ids": ids}):
        order = found.get(line.order_id)
        if order is not None:
            order.lines.append(line)
    paid: list[OrderToPay] = []
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
    _PAY.executemany(
        session.connection(),
        [
            {"oid": o.id, "v_status": o.status, "v_paid": o.paid_amount, "v_at": o.paid_at}
            for o in paid
        ],
    )
    held = session.identity_map
    if held:
        cls = identity_key(Order, 0)[0]  # the key is this tuple (built directly: ~10x cheaper)
        for o in paid:
            obj = held.get((cls, (o.id,), None))
            if obj is not None:
                set_committed_value(obj, "status", o.status)
                set_committed_value(obj, "paid_amount", o.paid_amount)
                set_committed_value(obj, "paid_at", o.paid_at)
    commit_reservations_many(session, refs=[(RESERVATION_REF, str(o.id), o.paid_at) for o in paid])
    emit_many(
        session,
        events.ORDER_PAID,
        [(events.AGGREGATE, o.id, events.paid(o), o.paid_at) for o in paid],  # type: ignore[arg-type]
    )
