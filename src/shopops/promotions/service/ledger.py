"""The usage ledger: redemptions must explain every counter; cashback after completion."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import OutboxEvent, emit
from shopops.promotions import events
from shopops.promotions.models import (
    Campaign,
    CashbackCredit,
    Coupon,
    CouponStatus,
    CustomerUsage,
    PromotionDef,
    Redemption,
)

ACTIVE = "active"


def ledger_problems(session: Session) -> list[str]:
    """Where counters and redemptions disagree (empty when the ledger balances): promotion
    uses and spend, per-customer uses, campaign spend, and coupons held by orders."""
    problems: list[str] = []
    r = Redemption
    active = r.status == ACTIVE
    by_promo = {
        pid: (n, s)
        for pid, n, s in session.execute(
            select(r.promotion_id, func.count(), func.sum(r.charged))
            .where(active)
            .group_by(r.promotion_id)
        )
    }
    for p in session.scalars(select(PromotionDef)):
        n, s = by_promo.get(p.id, (0, 0))
        kept = p.total_uses is not None or p.budget_count is not None
        kept = kept or p.budget_amount is not None
        if kept and (p.used_count, p.spent_amount) != (n, int(s or 0)):
            problems.append(
                f"promotion {p.id}: counters {(p.used_count, p.spent_amount)} != {(n, s)}"
            )
        if p.total_uses is not None and p.used_count > p.total_uses:
            problems.append(f"promotion {p.id}: {p.used_count} uses over {p.total_uses}")
        if p.budget_amount is not None and p.spent_amount > p.budget_amount:
            problems.append(f"promotion {p.id}: spent {p.spent_amount} over {p.budget_amount}")
    per_customer = {
        (pid, cid): n
        for pid, cid, n in session.execute(
            select(r.promotion_id, r.customer_id, func.count())
            .where(active)
            .group_by(r.promotion_id, r.customer_id)
        )
    }
    for u in session.scalars(select(CustomerUsage)):
        if u.used != per_customer.get((u.promotion_id, u.customer_id), 0):
            problems.append(f"usage {u.promotion_id}/{u.customer_id}: {u.used}")
    by_campaign = {
        cid: int(s or 0)
        for cid, s in session.execute(
            select(r.campaign_id, func.sum(r.charged))
            .where(active, r.campaign_id.is_not(None))
            .group_by(r.campaign_id)
        )
    }
    for c in session.scalars(select(Campaign)):
        if c.spent_amount != by_campaign.get(c.id, 0):
            problems.append(
                f"campaign {c.id}: spent {c.spent_amount} != {by_campaign.get(c.id, 0)}"
            )
        if c.budget_amount is not None and c.spent_amount > c.budget_amount:
            problems.append(f"campaign {c.id}: over budget")
    held = {
        cid: oid
        for cid, oid in session.execute(
            select(r.coupon_id, r.order_id).where(active, r.coupon_id.is_not(None))
        )
    }
    for c in session.scalars(select(Coupon)):
        if c.status == CouponStatus.REDEEMED and held.get(c.id) != c.order_id:
            problems.append(f"coupon {c.id}: redeemed by {c.order_id} without its redemption")
        if c.status != CouponStatus.REDEEMED and c.id in held:
            problems.append(f"coupon {c.id}: {c.status} but redeemed by order {held[c.id]}")
    return problems


def resync_counters(session: Session, *, promotion_id: int) -> None:
    """Set a promotion's counters and per-customer uses from its active redemptions (after
    its limits change: promotions without limits keep no counters)."""
    r = Redemption
    active = (r.status == ACTIVE, r.promotion_id == promotion_id)
    n, s = session.execute(select(func.count(), func.sum(r.charged)).where(*active)).one()
    row = session.get(PromotionDef, promotion_id)
    assert row is not None
    row.used_count, row.spent_amount = int(n), int(s or 0)
    session.execute(delete(CustomerUsage).where(CustomerUsage.promotion_id == promotion_id))
    if row.per_customer is not None:
        counts = session.execute(
            select(r.customer_id, func.count()).where(*active).group_by(r.customer_id)
        ).all()
        if counts:
            session.execute(
                insert(CustomerUsage.__table__),
                [{"promotion_id": promotion_id, "customer_id": c, "used": k} for c, k in counts],
            )


def grant_cashback(session: Session, *, order_id: int) -> list[CashbackCredit]:
    """Record the cashback the order's promotions promised, once (emits `cashback.granted`)."""
    rows = session.scalars(
        select(Redemption)
        .outerjoin(CashbackCredit, CashbackCredit.redemption_id == Redemption.id)
        .where(
            Redemption.order_id == order_id,
            Redemption.status == ACTIVE,
            Redemption.cashback > 0,
            CashbackCredit.id.is_(None),
        )
    ).all()
    at = now(session)
    credits = []
    for r in rows:
        credit = CashbackCredit(
            redemption_id=r.id,
            customer_id=r.customer_id,
            order_id=r.order_id,
            amount=r.cashback,
            created_at=at,
        )
        session.add(credit)
        credits.append((r, credit))
    if credits:
        session.flush()
    for r, credit in credits:
        emit(
            session,
            events.CASHBACK_GRANTED,
            aggregate_type="customer",
            aggregate_id=r.customer_id,
            payload={
                "credit_id": credit.id,
                "customer_id": r.customer_id,
                "order_id": r.order_id,
                "promotion_id": r.promotion_id,
                "campaign_id": r.campaign_id,
                "campaign_phase": r.campaign_phase,
                "amount": r.cashback,
            },
            occurred_at=at,
        )
    return [c for _, c in credits]


def on_order_completed(session: Session, event: OutboxEvent) -> None:
    grant_cashback(session, order_id=int(event.payload["order_id"]))
