"""The members domain's reactions, registered at import (shopops.models imports this module):
checkout hooks for redeeming points, and subscribers that keep the membership counters,
the points ledger, tiers and referral rewards in step with orders and refunds."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopops.events import OutboxEvent, run_each, subscribe, subscribe_bulk
from shopops.members.models import PointsEntry, PointsKind
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


# The orders of a batch that redeemed points: the only ones return_redeemed has work for.
_REDEEMED = (
    select(PointsEntry.order_id)
    .where(
        PointsEntry.order_id.in_(bindparam("ids", expanding=True)),
        PointsEntry.kind == PointsKind.REDEEM,
    )
    .distinct()
)


def on_orders_cancelled(session: Session, cancelled: list[OutboxEvent]) -> None:
    """on_order_cancelled's twin: one SELECT finds the orders that redeemed points (few do),
    and only their events go through the handler, in order (it read each order's entries)."""
    ids = list({int(e.payload["order_id"]) for e in cancelled})
    redeemed = set(session.scalars(_REDEEMED, {"ids": ids}))
    if redeemed:
        due = [e for e in cancelled if int(e.payload["order_id"]) in redeemed]
        run_each(session, on_order_cancelled, due)


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
subscribe_bulk(on_order_cancelled, on_orders_cancelled)
subscribe("refund.succeeded", on_refund_succeeded)
subscribe_bulk(on_refund_succeeded, refund_bulk.on_refunds_succeeded)
subscribe("order.completed", on_order_completed)
subscribe_bulk(on_order_completed, referral_bulk.on_orders_completed)
