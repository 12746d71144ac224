"""The order side of promotions: claim what the discount hook granted with conditional
UPDATEs (limits and budgets never overrun under concurrency), record redemptions, and give
everything back when the order is cancelled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, case, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopops.db import DriverStatement, now
from shopops.events import OutboxEvent, emit
from shopops.orders.pricing import Offers, PricedCart
from shopops.promotions import events
from shopops.promotions.errors import CouponExhausted, PromotionLimitReached
from shopops.promotions.models import (
    Campaign,
    Coupon,
    CouponStatus,
    CustomerUsage,
    PromotionDef,
    PromotionStatus,
    Redemption,
)
from shopops.promotions.service.checkout import (
    GRANTS_KEY,
    SOURCE_COUPON,
    SOURCE_PROMOTION,
    SUSPENDED,
)

# --- the order hook: claim what was granted ----------------------------------------------------


def _dialect_insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def emit_redemption_events(
    session: Session, order: Any, grants: Sequence[Any], rows: list[dict[str, Any]],
    at: dt.datetime,
) -> None:  # fmt: skip
    """One event per order of each kind (the warehouse gets one fact row per application):
    the promotions applied, and the coupons redeemed when there are any."""
    emit(
        session,
        events.PROMOTION_APPLIED,
        aggregate_type=events.ORDER_AGGREGATE,
        aggregate_id=order.id,
        payload=events.applied(order, [(g.kind, row) for g, row in zip(grants, rows, strict=True)]),
        occurred_at=at,
    )
    used = [row for row in rows if row["coupon_id"] is not None]
    if used:
        emit(
            session,
            events.COUPON_REDEEMED,
            aggregate_type=events.ORDER_AGGREGATE,
            aggregate_id=order.id,
            payload=events.coupons_moved(order.id, order.customer_id, used),
            occurred_at=at,
        )


def redemption_rows(
    order: Any, grants: Sequence[Any], granted: Mapping[str, int], at: dt.datetime
) -> list[dict[str, Any]]:
    """The redemption rows of an order's grants (the single and the batch claim write these)."""
    return [
        {
            "promotion_id": g.promotion_id,
            "coupon_id": g.coupon_id,
            "campaign_id": g.campaign_id,
            "campaign_phase": g.phase,
            "order_id": order.id,
            "customer_id": order.customer_id,
            "code": g.code,
            "amount": granted.get(g.reference, g.amount),
            "shipping_amount": g.shipping_amount,
            "cashback": g.cashback,
            "gifts": list(g.gifts),
            "charged": g.charged,
            "line_amounts": {str(k): v for k, v in g.line_amounts.items()},
            "status": "active",
            "created_at": at,
        }
        for g in grants
    ]


def claim_promotions(session: Session, order: Any, priced: PricedCart, offers: Offers) -> None:
    """Claim the uses, budgets and coupons the discount hook granted for `order`.

    Every counter moves by a conditional UPDATE whose row count is checked, so two orders can
    never take the last use twice; a refusal (409) rolls the whole order back.
    """
    stash = session.info.pop(GRANTS_KEY, None)
    if SUSPENDED.get() or not stash or stash[0] != order.customer_id:
        return
    refs = {d.reference for d in priced.discounts if d.source in (SOURCE_PROMOTION, SOURCE_COUPON)}
    grants = [g for g in stash[1] if g.reference in refs]
    if not grants:
        return
    granted = {d.reference: d.amount for d in priced.discounts}
    at = now(session)
    uses: dict[int, int] = {}
    spent: dict[int, int] = {}
    for g in grants:
        if g.counted:
            uses[g.promotion_id] = uses.get(g.promotion_id, 0) + 1
            spent[g.promotion_id] = spent.get(g.promotion_id, 0) + g.charged
    if uses:
        _claim_counters(session, uses, spent)
    coupon_ids = [g.coupon_id for g in grants if g.coupon_id is not None]
    if coupon_ids:
        res = session.execute(
            update(Coupon)
            .where(
                Coupon.id.in_(coupon_ids),
                Coupon.status == CouponStatus.ISSUED,
                Coupon.customer_id == order.customer_id,
            )
            .values(status=CouponStatus.REDEEMED, order_id=order.id, redeemed_at=at),
            execution_options={"synchronize_session": False},
        )
        if res.rowcount != len(coupon_ids):  # type: ignore[attr-defined]
            raise CouponExhausted(
                "a coupon was used by another order at the same time",
                details={"coupon_ids": coupon_ids, "reason": "already_redeemed"},
            )
    limited = {g.promotion_id: g.per_customer for g in grants if g.per_customer is not None}
    if limited:
        per_order = {p: sum(1 for g in grants if g.promotion_id == p) for p in limited}
        _claim_customer_usage(session, order.customer_id, per_order, limited)
    camp: dict[int, int] = {}
    for g in grants:
        if g.campaign_id is not None:
            camp[g.campaign_id] = camp.get(g.campaign_id, 0) + g.charged
    if camp:
        _claim_campaigns(session, camp)
    rows = redemption_rows(order, grants, granted, at)
    # One INSERT for every redemption (no RETURNING: SQLite would send them one by one).
    session.execute(insert(Redemption.__table__), rows)
    emit_redemption_events(session, order, grants, rows, at)


