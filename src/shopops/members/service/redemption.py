"""Points at checkout: the discount hook that prices a redemption (no SQL) and the order
hook that claims it (one conditional UPDATE and one ledger row)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from shopops.config import get_settings
from shopops.members import rules
from shopops.members.errors import InvalidPoints, PointsInsufficient, PointsOverCap
from shopops.members.models import PointsKind
from shopops.members.service.points import post_entry
from shopops.orders.pricing import AppliedDiscount, CartSnapshot, Offers, PricedCart

POINTS_SOURCE = "points"


def points_discount(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    offers: Offers,
    earlier: Sequence[AppliedDiscount] = (),
) -> list[AppliedDiscount]:
    """Checkout discount hook: the points the shopper asks to redeem, as a discount worth
    `points_per_yuan_redeemed` points a yuan, capped at `points_redeem_cap_bp` of what earlier
    discounts left of the items. No SQL (the balance comes with the loaded customer)."""
    requested = offers.points
    if requested <= 0:
        return []
    s = get_settings()
    rate = s.points_per_yuan_redeemed
    if requested * 100 % rate:
        raise InvalidPoints(
            f"points are redeemed in steps of {rate // math.gcd(rate, 100)}",
            details={"field": "points", "requested": requested},
        )
    have = getattr(customer, "points_balance", 0) or 0
    if requested > have:
        raise PointsInsufficient(
            f"{requested} points requested, {have} available",
            details={"field": "points", "requested": requested, "balance": have},
        )
    remaining = max(0, snapshot.subtotal - sum(d.amount for d in earlier))
    cap = rules.max_redeemable_points(
        remaining, cap_bp=s.points_redeem_cap_bp, points_per_yuan=rate
    )
    cap -= cap * 100 % rate // 100  # keep the cap on a whole step
    if requested > cap:
        raise PointsOverCap(
            f"at most {cap} points on this order ({s.points_redeem_cap_bp / 100:g}% of "
            f"{remaining / 100:.2f} yuan left after other discounts)",
            details={
                "field": "points",
                "requested": requested,
                "max_points": cap,
                "cap_bp": s.points_redeem_cap_bp,
                "remaining": remaining,
            },
        )
    value = rules.points_value(requested, points_per_yuan=rate)
    return [
        AppliedDiscount(
            source=POINTS_SOURCE,
            reference=str(requested),
            description=f"积分抵扣 {requested} points = ¥{value / 100:.2f}",
            amount=value,
        )
    ]


def claim_points(session: Session, order: Any, priced: PricedCart, offers: Offers) -> None:
    """Checkout order hook: deduct the redeemed points with one conditional UPDATE (a
    concurrent order that took them first makes this one 409 `points_insufficient`) and one
    ledger row. Nothing at all when no points were asked for."""
    if offers.points <= 0:
        return
    granted = sum(d.amount for d in priced.discounts if d.source == POINTS_SOURCE)
    rate = get_settings().points_per_yuan_redeemed
    # Pricing may have clamped the discount: spend only the points it was worth.
    spent = min(offers.points, granted * rate // 100)
    if spent <= 0:
        return
    post_entry(
        session,
        customer_id=order.customer_id,
        kind=PointsKind.REDEEM,
        amount=-spent,
        ref=f"order:{order.id}",
        reason=f"redeemed on order {order.number}",
        order_id=order.id,
        announce=False,
    )
