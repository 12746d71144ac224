"""Paid orders in bulk, the promotions' part: first-order rewards for a batch of `order.paid`.

The set-based twin of `coupons.on_order_paid`: one look for an active first-order template
serves the whole batch (a shop without one, the usual case, pays one query per batch); with
one, the batch's paid-order counts are read in one statement and the customers whose count
lets them in are rewarded in order, each at its event's moment (`issue_on_trigger_many`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent
from shopops.members.errors import CustomerNotFound
from shopops.members.service.membership import paid_order_counts
from shopops.promotions.models import CouponTemplate
from shopops.promotions.service.coupons import issue_on_trigger_many


def on_orders_paid(session: Session, batch: list[OutboxEvent]) -> None:
    """`coupons.on_order_paid` on each event of `batch` in order.

    The single handler runs before the members' one on each event, so it sees the customer's
    paid orders before this one; here the members' twin has not run yet either, so the count
    is the stored one plus this customer's earlier events in the batch. An unknown customer
    is 404 `customer_not_found`, as the profile read of the single handler.
    """
    exists = session.scalar(
        select(CouponTemplate.id)
        .where(CouponTemplate.trigger == "first_order", CouponTemplate.active.is_(True))
        .limit(1)
    )
    if exists is None or not batch:
        return
    customer_ids = [int(e.payload["customer_id"]) for e in batch]
    paid = paid_order_counts(session, customer_ids=customer_ids)
    grants: list[tuple[int, dt.datetime]] = []
    for customer_id, event in zip(customer_ids, batch, strict=True):
        if customer_id not in paid:
            raise CustomerNotFound(
                f"no customer {customer_id}", details={"customer_id": customer_id}
            )
        before = paid[customer_id]
        paid[customer_id] = before + 1
        if before <= 1:
            grants.append((customer_id, event.occurred_at))
    issue_on_trigger_many(session, trigger="first_order", grants=grants)