def _case(column: Any, values: Mapping[int, int]) -> Any:
    return case(
        {k: literal(v, Integer()) for k, v in values.items()}, value=column, else_=literal(0)
    )


def _claim_counters(session: Session, uses: Mapping[int, int], spent: Mapping[int, int]) -> None:
    p = PromotionDef
    add_uses, add_spent = _case(p.id, uses), _case(p.id, spent)
    stmt = (
        update(p)
        .where(
            p.id.in_(list(uses)),
            p.status == PromotionStatus.ACTIVE,
            (p.total_uses.is_(None)) | (p.used_count + add_uses <= p.total_uses),
            (p.budget_count.is_(None)) | (p.used_count + add_uses <= p.budget_count),
            (p.budget_amount.is_(None)) | (p.spent_amount + add_spent <= p.budget_amount),
        )
        .values(used_count=p.used_count + add_uses, spent_amount=p.spent_amount + add_spent)
    )
    res = session.execute(stmt, execution_options={"synchronize_session": False})
    if res.rowcount != len(uses):  # type: ignore[attr-defined]
        raise PromotionLimitReached(
            "a promotion's uses or budget ran out while this order was placed; try again",
            details={"promotion_ids": sorted(uses)},
        )


def _usage_upsert(make: Any) -> DriverStatement:
    """One (promotion, customer) usage claim: INSERT, or add to `used` while it stays within
    `lim`; a row back means claimed. Compiled once per dialect (the values are parameters)."""
    t = CustomerUsage.__table__
    ins = make(t).values(
        promotion_id=bindparam("p", type_=Integer()),
        customer_id=bindparam("c", type_=Integer()),
        used=bindparam("n", type_=Integer()),
    )
    return DriverStatement(
        ins.on_conflict_do_update(
            index_elements=[t.c.promotion_id, t.c.customer_id],
            set_={"used": t.c.used + ins.excluded.used},
            where=t.c.used + ins.excluded.used <= bindparam("lim", type_=Integer()),
        ).returning(t.c.promotion_id)
    )


_USAGE_UPSERT = {
    "postgresql": _usage_upsert(postgresql.insert),
    "sqlite": _usage_upsert(sqlite.insert),
}


def claim_usage_one(
    session: Session, promotion_id: int, customer_id: int, used: int, limit: int
) -> bool:
    """Whether `used` more uses of the promotion by the customer fit within `limit` (then
    they are counted)."""
    conn = session.connection()
    return bool(
        _USAGE_UPSERT[conn.dialect.name].execute(
            conn, {"p": promotion_id, "c": customer_id, "n": used, "lim": limit}
        )
    )


def _claim_customer_usage(
    session: Session, customer_id: int, uses: Mapping[int, int], limits: Mapping[int, int]
) -> None:
    if len(uses) == 1:  # the usual case: one statement compiled once, not one per order
        ((pid, n),) = uses.items()
        if not claim_usage_one(session, pid, customer_id, n, limits[pid]):
            raise PromotionLimitReached(
                "you have used this promotion as often as it allows",
                details={"promotion_ids": [pid], "reason": "customer_limit"},
            )
        return
    t = CustomerUsage.__table__
    ins = _dialect_insert(session)(t).values(
        [{"promotion_id": p, "customer_id": customer_id, "used": n} for p, n in uses.items()]
    )
    limit = case({k: literal(v, Integer()) for k, v in limits.items()}, value=t.c.promotion_id)
    stmt = ins.on_conflict_do_update(
        index_elements=[t.c.promotion_id, t.c.customer_id],
        set_={"used": t.c.used + ins.excluded.used},
        where=t.c.used + ins.excluded.used <= limit,
    ).returning(t.c.promotion_id)
    done = set(session.scalars(stmt))
    if done != set(uses):
        raise PromotionLimitReached(
            "you have used this promotion as often as it allows",
            details={"promotion_ids": sorted(set(uses) - done), "reason": "customer_limit"},
        )


