"""Cashback for many completed orders at once: the set-based twin of `ledger.on_order_completed`.

One query finds which of the batch's orders still have cashback to grant (most have none);
only those go through `grant_cashback` itself, each at its event's time, so the rule, the rows
and `cashback.granted` stay the single path's.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent
from shopops.promotions.models import CashbackCredit, Redemption
from shopops.promotions.service.ledger import ACTIVE, grant_cashback

# The same filter as grant_cashback's, over the batch: orders with a credit still owed (built
# once with bound ids: building and keying it per batch cost more than its SQL).
_OWED = (
    select(Redemption.order_id)
    .outerjoin(CashbackCredit, CashbackCredit.redemption_id == Redemption.id)
    .where(
        Redemption.order_id.in_(bindparam("ids", expanding=True)),
        Redemption.status == ACTIVE,
        Redemption.cashback > 0,
        CashbackCredit.id.is_(None),
    )
    .distinct()
)


def on_orders_completed(session: Session, events: list[OutboxEvent]) -> None:
    """`on_order_completed` of each event, in order, with one read for the whole batch."""
    ids = sorted({int(e.payload["order_id"]) for e in events})
    if not ids:
        return
    owed = set(session.scalars(_OWED, {"ids": ids}))
    if not owed:
        return
    clock = session.info.get("now")
    try:
        for event in events:
            order_id = int(event.payload["order_id"])
            if order_id in owed:
                session.info["now"] = event.occurred_at
                grant_cashback(session, order_id=order_id)
    finally:
        session.info["now"] = clock
