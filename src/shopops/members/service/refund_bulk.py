"""The points reversal of many refunds at once: the `subscribe_bulk` twin of the members
`refund.succeeded` handler.

Each event gets `points.reverse_for_refund` at its own moment, with the order's refunded total
as it stood right after that refund. The orders' ledger sums come in one query and the
customers' balances in one, kept up to date in memory as entries are posted, so a customer or
order met twice sees the earlier entries as the one-by-one handler would.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.events import OutboxEvent
from shopops.members import rules
from shopops.members.errors import CustomerNotFound
from shopops.members.models import Customer, PointsEntry, PointsKind
from shopops.members.service.points import post_entry

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
_BALANCES = select(Customer.id, Customer.points_balance).where(
    Customer.id.in_(bindparam("customer_ids", expanding=True))
)


def on_refunds_succeeded(session: Session, events: list[OutboxEvent]) -> None:
    """`members.handlers.on_refund_succeeded` on each event in order, set-based."""
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
    rows = session.execute(_BALANCES, {"customer_ids": customer_ids})
    balances = {int(customer_id): int(points) for customer_id, points in rows}
    # The order's refunded total right after each refund: later ones of the batch taken off.
    later: dict[int, int] = {}
    refunded_then: list[int] = []
    for e in reversed(mine):
        order = loaded[int(e.payload["order_id"])]
        refunded_then.append(order.refunded_amount - later.get(order.id, 0))
        later[order.id] = later.get(order.id, 0) + int(e.payload["amount"])
    refunded_then.reverse()
    prior = session.info.get("now")
    try:
        for e, refunded in zip(mine, refunded_then, strict=True):
            set_clock(session, e.occurred_at)  # as the handler would run at the emission
            order = loaded[int(e.payload["order_id"])]
            _reverse(session, order, int(e.payload["refund_id"]), refunded, sums, balances)
    finally:
        session.info["now"] = prior


def _reverse(
    session: Session,
    order: object,
    refund_id: int,
    refunded: int,
    sums: dict[int, dict[str, list[int]]],
    balances: dict[int, int],
) -> None:
    """`reverse_for_refund` with the ledger sums and balances in memory."""
    order_id: int = order.id  # type: ignore[attr-defined]
    customer_id: int = order.customer_id  # type: ignore[attr-defined]
    paid: int = order.paid_amount  # type: ignore[attr-defined]
    own = sums[order_id]
    earned, earned_growth = own.get(PointsKind.EARN, [0, 0])
    reversed_, reversed_growth = (-x for x in own.get(PointsKind.REVERSE, [0, 0]))
    redeemed = -own.get(PointsKind.REDEEM, [0, 0])[0]
    returned = own.get(PointsKind.RETURN, [0, 0])[0]
    give_back = rules.proportional(redeemed, refunded, paid) - returned
    take = rules.proportional(earned, refunded, paid) - reversed_
    growth = rules.proportional(earned_growth, refunded, paid) - reversed_growth
    if give_back > 0:
        entry = post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.RETURN,
            amount=give_back,
            ref=f"refund:{refund_id}",
            reason=f"order {order_id} refunded",
            order_id=order_id,
        )
        _count(own, PointsKind.RETURN, give_back, 0)
        balances[customer_id] = entry.balance_after
    if take > 0 or growth > 0:
        if customer_id not in balances:
            raise CustomerNotFound(
                f"no customer {customer_id}", details={"customer_id": customer_id}
            )
        took = min(max(take, 0), balances[customer_id])
        entry = post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.REVERSE,
            amount=-took,
            ref=f"refund:{refund_id}",
            reason=f"order {order_id} refunded"
            + ("" if took == take else f" ({take - took} already spent)"),
            order_id=order_id,
            growth=-max(growth, 0),
        )
        _count(own, PointsKind.REVERSE, -took, -max(growth, 0))
        balances[customer_id] = entry.balance_after


def _count(own: dict[str, list[int]], kind: str, amount: int, growth: int) -> None:
    total = own.setdefault(str(kind), [0, 0])
    total[0] += amount
    total[1] += growth