def _claim_campaigns(session: Session, charged: Mapping[int, int]) -> None:
    c = Campaign
    add = _case(c.id, charged)
    res = session.execute(
        update(c)
        .where(
            c.id.in_(list(charged)),
            (c.budget_amount.is_(None)) | (c.spent_amount + add <= c.budget_amount),
        )
        .values(spent_amount=c.spent_amount + add, uses_count=c.uses_count + 1),
        execution_options={"synchronize_session": False},
    )
    if res.rowcount != len(charged):  # type: ignore[attr-defined]
        raise PromotionLimitReached(
            "the campaign's budget ran out while this order was placed; try again",
            details={"campaign_ids": sorted(charged), "reason": "campaign_budget"},
        )


# --- release on cancellation, cashback on completion -----------------------------------------


def release_order(session: Session, *, order_id: int) -> list[Redemption]:
    """Give back everything the order claimed: counters, per-customer uses, campaign budget,
    coupons (back to `issued`, `coupon.released`). Idempotent: released rows stay released."""
    rows = list(
        session.scalars(
            select(Redemption).where(Redemption.order_id == order_id, Redemption.status == "active")
        )
    )
    if not rows:
        return []
    at = now(session)
    uses: dict[int, int] = {}
    spent: dict[int, int] = {}
    camp: dict[int, int] = {}
    counted_ids = set(
        session.scalars(
            select(PromotionDef.id).where(
                PromotionDef.id.in_({r.promotion_id for r in rows}),
                (PromotionDef.total_uses.is_not(None))
                | (PromotionDef.budget_count.is_not(None))
                | (PromotionDef.budget_amount.is_not(None)),
            )
        )
    )
    per_promo: dict[int, int] = {}
    for r in rows:
        per_promo[r.promotion_id] = per_promo.get(r.promotion_id, 0) + 1
        if r.promotion_id in counted_ids:
            uses[r.promotion_id] = uses.get(r.promotion_id, 0) + 1
            spent[r.promotion_id] = spent.get(r.promotion_id, 0) + r.charged
        if r.campaign_id is not None:
            camp[r.campaign_id] = camp.get(r.campaign_id, 0) + r.charged
        r.status = "released"
        r.released_at = at
    p = PromotionDef
    if uses:
        session.execute(
            update(p)
            .where(p.id.in_(list(uses)))
            .values(
                used_count=p.used_count - _case(p.id, uses),
                spent_amount=p.spent_amount - _case(p.id, spent),
            ),
            execution_options={"synchronize_session": False},
        )
    customer_id = rows[0].customer_id
    u = CustomerUsage
    session.execute(
        update(u)
        .where(u.customer_id == customer_id, u.promotion_id.in_(list(per_promo)), u.used > 0)
        .values(used=u.used - _case(u.promotion_id, per_promo)),
        execution_options={"synchronize_session": False},
    )
    if camp:
        c = Campaign
        session.execute(
            update(c)
            .where(c.id.in_(list(camp)))
            .values(spent_amount=c.spent_amount - _case(c.id, camp), uses_count=c.uses_count - 1),
            execution_options={"synchronize_session": False},
        )
    coupon_ids = [r.coupon_id for r in rows if r.coupon_id is not None]
    if coupon_ids:
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(coupon_ids), Coupon.order_id == order_id)
            .values(
                status=CouponStatus.ISSUED,
                order_id=None,
                redeemed_at=None,
                release_count=Coupon.release_count + 1,
            ),
            execution_options={"synchronize_session": False},
        )
    released = [
        {
            "promotion_id": r.promotion_id,
            "coupon_id": r.coupon_id,
            "code": r.code,
            "campaign_id": r.campaign_id,
            "campaign_phase": r.campaign_phase,
            "amount": r.amount,
            "shipping_amount": r.shipping_amount,
            "cashback": r.cashback,
            "charged": r.charged,
        }
        for r in rows
    ]
    emit(
        session,
        events.PROMOTION_RELEASED,
        aggregate_type=events.ORDER_AGGREGATE,
        aggregate_id=order_id,
        payload={"order_id": order_id, "customer_id": customer_id, "released": released},
        occurred_at=at,
    )
    coupons = [x for x in released if x["coupon_id"] is not None]
    if coupons:
        emit(
            session,
            events.COUPON_RELEASED,
            aggregate_type=events.ORDER_AGGREGATE,
            aggregate_id=order_id,
            payload=events.coupons_moved(order_id, customer_id, coupons),
            occurred_at=at,
        )
    session.flush()
    return rows


def on_order_cancelled(session: Session, event: OutboxEvent) -> None:
    release_order(session, order_id=int(event.payload["order_id"]))
