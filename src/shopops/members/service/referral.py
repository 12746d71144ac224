"""Referral (裂变): codes, attribution at registration, rewards for both sides once the new
customer's first order completes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.config import get_settings
from shopops.events import emit
from shopops.members import events, rules
from shopops.members.errors import (
    AlreadyReferred,
    CustomerNotFound,
    ReferralCodeNotFound,
    ReferralCycle,
    SelfReferral,
)
from shopops.members.models import Customer, PointsKind
from shopops.members.service import points

MAX_CHAIN = 64


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    return customer


def referral_code(session: Session, *, customer_id: int) -> str:
    """The customer's referral code (derived from the id: nothing to store)."""
    return rules.referral_code(_customer(session, customer_id).id)


def find_referrer(session: Session, *, code: str) -> Customer:
    """The customer owning a referral code (404 `referral_code_not_found`)."""
    customer_id = rules.decode_referral_code(code)
    referrer = session.get(Customer, customer_id) if customer_id is not None else None
    if referrer is None:
        raise referral_code_not_found(code)
    return referrer


def referral_code_not_found(code: str) -> ReferralCodeNotFound:
    """The refusal of a code that names no customer."""
    return ReferralCodeNotFound(
        "no such referral code", details={"field": "referral_code", "value": code}
    )


def _chain(session: Session, start: int | None) -> list[int]:
    # Walk up the referrers (bounded): a cycle would make attribution an infinite loop.
    chain: list[int] = []
    current = start
    while current is not None and len(chain) < MAX_CHAIN and current not in chain:
        chain.append(current)
        current = session.scalar(select(Customer.referred_by).where(Customer.id == current))
    return chain


def attribute_referral(session: Session, *, customer_id: int, code: str) -> Customer:
    """Record who referred the customer. Refused: an unknown code (404), their own code
    (409 `self_referral`), a referrer they referred themselves, directly or not (409
    `referral_cycle`), and a customer already referred or who has already paid an order
    (409 `already_referred`)."""
    customer = _customer(session, customer_id)
    referrer = find_referrer(session, code=code)
    if referrer.id == customer.id:
        raise SelfReferral(
            "you cannot use your own referral code", details={"field": "referral_code"}
        )
    if customer.referred_by is not None or customer.paid_orders > 0:
        raise AlreadyReferred(
            "referral only counts for a new customer, once",
            details={"field": "referral_code", "referred_by": customer.referred_by},
        )
    if rules.referral_chain_has(_chain(session, referrer.referred_by), customer.id):
        raise ReferralCycle(
            "this code's owner was referred by you", details={"field": "referral_code"}
        )
    customer.referred_by = referrer.id
    session.flush()
    return customer


def _coupon(session: Session, *, template_id: int, customer_id: int, reason: str) -> Any:
    # Promotions is optional here: import at the call, use it only if it exists.
    try:
        from shopops.promotions.service import issue_coupon  # type: ignore[attr-defined]
    except ImportError:
        try:
            from shopops.promotions.service.coupons import issue_coupon
        except ImportError:
            return None
    return issue_coupon(session, template_id=template_id, customer_id=customer_id, reason=reason)


def reward_referral(session: Session, *, customer_id: int, order_id: int) -> bool:
    """Once the referred customer's first order completes: reward both sides (points, or a
    coupon when a template is configured) and emit `referral.rewarded`. Idempotent."""
    customer = _customer(session, customer_id)
    if customer.referred_by is None or customer.referral_rewarded:
        return False
    s = get_settings()
    rewards: dict[str, dict[str, Any]] = {}
    for side, who, pts, template in (
        ("referrer", customer.referred_by, s.referral_referrer_points,
         s.referral_referrer_coupon_template_id),
        ("new_customer", customer.id, s.referral_new_customer_points,
         s.referral_new_customer_coupon_template_id),
    ):  # fmt: skip
        coupon = None
        if template is not None:
            coupon = _coupon(
                session, template_id=template, customer_id=who, reason=f"referral:{customer.id}"
            )
        if coupon is not None:
            rewards[side] = {"customer_id": who, "coupon_id": getattr(coupon, "id", None)}
        elif pts > 0:
            points.post_entry(
                session,
                customer_id=who,
                kind=PointsKind.REFERRAL,
                amount=pts,
                ref=f"referral:{customer.id}",
                reason=f"referral of customer {customer.id}, order {order_id}",
                order_id=None,
            )
            rewards[side] = {"customer_id": who, "points": pts}
    customer.referral_rewarded = True
    emit(
        session,
        events.REFERRAL_REWARDED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=customer.id,
        payload={
            "customer_id": customer.id,
            "referrer_id": customer.referred_by,
            "order_id": order_id,
            "rewards": rewards,
        },
    )
    session.flush()
    return True
