"""Order moves in bulk: many orders shipped, delivered or completed in one set of statements.

Each move follows `lifecycle._simple_move` exactly (the same `_target` check, status, stamp and
event at the item's own time), but the batch's orders are read and locked in one query,
written in one multi-row UPDATE and announced with `emit_many`, so the events' subscribers run
once over the batch when they have a set-based twin. Orders are handled as plain values
(`OrderState`), never loaded into the ORM: objects this session loaded before are expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from shopops.db import DriverStatement
from shopops.errors import InvalidInput, ShopOpsError
from shopops.events import emit_many
from shopops.inventory.service.settle_bulk import release_reservations_many
from shopops.orders import events
from shopops.orders.errors import OrderNotFound, OrderTransitionRefused
from shopops.orders.models import Order, OrderLine
from shopops.orders.rules import OrderAction
from shopops.orders.service.checkout import RESERVATION_REF
from shopops.orders.service.lifecycle import MAX_REASON, _target

A = OrderAction
# The simple moves: the stamp each sets and the event each emits (as `_simple_move`).
MOVES: dict[OrderAction, tuple[str, str]] = {
    A.SHIP: ("shipped_at", events.ORDER_SHIPPED),
    A.DELIVER: ("delivered_at", events.ORDER_DELIVERED),
    A.COMPLETE: ("completed_at", events.ORDER_COMPLETED),
}

_T = Order.__table__
_IDS = bindparam("ids", expanding=True)
_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "channel",
    "status",
    "currency",
    "items_subtotal",
    "discount_total",
    "shipping_fee",
    "total",
    "paid_amount",
    "refunded_amount",
    "placed_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "resume_status",
    "shipping_address",
)
# Built once with bound ids: building and keying a statement per batch cost more than its SQL.
_LOCK = (
    select(*(_T.c[name] for name in _COLUMNS))
    .where(_T.c.id.in_(_IDS))
    .order_by(_T.c.id)
    .with_for_update()
)
# The writes run on the DBAPI cursor (compiled once per dialect): one executemany a batch.
_MOVE = DriverStatement(
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        shipped_at=bindparam("b_shipped_at"),
        delivered_at=bindparam("b_delivered_at"),
        completed_at=bindparam("b_completed_at"),
    ),
    rows=False,
)
_CANCEL = DriverStatement(
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        cancel_reason=bindparam("b_reason"),
        cancelled_at=bindparam("b_at"),
    ),
    rows=False,
)
_L = OrderLine.__table__.c
_CANCEL_LINES = (
    select(_L.order_id, _L.sku_id, _L.quantity)
    .where(_L.order_id.in_(_IDS))
    .order_by(_L.order_id, _L.id)
)


@dataclass(slots=True)
class OrderState:
    """What the moves and their event payloads read of an order (an `Order`-like value)."""

    id: int
    number: str
    customer_id: int
    channel: str
    status: str
    currency: str
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    paid_amount: int
    refunded_amount: int
    placed_at: dt.datetime
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    completed_at: dt.datetime | None
    resume_status: str
    shipping_address: dict[str, Any]


class OrderMoves:
    """The orders of one batch, locked and read at once; `move` changes them in memory (in
    item order, so a second move of one order sees the first), `write` stores and announces
    every move."""

    def __init__(self, session: Session, order_ids: Iterable[int]) -> None:
        self.session = session
        ids = sorted(set(order_ids))
        # Pending ORM changes first: the UPDATE below must not be overwritten by a later flush.
        session.flush()
        self.states: dict[int, OrderState] = {}
        if ids:
            # Locked in id order, so two batches cannot deadlock.
            for row in session.execute(_LOCK, {"ids": ids}):
                self.states[row.id] = OrderState(*row)
        self._changed: dict[int, OrderState] = {}
        self._events: dict[str, list[tuple[str, int | str, dict[str, Any], dt.datetime | None]]]
        self._events = {}

    def move(self, order_id: int, action: OrderAction, at: dt.datetime) -> OrderState:
        """Move one order at `at`: 404 `order_not_found`, 409 `illegal_transition`."""
        order = self.states.get(order_id)
        if order is None:
            raise OrderNotFound("no such order", details={"order_id": order_id})
        stamp, name = MOVES[action]
        target = _target(order, action)  # type: ignore[arg-type]  # reads status, number, id
        previous = order.status
        order.status = target.value
        setattr(order, stamp, at)
        self._changed[order.id] = order
        payload = events.status_changed(order, previous=previous)  # type: ignore[arg-type]
        self._events.setdefault(name, []).append((events.AGGREGATE, order.id, payload, at))
        return order

    def write(self) -> None:
        """One UPDATE for every moved order, then the events (one `emit_many` per name)."""
        session = self.session
        if self._changed:
            _MOVE.executemany(
                session.connection(),
                [
                    {
                        "b_id": o.id,
                        "b_status": o.status,
                        "b_shipped_at": o.shipped_at,
                        "b_delivered_at": o.delivered_at,
                        "b_completed_at": o.completed_at,
                    }
                    for o in self._changed.values()
                ],
            )
            expire_loaded(session, Order, self._changed)
        for name, items in self._events.items():
            emit_many(session, name, items)
        self._changed, self._events = {}, {}


def expire_loaded(session: Session, model: type[Any], ids: Iterable[int]) -> None:
    """Expire the objects of `model` this session holds among `ids` (Core wrote their rows)."""
    identity = session.identity_map
    if not identity:
        return  # nothing loaded (the usual case in a bulk unit of work)
    # `identity_key(model, ident)` is this tuple (built directly: ~10x cheaper per id).
    cls = identity_key(model, 0)[0]
    for ident in ids:
        obj = identity.get((cls, (ident,), None))
        if obj is not None:
            session.expire(obj)


def _check_times(items: Sequence[tuple[int, dt.datetime]]) -> None:
    for _, at in items:
        if at.tzinfo is None:
            raise ValueError("a move's time needs a timezone-aware datetime")


def move_orders(
    session: Session, *, action: OrderAction, items: Sequence[tuple[int, dt.datetime]]
) -> list[OrderState | ShopOpsError]:
    """`action` (ship, deliver or complete) on each (order id, at) in order, as the single
    move would at that time; per item, the order after it or the error that refused it."""
    _check_times(items)
    moves = OrderMoves(session, (order_id for order_id, _ in items))
    out: list[OrderState | ShopOpsError] = []
    for order_id, at in items:
        try:
            out.append(moves.move(order_id, action, at))
        except (OrderNotFound, OrderTransitionRefused) as exc:
            out.append(exc)
    moves.write()
    return out


def complete_orders(
    session: Session, *, items: Sequence[tuple[int, dt.datetime]]
) -> list[OrderState | ShopOpsError]:
    """`complete_order` (delivered → completed, 确认收货) of each (order id, at) in order, at
    that time, with `order.completed` and its subscribers (cashback, referral rewards) run
    over the batch; per item, the order or the error that refused it (404 `order_not_found`,
    409 `illegal_transition`; a refused item writes nothing)."""
    return move_orders(session, action=A.COMPLETE, items=items)


def cancel_orders(
    session: Session, *, items: Sequence[tuple[int, dt.datetime]], reason: str
) -> list[OrderState | ShopOpsError]:
    """`cancel_order` (an unpaid order cancelled, its reserved stock back on sale) of each
    (order id, at) in order, at that time and with one `reason`; per item, the order after it
    or the error that refused it (404 `order_not_found`, 409 `illegal_transition`; a refused
    item writes nothing). The orders are read in one query and written in one UPDATE; each
    release and `order.cancelled` subscriber runs at its item's time."""
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise InvalidInput(
            f"a cancel reason has 1 to {MAX_REASON} characters", details={"reason": reason}
        )
    _check_times(items)
    moves = OrderMoves(session, (order_id for order_id, _ in items))
    lines = _cancel_lines(session, list(moves.states))
    out: list[OrderState | ShopOpsError] = []
    done: list[tuple[OrderState, dt.datetime]] = []
    announced: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    for order_id, at in items:
        order = moves.states.get(order_id)
        if order is None:
            out.append(OrderNotFound("no such order", details={"order_id": order_id}))
            continue
        try:
            target = _target(order, A.CANCEL)  # type: ignore[arg-type]  # status, number, id
        except OrderTransitionRefused as exc:
            out.append(exc)
            continue
        previous = order.status
        order.status = target.value
        payload = events.status_changed(order, previous=previous)  # type: ignore[arg-type]
        payload.update(reason=reason, cancelled_at=at.isoformat(), lines=lines.get(order_id, []))
        announced.append((events.AGGREGATE, order.id, payload, at))
        done.append((order, at))
        out.append(order)
    # Each order's stock released at its own moment, as the single call would.
    release_reservations_many(
        session, refs=[(RESERVATION_REF, str(order.id), at) for order, at in done]
    )
    if done:
        rows = [
            {"b_id": o.id, "b_status": o.status, "b_reason": reason, "b_at": at} for o, at in done
        ]
        _CANCEL.executemany(session.connection(), rows)
        expire_loaded(session, Order, [o.id for o, _ in done])
    emit_many(session, events.ORDER_CANCELLED, announced)
    return out


def _cancel_lines(session: Session, order_ids: list[int]) -> dict[int, list[dict[str, int]]]:
    """Order id → its lines as `order.cancelled` lists them (SKU, units), in line order."""
    if not order_ids:
        return {}
    rows = session.execute(_CANCEL_LINES, {"ids": order_ids})
    out: dict[int, list[dict[str, int]]] = {}
    for order_id, sku_id, quantity in rows:
        out.setdefault(order_id, []).append({"sku_id": sku_id, "quantity": quantity})
    return out
