"""Paid orders in bulk: `record_order_paid` for many orders in a few statements.

The members' part of `order.paid` — counters, growth value, points earned at the tier's
multiplier, the order's redemption announced, the tier raised — for a batch of orders, each at
its own moment, as `record_order_paid` run on each in order would leave it: one read of the
batch's ledger entries and customers (locked), the movements worked out in Python with the
same rules, then one UPDATE per customer, one INSERT of entries and one INSERT per event name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shopops.config import get_settings
from shopops.db import DriverInsertMany
from shopops.events import OutboxEvent, emit_many
from shopops.members import events, rules
from shopops.members.errors import CustomerNotFound
from shopops.members.models import Customer, PointsEntry, PointsKind
from shopops.members.service.membership import (
    list_tiers,
    order_paid_args,
    paid_award,
    tier_move,
)
from shopops.members.service.points import entry_expiry

_CUSTOMER = Customer.__table__
_ENTRY = PointsEntry.__table__
_COUNTERS = ("paid_orders", "total_paid", "points_balance", "growth_value", "tier_code")

# One multi-row INSERT on the driver; an order earns once, so RETURNING is matched by order.
_INSERT = DriverInsertMany(
    _ENTRY,
    ["customer_id", "kind", "amount", "growth", "balance_after", "ref", "reason", "order_id",
     "expires_at", "created_at"],
    ["id", "order_id"],
)  # fmt: skip
CHUNK = 500  # rows per INSERT: well inside every driver's parameter limit
# Built once with bound ids: building and keying a statement per batch cost more than its SQL.
_ENTRIES = (
    select(_ENTRY)
    .where(_ENTRY.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ENTRY.c.id)
)
_LOCK_CUSTOMERS = (
    select(_CUSTOMER.c.id, *(_CUSTOMER.c[name] for name in _COUNTERS))
    .where(_CUSTOMER.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_CUSTOMER.c.id)
    .with_for_update()
)
_WRITE_CUSTOMER = (
    update(_CUSTOMER)
    .where(_CUSTOMER.c.id == bindparam("cid"))
    .values({name: bindparam(f"v_{name}") for name in _COUNTERS})
)


@dataclass(frozen=True, slots=True)
class PaidOrder:
    """One paid order as `record_order_paid` takes it, with the moment it was paid."""

    order_id: int
    customer_id: int
    paid_amount: int
    items_paid: int
    at: dt.datetime


def on_orders_paid(session: Session, batch: list[OutboxEvent]) -> None:
    """The set-based twin of `members.handlers.on_order_paid` (`subscribe_bulk`)."""
    record_orders_paid(
        session,
        orders=[PaidOrder(**order_paid_args(e.payload), at=e.occurred_at) for e in batch],
    )


def record_orders_paid(session: Session, *, orders: Sequence[PaidOrder]) -> None:
    """`record_order_paid` for each of `orders` in order, each at its own `at` (once per order:
    an order that already earned is left alone). An unknown customer is 404
    `customer_not_found` for the whole batch, as the single call raises it."""
    if not orders:
        return
    session.flush()  # pending ORM changes first: the reads below see them
    s = get_settings()
    order_ids = sorted({o.order_id for o in orders})
    earned_orders: set[int] = set()
    redeemed: dict[int, list[Any]] = {}
    for row in session.execute(_ENTRIES, {"ids": order_ids}):
        if row.kind == PointsKind.EARN:
            earned_orders.add(row.order_id)
        elif row.kind == PointsKind.REDEEM:
            redeemed.setdefault(row.order_id, []).append(row)
    customer_ids = sorted({o.customer_id for o in orders if o.order_id not in earned_orders})
    # Locked in id order, so two batches touching the same customers cannot deadlock.
    state = {
        row.id: dict(zip(_COUNTERS, row[1:], strict=True))
        for row in session.execute(_LOCK_CUSTOMERS, {"ids": customer_ids})
    }
    tiers = list_tiers(session)
    entries: list[dict[str, Any]] = []
    announced: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    moves: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    for o in orders:
        if o.order_id in earned_orders:
            continue  # a replayed event
        c = state.get(o.customer_id)
        if c is None:
            raise CustomerNotFound(
                f"no customer {o.customer_id}", details={"customer_id": o.customer_id}
            )
        earned_orders.add(o.order_id)
        earned, growth = paid_award(c["tier_code"], o.items_paid, tiers=tiers, settings=s)
        c["paid_orders"] += 1
        c["total_paid"] += o.paid_amount
        for r in redeemed.get(o.order_id, ()):
            announced.append((events.AGGREGATE, r.customer_id, events.points_entry(r), o.at))
        c["points_balance"] += earned
        c["growth_value"] += growth
        entries.append(
            {
                "customer_id": o.customer_id,
                "kind": PointsKind.EARN.value,
                "amount": earned,
                "growth": growth,
                "balance_after": c["points_balance"],
                "ref": f"order:{o.order_id}",
                "reason": f"order {o.order_id} paid"[:200],
                "order_id": o.order_id,
                "expires_at": entry_expiry(earned, o.at, None, s),
                "created_at": o.at,
            }
        )
        old = c["tier_code"] or ""
        target = rules.evaluate_tier(old, c["growth_value"], tiers, downgrade=False)
        if target != old:
            c["tier_code"] = target
            payload = tier_move(
                o.customer_id, old, target, c["growth_value"], tiers=tiers, cause="order_paid"
            )
            moves.append((events.AGGREGATE, o.customer_id, payload, o.at))
    if not entries:
        return
    _write_customers(session, state)
    conn = session.connection()
    ids: dict[int, int] = {}
    for k in range(0, len(entries), CHUNK):
        ids.update(
            (order_id, eid) for eid, order_id in _INSERT.execute(conn, entries[k : k + CHUNK])
        )
    emit_many(session, events.POINTS_REDEEMED, announced)
    earned = [
        (
            events.AGGREGATE,
            e["customer_id"],
            events.points_entry(SimpleNamespace(id=ids[e["order_id"]], **e)),
            e["created_at"],
        )
        for e in entries
    ]
    emit_many(session, events.points_event_name(PointsKind.EARN, 1), earned)
    emit_many(session, events.TIER_CHANGED, moves)


def _write_customers(session: Session, state: dict[int, dict[str, Any]]) -> None:
    """Each customer's counters as worked out, in one executemany; a customer the session
    holds shows them too (no SQL)."""
    session.execute(
        _WRITE_CUSTOMER,
        [{"cid": cid, **{f"v_{k}": v for k, v in c.items()}} for cid, c in state.items()],
        execution_options={"synchronize_session": False},
    )
    for cid, c in state.items():
        held = session.identity_map.get(identity_key(Customer, cid))
        if held is not None:
            for name, value in c.items():
                set_committed_value(held, name, value)
