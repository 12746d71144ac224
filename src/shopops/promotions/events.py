"""Events of the promotions domain and their payloads (plain JSON: fen ints, ISO times, ids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shopops.promotions.models import Campaign, Coupon, PromotionDef

COUPON_ISSUED = "coupon.issued"
COUPON_REDEEMED = "coupon.redeemed"
COUPON_RELEASED = "coupon.released"
PROMOTION_CREATED = "promotion.created"
PROMOTION_STATUS_CHANGED = "promotion.status_changed"
PROMOTION_APPLIED = "promotion.applied"
PROMOTION_RELEASED = "promotion.released"
CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_PROMOTION_ATTACHED = "campaign.promotion_attached"
CASHBACK_GRANTED = "cashback.granted"

ORDER_AGGREGATE = "order"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def coupon(c: Coupon, **extra: Any) -> dict[str, Any]:
    return {
        "coupon_id": c.id,
        "code": c.code,
        "template_id": c.template_id,
        "promotion_id": c.promotion_id,
        "customer_id": c.customer_id,
        "batch_id": c.batch_id,
        "status": c.status,
        "reason": c.reason,
        "valid_until": _iso(c.valid_until),
        **extra,
    }


def promotion(p: PromotionDef, **extra: Any) -> dict[str, Any]:
    return {
        "promotion_id": p.id,
        "name": p.name,
        "kind": p.kind,
        "class": p.klass,
        "status": p.status,
        "campaign_id": p.campaign_id,
        "campaign_phase": p.campaign_phase,
        "starts_at": _iso(p.starts_at),
        "ends_at": _iso(p.ends_at),
        **extra,
    }


def applied(order: Any, applications: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """`promotion.applied`: every promotion one order used, with its campaign and phase, its
    deduction, shipping waived, cashback, gifts, budget charged and per-line amounts."""
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "channel": order.channel,
        "placed_at": _iso(order.placed_at),
        "applications": [
            {
                "promotion_id": row["promotion_id"],
                "kind": kind,
                "coupon_id": row["coupon_id"],
                "code": row["code"],
                "campaign_id": row["campaign_id"],
                "campaign_phase": row["campaign_phase"],
                "amount": row["amount"],
                "shipping_amount": row["shipping_amount"],
                "cashback": row["cashback"],
                "gifts": row["gifts"],
                "charged": row["charged"],
                "lines": [
                    {"sku_id": int(sku), "amount": amount}
                    for sku, amount in row["line_amounts"].items()
                ],
            }
            for kind, row in applications
        ],
    }


def coupons_moved(
    order_id: int, customer_id: int, rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`coupon.redeemed` / `coupon.released`: the order's coupons and what each was worth."""
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "coupons": [
            {
                "coupon_id": row["coupon_id"],
                "code": row["code"],
                "promotion_id": row["promotion_id"],
                "campaign_id": row["campaign_id"],
                "campaign_phase": row["campaign_phase"],
                "amount": row["amount"],
            }
            for row in rows
        ],
    }


def campaign(c: Campaign, **extra: Any) -> dict[str, Any]:
    return {
        "campaign_id": c.id,
        "name": c.name,
        "starts_at": _iso(c.starts_at),
        "ends_at": _iso(c.ends_at),
        "budget_amount": c.budget_amount,
        **extra,
    }
