"""What the promotions' discount hook reads at checkout: active promotions' counters and
campaign budgets, the presented coupons and the customers' per-promotion usage, in ONE UNION
ALL statement — for one checkout, or for a batch of them (bulk checkout)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from shopops.db import UTCDateTime
from shopops.promotions.models import Campaign, Coupon, CustomerUsage, PromotionDef, PromotionStatus
from shopops.promotions.rules import CampaignBudget

# A presented coupon: (coupon id, promotion id, owner, status, valid from, valid until).
CouponRow = tuple[int, int, int, str, dt.datetime, dt.datetime | None]


@dataclass(slots=True)
class State:
    promos: dict[int, tuple[str, int, int, int | None]] = field(default_factory=dict)
    campaigns: dict[int, CampaignBudget] = field(default_factory=dict)
    coupons: dict[str, tuple[int, int, int, str, dt.datetime, dt.datetime | None]] = field(
        default_factory=dict
    )
    customer_uses: dict[int, int] = field(default_factory=dict)


def _state_statement(*, with_codes: bool, batch: bool = False) -> Any:
    """The UNION ALL of `_read_state`, built once per variant: the customer and the codes
    travel as parameters, so each checkout reuses the compiled statement from the cache."""
    i, s, t = Integer(), String(), UTCDateTime()

    def n(type_: Any) -> Any:
        return cast(null(), type_)

    # Core columns: no ORM compile or result step for a statement run at every checkout.
    p, camp, usage, coupon = (
        m.__table__.c for m in (PromotionDef, Campaign, CustomerUsage, Coupon)
    )
    parts = [
        select(
            literal("p", s).label("k"),
            p.id.label("pid"),
            p.revision.label("s1"),
            p.used_count.label("n1"),
            p.spent_amount.label("n2"),
            camp.id.label("n3"),
            camp.budget_amount.label("n4"),
            camp.spent_amount.label("n5"),
            n(s).label("s2"),
            n(t).label("t1"),
            n(t).label("t2"),
        )
        .select_from(PromotionDef.__table__.outerjoin(Campaign.__table__, camp.id == p.campaign_id))
        .where(p.status == PromotionStatus.ACTIVE),
        select(
            literal("u", s),
            usage.promotion_id,
            n(s),
            usage.used,
            usage.customer_id,
            n(i),
            n(i),
            n(i),
            n(s),
            n(t),
            n(t),
        ).where(
            # Only active promotions' counters are read; naming them lets the (promotion,
            # customer) key find the rows instead of scanning every customer's usage.
            usage.promotion_id.in_(select(p.id).where(p.status == PromotionStatus.ACTIVE)),
            usage.customer_id.in_(bindparam("customer_ids", expanding=True))
            if batch
            else usage.customer_id == bindparam("customer_id"),
        ),
    ]
    if with_codes:
        parts.append(
            select(
                literal("c", s),
                coupon.promotion_id,
                coupon.code,
                coupon.id,
                n(i),
                coupon.customer_id,
                n(i),
                n(i),
                coupon.status,
                coupon.valid_from,
                coupon.valid_until,
            ).where(coupon.code.in_(bindparam("codes", expanding=True)))
        )
    return union_all(*parts)


_STATE = _state_statement(with_codes=False)
_STATE_WITH_CODES = _state_statement(with_codes=True)
_BATCH_STATE = _state_statement(with_codes=False, batch=True)
_BATCH_STATE_WITH_CODES = _state_statement(with_codes=True, batch=True)


def read_state(session: Session, *, customer_id: int, codes: Sequence[str]) -> State:
    """Active promotions (revision, counters, campaign budget), the presented coupons and the
    customer's usage counters, in one UNION ALL statement."""
    if session.autoflush:  # a Core statement does not autoflush: see pending rows as the ORM would
        session.flush()
    conn = session.connection()
    if codes:
        rows = conn.execute(_STATE_WITH_CODES, {"customer_id": customer_id, "codes": list(codes)})
    else:
        rows = conn.execute(_STATE, {"customer_id": customer_id})
    state = State()
    for r in rows:
        if r.k == "p":
            state.promos[r.pid] = (r.s1, r.n1, r.n2, r.n3)
            if r.n3 is not None and r.n4 is not None and r.n3 not in state.campaigns:
                state.campaigns[r.n3] = CampaignBudget(amount_left=max(0, r.n4 - r.n5))
        elif r.k == "u":
            state.customer_uses[r.pid] = r.n1
        else:
            state.coupons[r.s1] = (r.n1, r.pid, r.n3, r.s2, r.t1, r.t2)
    return state


@dataclass(slots=True)
class BatchState:
    """`State` for the customers and codes of a batch: usage per customer."""

    promos: dict[int, tuple[str, int, int, int | None]] = field(default_factory=dict)
    campaigns: dict[int, CampaignBudget] = field(default_factory=dict)
    coupons: dict[str, CouponRow] = field(default_factory=dict)
    uses: dict[int, dict[int, int]] = field(default_factory=dict)  # customer → promotion → used

    def view(self, customer_id: int, codes: Sequence[str]) -> State:
        """What `read_state` would return for this customer and codes now."""
        return State(
            promos=self.promos,
            campaigns=self.campaigns,
            coupons={c: self.coupons[c] for c in codes if c in self.coupons},
            customer_uses=self.uses.get(customer_id, {}),
        )


def read_batch_state(
    session: Session, *, customer_ids: Sequence[int], codes: Sequence[str]
) -> BatchState:
    """`read_state` for many customers and codes at once (one statement)."""
    if session.autoflush:
        session.flush()
    conn = session.connection()
    params: dict[str, Any] = {"customer_ids": sorted(set(customer_ids))}
    if codes:
        params["codes"] = sorted(set(codes))
        rows = conn.execute(_BATCH_STATE_WITH_CODES, params)
    else:
        rows = conn.execute(_BATCH_STATE, params)
    state = BatchState()
    for r in rows:
        if r.k == "p":
            state.promos[r.pid] = (r.s1, r.n1, r.n2, r.n3)
            if r.n3 is not None and r.n4 is not None and r.n3 not in state.campaigns:
                state.campaigns[r.n3] = CampaignBudget(amount_left=max(0, r.n4 - r.n5))
        elif r.k == "u":
            state.uses.setdefault(r.n2, {})[r.pid] = r.n1
        else:
            state.coupons[r.s1] = (r.n1, r.pid, r.n3, r.s2, r.t1, r.t2)
    return state
