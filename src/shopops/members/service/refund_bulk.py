"""The points reversal of many refunds at once: the `subscribe_bulk` twin of the members
`refund.succeeded` handler.

Each event gets what `points.reverse_for_refund` posts at its own moment, with the order's
refunded total as it stood right after that refund. The orders' ledger sums come in one query
and the customers' balances in one (locked), kept in memory as entries are worked out, so a
customer or order met twice sees the earlier entries as the one-by-one handler would.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent, emit_many
from shopops.members import events as member_events
from shopops.members import rules
from shopops.members.errors import CustomerNotFound
from shopops.members.models import Customer, PointsEntry, PointsKind
from shopops.members.service.points import _sync, entry_expiry

_SUMS = (
    select(
        PointsEntry.order_id,
        PointsEntry.kind,
        func.sum(PointsEntry.amount),
        func.sum(PointsEntry.growth),
    )
    .where(PointsEntry.order_id.in_(bindparam("order_ids", expanding=True)))
    .group_by(PointsEntry.order_id, PointsEntry.kind)
)
# The customers' balances, locked as the one-by-one UPDATEs would lock them (bound ids).
_BALANCES = (
    select(Customer.id, Customer.points_balance, Customer.growth_value)
    .where(Customer.id.in_(bindparam("customer_ids", expanding=True)))
    .order_by(Customer.id)
    .with_for_update()
)
_WRITE = (
    update(Customer.__table__)
    .where(Customer.__table__.c.id == bindparam("cid"))
    .values(points_balance=bindparam("balance"), growth_value=bindparam("growth"))
)
_ENTRIES = PointsEntry.__table__
_INSERT = insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True)


def on_refunds_succeeded(session: Session, events: list[OutboxEvent]) -> None:
    """`members.handlers.on_refund_succeeded` on each event in order, set-based: every
    entry worked out in memory, then the customers in one executemany, the entries in one
    INSERT and `points.reversed` in one `emit_many`, each at its refund's moment."""
    from shopops.orders import service as orders
    from shopops.orders.models import Order

    mine = [e for e in events if e.payload.get("kind") == "order"]
    if not mine:
        return
    loaded: dict[int, Order] = {}
    for e in mine:
        order_id = int(e.payload["order_id"])
        if order_id not in loaded:
            loaded[order_id] = session.get(Order, order_id) or orders.get_order(
                session, order_id=order_id
            )
    sums: dict[int, dict[str, list[int]]] = {order_id: {} for order_id in loaded}
    for order_id, kind, amount, growth in session.execute(_SUMS, {"order_ids": sorted(loaded)}):
        sums[int(order_id)][str(kind)] = [int(amount or 0), int(growth or 0)]
    customer_ids = sorted({o.customer_id for o in loaded.values()})
    state = {
        int(cid): [int(balance), int(growth)]
        for cid, balance, growth in session.execute(_BALANCES, {"customer_ids": customer_ids})
    }
    # The order's refunded total right after each refund: later ones of the batch taken off.
    later: dict[int, int] = {}
    refunded_then: list[int] = []
    for e in reversed(mine):
        order = loaded[int(e.payload["order_id"])]
        refunded_then.append(order.refunded_amount - later.get(order.id, 0))
        later[order.id] = later.get(order.id, 0) + int(e.payload["amount"])
    refunded_then.reverse()
    entries: list[dict[str, Any]] = []
    for e, refunded in zip(mine, refunded_then, strict=True):
        order = loaded[int(e.payload["order_id"])]
        entries.extend(
            _reverse(order, int(e.payload["refund_id"]), refunded, e.occurred_at, sums, state)
        )
    if not entries:
        return
    touched = {e["customer_id"] for e in entries}
    session.execute(
        _WRITE,
        [{"cid": c, "balance": state[c][0], "growth": state[c][1]} for c in sorted(touched)],
        execution_options={"synchronize_session": False},
    )
    for c in touched:
        _sync(session, c, state[c][0], state[c][1])
    ids = [row[0] for row in session.execute(_INSERT, entries)]
    announced = [
        (
            member_events.AGGREGATE,
            entry["customer_id"],
            member_events.points_entry(SimpleNamespace(id=entry_id, **entry)),
            entry["created_at"],
        )
        for entry, entry_id in zip(entries, ids, strict=True)
    ]
    emit_many(session, member_events.points_event_name(PointsKind.REVERSE, -1), announced)


def _reverse(
    order: Any,
    refund_id: int,
    refunded: int,
    at: dt.datetime,
    sums: dict[int, dict[str, list[int]]],
    state: dict[int, list[int]],
) -> list[dict[str, Any]]:
    """`reverse_for_refund`'s entries at `at`, with the ledger sums and the customer's
    balance and growth in memory (both moved by what it posts)."""
    order_id: int = order.id
    customer_id: int = order.customer_id
    paid: int = order.paid_amount
    own = sums[order_id]
    earned, earned_growth = own.get(PointsKind.EARN, [0, 0])
    reversed_, reversed_growth = (-x for x in own.get(PointsKind.REVERSE, [0, 0]))
    redeemed = -own.get(PointsKind.REDEEM, [0, 0])[0]
    returned = own.get(PointsKind.RETURN, [0, 0])[0]
    give_back = rules.proportional(redeemed, refunded, paid) - returned
    take = rules.proportional(earned, refunded, paid) - reversed_
    growth = rules.proportional(earned_growth, refunded, paid) - reversed_growth
    out: list[dict[str, Any]] = []
    if (give_back > 0 or take > 0 or growth > 0) and customer_id not in state:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    reason = f"order {order_id} refunded"
    if give_back > 0:
        out.append(
            _entry(
                customer_id, PointsKind.RETURN, give_back, 0, refund_id, reason, order_id, at, state
            )
        )
        _count(own, PointsKind.RETURN, give_back, 0)
    if take > 0 or growth > 0:
        took = min(max(take, 0), state[customer_id][0])
        why = reason + ("" if took == take else f" ({take - took} already spent)")
        out.append(
            _entry(
                customer_id,
                PointsKind.REVERSE,
                -took,
                -max(growth, 0),
                refund_id,
                why,
                order_id,
                at,
                state,
            )
        )
        _count(own, PointsKind.REVERSE, -took, -max(growth, 0))
    return out


def _entry(
    customer_id: int,
    kind: str,
    amount: int,
    growth: int,
    refund_id: int,
    reason: str,
    order_id: int,
    at: dt.datetime,
    state: dict[int, list[int]],
) -> dict[str, Any]:
    """One ledger row as `post_entry` writes it, the customer's balance moved in memory."""
    c = state[customer_id]
    c[0] += amount
    c[1] += growth
    return {
        "customer_id": customer_id,
        "kind": str(kind),
        "amount": amount,
        "growth": growth,
        "balance_after": c[0],
        "ref": f"refund:{refund_id}",
        "reason": reason[:200],
        "order_id": order_id,
        "expires_at": entry_expiry(amount, at, None, None),
        "created_at": at,
    }


def _count(own: dict[str, list[int]], kind: str, amount: int, growth: int) -> None:
    total = own.setdefault(str(kind), [0, 0])
    total[0] += amount
    total[1] += growth
