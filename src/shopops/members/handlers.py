"""The members domain's reactions, registered at import (shopops.models imports this module):
checkout hooks for redeeming points, and subscribers that keep the membership counters,
the points ledger, tiers and referral rewards in step with orders and refunds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shopops.events import OutboxEvent, subscribe, subscribe_bulk
from shopops.members.service import (
    membership,
    paid_bulk,
    points,
    redemption,
    referral,
    referral_bulk,
    refund_bulk,
)
from shopops.orders.pricing import register_discount_hook, register_order_hook


def on_order_paid(session: Session, event: OutboxEvent) -> None:
    membership.record_order_paid(session, **membership.order_paid_args(event.payload))


def on_order_cancelled(session: Session, event: OutboxEvent) -> None:
    p = event.payload
    points.return_redeemed(
        session,
        order_id=int(p["order_id"]),
        customer_id=int(p["customer_id"]),
        reason=f"order {p.get('number', p['order_id'])} cancelled",
    )


def on_refund_succeeded(session: Session, event: OutboxEvent) -> None:
    p = event.payload
    if p.get("kind") != "order":
        return  # a reversed payment the order never took: no points were earned on it
    from shopops.orders import service as orders
    from shopops.orders.models import Order

    # The refund just updated this order in the session: take it from there (no SELECT).
    order_id = int(p["order_id"])
    order = session.get(Order, order_id) or orders.get_order(session, order_id=order_id)
    points.reverse_for_refund(
        session,
        order_id=order.id,
        customer_id=order.customer_id,
        refund_id=int(p["refund_id"]),
        refunded=order.refunded_amount,
        paid=order.paid_amount,
    )


def on_order_completed(session: Session, event: OutboxEvent) -> None:
    p = event.payload
    referral.reward_referral(
        session, customer_id=int(p["customer_id"]), order_id=int(p["order_id"])
    )


register_discount_hook(redemption.points_discount)
register_order_hook(redemption.claim_points)
subscribe("order.paid", on_order_paid)
subscribe_bulk(on_order_paid, paid_bulk.on_orders_paid)
subscribe("order.cancelled", on_order_cancelled)
subscribe("refund.succeeded", on_refund_succeeded)
subscribe_bulk(on_refund_succeeded, refund_bulk.on_refunds_succeeded)
subscribe("order.completed", on_order_completed)
subscribe_bulk(on_order_completed, referral_bulk.on_orders_completed)
