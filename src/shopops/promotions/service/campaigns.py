"""The campaign calendar: campaigns with phases (预热 warm-up → 爆发 peak → 收尾 wrap-up), a
shared budget, and the promotions attached to each phase; results per phase for analytics."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import emit
from shopops.orders.models import Order
from shopops.promotions import events
from shopops.promotions.errors import CampaignNotFound, InvalidCampaign, PromotionNotEditable
from shopops.promotions.models import (
    PHASE_ORDER,
    Campaign,
    CampaignPhaseWindow,
    PromotionDef,
    Redemption,
)
from shopops.promotions.schemas import CampaignCreate
from shopops.promotions.service.definitions import EDITABLE, get_promotion


def create_campaign(session: Session, *, spec: CampaignCreate) -> Campaign:
    """A campaign and its phases; 422 `invalid_campaign` when the window is reversed, the
    budget negative, a phase repeated, outside the campaign, overlapping or out of order."""
    problems: list[dict[str, str]] = []
    times = [spec.starts_at, spec.ends_at] + [
        t for p in spec.phases for t in (p.starts_at, p.ends_at)
    ]
    if any(t.tzinfo is None for t in times):
        raise InvalidCampaign("times need a time zone", details={"field": "starts_at"})
    if spec.ends_at <= spec.starts_at:
        problems.append({"field": "ends_at", "code": "ends_before_start"})
    if spec.budget_amount is not None and spec.budget_amount < 0:
        problems.append({"field": "budget_amount", "code": "negative_amount"})
    names = [p.phase for p in spec.phases]
    if len(set(names)) != len(names):
        problems.append({"field": "phases", "code": "phase_repeated"})
    ordered = sorted(spec.phases, key=lambda p: PHASE_ORDER.index(p.phase))  # type: ignore[arg-type]
    for i, p in enumerate(ordered):
        if p.ends_at <= p.starts_at:
            problems.append({"field": f"phases.{p.phase}", "code": "ends_before_start"})
        if p.starts_at < spec.starts_at or p.ends_at > spec.ends_at:
            problems.append({"field": f"phases.{p.phase}", "code": "outside_campaign"})
        if i and p.starts_at < ordered[i - 1].ends_at:
            problems.append(
                {"field": f"phases.{p.phase}", "code": "phases_overlap_or_out_of_order"}
            )
    if problems:
        raise InvalidCampaign(
            f"the campaign is invalid: {problems[0]['field']} {problems[0]['code']}",
            details={"problems": problems},
        )
    row = Campaign(
        name=spec.name.strip(),
        description=spec.description,
        status="planned",
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        budget_amount=spec.budget_amount,
        spent_amount=0,
        uses_count=0,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    session.add_all(
        CampaignPhaseWindow(
            campaign_id=row.id, phase=p.phase, starts_at=p.starts_at, ends_at=p.ends_at
        )
        for p in ordered
    )
    session.flush()
    emit(
        session,
        events.CAMPAIGN_CREATED,
        aggregate_type="campaign",
        aggregate_id=row.id,
        payload=events.campaign(
            row,
            phases=[
                {
                    "phase": p.phase,
                    "starts_at": p.starts_at.isoformat(),
                    "ends_at": p.ends_at.isoformat(),
                }
                for p in ordered
            ],
        ),
    )
    return row


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    row = session.get(Campaign, campaign_id)
    if row is None:
        raise CampaignNotFound(f"no campaign {campaign_id}", details={"campaign_id": campaign_id})
    return row


def campaign_phases(session: Session, *, campaign_id: int) -> list[CampaignPhaseWindow]:
    rows = session.scalars(
        select(CampaignPhaseWindow).where(CampaignPhaseWindow.campaign_id == campaign_id)
    ).all()
    return sorted(rows, key=lambda r: PHASE_ORDER.index(r.phase))  # type: ignore[arg-type]


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.starts_at, Campaign.id)))


def campaign_view(session: Session, *, campaign_id: int) -> dict[str, Any]:
    c = get_campaign(session, campaign_id=campaign_id)
    attached: dict[str, list[int]] = {}
    for pid, phase in session.execute(
        select(PromotionDef.id, PromotionDef.campaign_phase)
        .where(PromotionDef.campaign_id == c.id)
        .order_by(PromotionDef.id)
    ):
        attached.setdefault(phase or "", []).append(pid)
    return {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "budget_amount": c.budget_amount,
        "spent_amount": c.spent_amount,
        "uses_count": c.uses_count,
        "phases": campaign_phases(session, campaign_id=c.id),
        "promotion_ids": attached,
    }


def attach_promotion(
    session: Session, *, campaign_id: int, promotion_id: int, phase: str
) -> PromotionDef:
    """Run a draft or paused promotion in one phase: its window becomes the phase's window
    (intersected with its own), and the campaign's budget applies to it."""
    c = get_campaign(session, campaign_id=campaign_id)
    windows = {w.phase: w for w in campaign_phases(session, campaign_id=c.id)}
    if phase not in windows:
        raise InvalidCampaign(
            f"the campaign has no {phase} phase",
            details={"problems": [{"field": "phase", "code": "unknown_phase"}], "phase": phase},
        )
    promo = get_promotion(session, promotion_id=promotion_id, for_update=True)
    if promo.status not in EDITABLE:
        raise PromotionNotEditable(
            "pause the promotion before attaching it to a campaign",
            details={"promotion_id": promo.id, "status": promo.status},
        )
    w = windows[phase]
    starts = max(x for x in (promo.starts_at, w.starts_at) if x is not None)
    ends = min(x for x in (promo.ends_at, w.ends_at) if x is not None)
    if ends <= starts:
        raise InvalidCampaign(
            "the promotion's window does not overlap the phase",
            details={"problems": [{"field": "phase", "code": "no_overlap"}], "phase": phase},
        )
    promo.campaign_id, promo.campaign_phase = c.id, phase
    promo.starts_at, promo.ends_at = starts, ends
    promo.revision = uuid.uuid4().hex
    promo.updated_at = now(session)
    session.flush()
    emit(
        session,
        events.CAMPAIGN_PROMOTION_ATTACHED,
        aggregate_type="campaign",
        aggregate_id=c.id,
        payload=events.campaign(c, promotion_id=promo.id, phase=phase),
    )
    return promo


