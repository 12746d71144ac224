"""Paid orders in bulk, the promotions' part: first-order rewards for a batch of `order.paid`.

The set-based twin of `coupons.on_order_paid`: one look for an active first-order template
serves the whole batch (a shop without one, the usual case, pays one query per batch); with
one, each event's customer is checked and rewarded in order, at the event's moment, through
the same issuing code as the single handler.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent
from shopops.promotions.models import CouponTemplate
from shopops.promotions.service import profile
from shopops.promotions.service.coupons import _issue_on_trigger


def on_orders_paid(session: Session, batch: list[OutboxEvent]) -> None:
    """`coupons.on_order_paid` on each event of `batch` in order.

    The single handler runs before the members' one on each event, so it sees the customer's
    paid orders before this one; here the members' twin has not run yet either, so the count
    is the stored one plus this customer's earlier events in the batch.
    """
    exists = session.scalar(
        select(CouponTemplate.id)
        .where(CouponTemplate.trigger == "first_order", CouponTemplate.active.is_(True))
        .limit(1)
    )
    if exists is None or not batch:
        return
    clock = session.info.get("now")
    earlier: dict[int, int] = {}
    try:
        for event in batch:
            customer_id = int(event.payload["customer_id"])
            before = earlier.get(customer_id, 0)
            earlier[customer_id] = before + 1
            if profile.paid_orders(session, customer_id=customer_id) + before > 1:
                continue
            session.info["now"] = event.occurred_at
            _issue_on_trigger(session, trigger="first_order", customer_id=customer_id)
    finally:
        session.info["now"] = clock
