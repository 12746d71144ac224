"""Events of the members domain and their payloads (no contact details: the warehouse gets
the profile dimensions only)."""

from __future__ import annotations

from typing import Any

from shopops.members.models import Customer

CUSTOMER_REGISTERED = "customer.registered"
CUSTOMER_UPDATED = "customer.updated"

AGGREGATE = "customer"


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The customer dimension's attributes: what segments and cohorts are cut by."""
    return {
        "customer_id": customer.id,
        "gender": customer.gender,
        "age_band": customer.age_band,
        "birth_month": customer.birthday.month if customer.birthday else None,
        "region": customer.region,
        "city": customer.city,
        "acquisition_channel": customer.acquisition_channel,
        "registered_at": customer.registered_at.isoformat(),
        "referred_by": customer.referred_by,
    }


POINTS_EARNED = "points.earned"
POINTS_REDEEMED = "points.redeemed"
POINTS_EXPIRED = "points.expired"
POINTS_REVERSED = "points.reversed"
POINTS_ADJUSTED = "points.adjusted"
TIER_CHANGED = "tier.changed"
REFERRAL_REWARDED = "referral.rewarded"


def points_event_name(kind: str, amount: int) -> str:
    """The event of a ledger entry: credits are earned, `return`/`reverse` undo an order's
    redemption or earning (both `points.reversed`), operator corrections are adjusted."""
    if kind == "adjust":
        return POINTS_ADJUSTED
    if kind == "redeem":
        return POINTS_REDEEMED
    if kind == "expire":
        return POINTS_EXPIRED
    if kind in ("reverse", "return"):
        return POINTS_REVERSED
    return POINTS_EARNED


def points_entry(entry: Any) -> dict[str, Any]:
    """A ledger movement: enough for the warehouse to rebuild every balance from events."""
    return {
        "entry_id": entry.id,
        "customer_id": entry.customer_id,
        "kind": entry.kind,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "growth": entry.growth,
        "ref": entry.ref,
        "reason": entry.reason,
        "order_id": entry.order_id,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }


def tier_changed(
    customer_id: int, old: str, new: str, growth: int, *, direction: str, cause: str
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "from_tier": old,
        "to_tier": new,
        "growth_value": growth,
        "direction": direction,
        "cause": cause,
    }