def campaign_results(session: Session, *, campaign_id: int) -> dict[str, dict[str, int]]:
    """Orders, deductions, cashback and budget charged per phase (active redemptions)."""
    get_campaign(session, campaign_id=campaign_id)
    rows = session.execute(
        select(
            Redemption.campaign_phase,
            func.count(func.distinct(Redemption.order_id)),
            func.coalesce(func.sum(Redemption.amount + Redemption.shipping_amount), 0),
            func.coalesce(func.sum(Redemption.cashback), 0),
            func.coalesce(func.sum(Redemption.charged), 0),
        )
        .where(Redemption.campaign_id == campaign_id, Redemption.status == "active")
        .group_by(Redemption.campaign_phase)
    )
    return {
        phase: {"orders": int(o), "discount": int(d), "cashback": int(cb), "charged": int(ch)}
        for phase, o, d, cb, ch in rows
    }


def campaign_report(
    session: Session,
    *,
    campaign_id: int,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
) -> dict[str, dict[str, int]]:
    """Per phase, from the active redemptions made in [starts_at, ends_at): distinct orders,
    GMV (those orders' paid amounts, each order counted once per phase), discount given,
    cashback and budget charged. For the console's campaign table."""
    get_campaign(session, campaign_id=campaign_id)
    window = [Redemption.campaign_id == campaign_id, Redemption.status == "active"]
    if starts_at is not None:
        window.append(Redemption.created_at >= starts_at)
    if ends_at is not None:
        window.append(Redemption.created_at < ends_at)
    out: dict[str, dict[str, int]] = {}
    for phase, d, cb, ch in session.execute(
        select(
            Redemption.campaign_phase,
            func.coalesce(func.sum(Redemption.amount + Redemption.shipping_amount), 0),
            func.coalesce(func.sum(Redemption.cashback), 0),
            func.coalesce(func.sum(Redemption.charged), 0),
        )
        .where(*window)
        .group_by(Redemption.campaign_phase)
    ):
        out[phase] = {"orders": 0, "gmv": 0, "discount": int(d), "cashback": int(cb)}
        out[phase]["charged"] = int(ch)
    # One row per (phase, order): an order using two of the phase's promotions counts once.
    pairs = select(Redemption.campaign_phase, Redemption.order_id).where(*window).distinct()
    sub = pairs.subquery()
    for phase, n, gmv in session.execute(
        select(sub.c.campaign_phase, func.count(), func.coalesce(func.sum(Order.paid_amount), 0))
        .join(Order, Order.id == sub.c.order_id)
        .group_by(sub.c.campaign_phase)
    ):
        out[phase]["orders"], out[phase]["gmv"] = int(n), int(gmv)
    return out
