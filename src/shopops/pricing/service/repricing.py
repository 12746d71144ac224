"""Dynamic repricing: run the pure rule on a SKU's facts, keep the proposal for review, apply
it (through `set_list_price`, so history and `price.changed` follow) or dismiss it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.inventory import service as inventory
from shopops.pricing import rules
from shopops.pricing.errors import (
    InvalidPrice,
    ProposalNotApplicable,
    ProposalNotFound,
    ProposalStale,
)
from shopops.pricing.models import PriceChange, ProposalStatus, RepriceProposalRow
from shopops.pricing.service.prices import SYSTEM, _snapshots, set_list_price

MAX_COMPETITORS = 50


def propose_reprice(
    session: Session,
    *,
    sku_id: int,
    competitor_prices: Sequence[int] = (),
    daily_sales: float = 0.0,
    policy: rules.RepricePolicy = rules.RepricePolicy(),
    actor: str = SYSTEM,
) -> RepriceProposalRow:
    """Propose a new list price for a SKU from competitor prices and its stock cover
    (available units now / `daily_sales`); the proposal is stored, nothing else changes."""
    if len(competitor_prices) > MAX_COMPETITORS or any(p <= 0 for p in competitor_prices):
        raise InvalidPrice(
            f"at most {MAX_COMPETITORS} competitor prices, each above 0",
            details={"competitor_prices": list(competitor_prices)[:MAX_COMPETITORS]},
        )
    if not 0 <= policy.min_margin_bp <= policy.max_margin_bp < rules.BP:
        raise InvalidPrice(
            "the margin band needs 0 ≤ min ≤ max < 100%",
            details={"min_margin_bp": policy.min_margin_bp, "max_margin_bp": policy.max_margin_bp},
        )
    if daily_sales < 0:
        raise InvalidPrice("daily sales cannot be negative", details={"daily_sales": daily_sales})
    snap = _snapshots(session, [sku_id])[sku_id]
    available = inventory.available(session, sku_ids=[sku_id]).get(sku_id, 0)
    data = rules.RepriceInput(
        current_price=snap.list_price,
        cost=snap.cost,
        competitor_prices=tuple(competitor_prices),
        available=available,
        daily_sales=daily_sales,
    )
    proposal = rules.propose_reprice(data, policy)
    row = RepriceProposalRow(
        sku_id=sku_id,
        current_price=proposal.current_price,
        proposed_price=proposal.proposed_price,
        cost=proposal.cost,
        band_low=proposal.band.low,
        band_high=proposal.band.high,
        inputs={
            "competitor_prices": list(competitor_prices),
            "available": available,
            "daily_sales": daily_sales,
            "cover_days": proposal.cover_days,
            "min_margin_bp": policy.min_margin_bp,
            "max_margin_bp": policy.max_margin_bp,
        },
        reasons=[{"code": r.code.value, "text": r.text} for r in proposal.reasons],
        status=ProposalStatus.PROPOSED,
        created_by=actor,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    return row


def get_proposal(
    session: Session, *, proposal_id: int, for_update: bool = False
) -> RepriceProposalRow:
    stmt = select(RepriceProposalRow).where(RepriceProposalRow.id == proposal_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None:
        raise ProposalNotFound(
            f"no repricing proposal {proposal_id}", details={"proposal_id": proposal_id}
        )
    return row


def list_proposals(
    session: Session, *, status: str | None = None, sku_id: int | None = None, limit: int = 100
) -> list[RepriceProposalRow]:
    stmt = select(RepriceProposalRow).order_by(RepriceProposalRow.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(RepriceProposalRow.status == status)
    if sku_id is not None:
        stmt = stmt.where(RepriceProposalRow.sku_id == sku_id)
    return list(session.scalars(stmt))


def _open(session: Session, proposal_id: int) -> RepriceProposalRow:
    row = get_proposal(session, proposal_id=proposal_id, for_update=True)
    if row.status != ProposalStatus.PROPOSED:
        raise ProposalNotApplicable(
            f"proposal {proposal_id} is {row.status}",
            details={"proposal_id": proposal_id, "status": row.status},
        )
    return row


def apply_reprice(
    session: Session, *, proposal_id: int, actor: str = SYSTEM
) -> tuple[RepriceProposalRow, PriceChange | None]:
    """Set the proposed price. Refused when the proposal was decided already or proposes
    nothing (409 `reprice_proposal_not_applicable`), or when the SKU's price or cost moved
    since (409 `reprice_proposal_stale`: propose again)."""
    row = _open(session, proposal_id)
    if row.proposed_price is None:
        raise ProposalNotApplicable(
            "the proposal has no price: the margin band is empty at this cost",
            details={"proposal_id": proposal_id},
        )
    snap = _snapshots(session, [row.sku_id])[row.sku_id]
    if (snap.list_price, snap.cost) != (row.current_price, row.cost):
        raise ProposalStale(
            "the SKU's price or cost changed since the proposal",
            details={
                "proposal_id": proposal_id,
                "proposed_for": {"price": row.current_price, "cost": row.cost},
                "now": {"price": snap.list_price, "cost": snap.cost},
            },
        )
    why = "; ".join(r["text"] for r in row.reasons)
    change = set_list_price(
        session,
        sku_id=row.sku_id,
        price=row.proposed_price,
        actor=f"{actor} (repricing #{row.id})",
        reason=f"repricing proposal #{row.id}: {why}",
        min_margin_bp=int(row.inputs.get("min_margin_bp", rules.DEFAULT_MIN_MARGIN_BP)),
        max_margin_bp=int(row.inputs.get("max_margin_bp", rules.DEFAULT_MAX_MARGIN_BP)),
    )
    row.status = ProposalStatus.APPLIED
    row.decided_at = now(session)
    session.flush()
    return row, change


def dismiss_reprice(session: Session, *, proposal_id: int) -> RepriceProposalRow:
    row = _open(session, proposal_id)
    row.status = ProposalStatus.DISMISSED
    row.decided_at = now(session)
    session.flush()
    return row
