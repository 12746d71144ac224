"""Referral rewards for many completed orders at once: the set-based twin of the members'
`order.completed` subscriber.

One query finds which of the batch's customers were referred and are not rewarded yet (most
were never referred); only those go through `reward_referral` itself, each at its event's
time, so the rule, the points or coupons and `referral.rewarded` stay the single path's.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent
from shopops.members.models import Customer
from shopops.members.service.referral import reward_referral


def on_orders_completed(session: Session, events: list[OutboxEvent]) -> None:
    """`reward_referral` for each event's customer and order, in order, with one read."""
    ids = sorted({int(e.payload["customer_id"]) for e in events})
    if not ids:
        return
    due = set(
        session.scalars(
            select(Customer.id).where(
                Customer.id.in_(ids),
                Customer.referred_by.is_not(None),
                Customer.referral_rewarded.is_(False),
            )
        )
    )
    if not due:
        return
    clock = session.info.get("now")
    try:
        for event in events:
            p = event.payload
            if int(p["customer_id"]) in due:
                session.info["now"] = event.occurred_at
                reward_referral(
                    session, customer_id=int(p["customer_id"]), order_id=int(p["order_id"])
                )
    finally:
        session.info["now"] = clock
