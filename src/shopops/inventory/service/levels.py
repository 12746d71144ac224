"""Reads of stock: available units, stock rows, SKU health against safety stock, the ledger;
and setting the safety-stock line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select, union
from sqlalchemy.orm import Session

from shopops.inventory.errors import (
    InvalidQuantity,
)
from shopops.inventory.models import (
    StockLevel,
    StockMovement,
    StockPolicy,
    Warehouse,
)
from shopops.inventory.rules import (
    MAX_QUANTITY,
    below_safety,
)
from shopops.inventory.service._common import Page, require_sku


@dataclass(frozen=True, slots=True)
class LevelRow:
    """A stock row with its SKU's safety line; `below_safety` is about the SKU's total."""

    id: int
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    sku_available: int
    below_safety: bool


@dataclass(frozen=True, slots=True)
class StockHealth:
    """A SKU's stock over its active warehouses against its safety-stock line."""

    sku_id: int
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    below_safety: bool


_SL, _WH = StockLevel.__table__.c, Warehouse.__table__.c


# Core (not ORM) and built once: the storefront's product page calls this on every view.
_AVAILABLE = (
    select(_SL.sku_id, func.sum(_SL.on_hand - _SL.reserved))
    .select_from(StockLevel.__table__.join(Warehouse.__table__, _WH.id == _SL.warehouse_id))
    .where(_SL.sku_id.in_(bindparam("sku_ids", expanding=True)), _WH.active.is_(True))
    .group_by(_SL.sku_id)
)


def available(session: Session, *, sku_ids: Sequence[int]) -> dict[int, int]:
    """Units each SKU can still sell (on_hand − reserved over active warehouses); one query.

    Every requested id is in the result; unknown or unstocked SKUs have 0.
    """
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    out = dict.fromkeys(ids, 0)
    for sku_id, units in session.execute(_AVAILABLE, {"sku_ids": ids}):
        out[sku_id] = int(units or 0)
    return out


def _sku_totals(sku_ids: Sequence[int] | None = None) -> Any:
    stmt = (
        select(
            StockLevel.sku_id.label("sku_id"),
            func.sum(StockLevel.on_hand).label("on_hand"),
            func.sum(StockLevel.reserved).label("reserved"),
        )
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.active.is_(True))
    )
    if sku_ids is not None:
        # Only the SKUs asked for: the totals of a few SKUs need not sum the whole table.
        stmt = stmt.where(StockLevel.sku_id.in_(sorted(set(sku_ids))))
    return stmt.group_by(StockLevel.sku_id).subquery("totals")


def list_stock_levels(
    session: Session,
    *,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    below_safety_only: bool = False,
    limit: int = 50,
    offset: int = 0,
    sku_ids: Sequence[int] | None = None,
) -> Page[LevelRow]:
    """Stock rows with their SKU's safety line; `below_safety_only` keeps SKUs under it;
    `sku_ids` keeps the rows of those SKUs (a product's, in one query)."""
    wanted = [sku_id] if sku_id is not None else None
    if sku_ids is not None:
        wanted = [k for k in sku_ids if wanted is None or k in wanted]
    totals = _sku_totals(wanted)
    sku_available = func.coalesce(totals.c.on_hand, 0) - func.coalesce(totals.c.reserved, 0)
    safety = func.coalesce(StockPolicy.safety_stock, 0)
    filters = []
    if wanted is not None:
        filters.append(StockLevel.sku_id.in_(sorted(set(wanted))))
    if warehouse_id is not None:
        filters.append(StockLevel.warehouse_id == warehouse_id)
    if below_safety_only:
        filters.append(sku_available < safety)
    base: Select[Any] = (
        select(
            StockLevel.id,
            StockLevel.sku_id,
            StockLevel.warehouse_id,
            StockLevel.on_hand,
            StockLevel.reserved,
            safety.label("safety_stock"),
            sku_available.label("sku_available"),
        )
        .outerjoin(totals, totals.c.sku_id == StockLevel.sku_id)
        .outerjoin(StockPolicy, StockPolicy.sku_id == StockLevel.sku_id)
        .where(*filters)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(StockLevel.sku_id, StockLevel.warehouse_id).limit(limit).offset(offset)
    )
    items = [
        LevelRow(
            id=r.id,
            sku_id=r.sku_id,
            warehouse_id=r.warehouse_id,
            on_hand=r.on_hand,
            reserved=r.reserved,
            available=r.on_hand - r.reserved,
            safety_stock=int(r.safety_stock),
            sku_available=int(r.sku_available),
            below_safety=below_safety(int(r.sku_available), int(r.safety_stock)),
        )
        for r in rows
    ]
    return Page(items, total, limit, offset)


def stock_health(
    session: Session,
    *,
    sku_ids: Sequence[int] | None = None,
    below_safety_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> Page[StockHealth]:
    """Per SKU (every SKU with stock rows or a safety line): on hand, reserved and available
    over active warehouses, the safety stock, and whether available is below it."""
    totals = _sku_totals()
    known = union(
        select(StockLevel.sku_id.label("sku_id")), select(StockPolicy.sku_id.label("sku_id"))
    ).subquery("known")
    on_hand = func.coalesce(totals.c.on_hand, 0)
    reserved = func.coalesce(totals.c.reserved, 0)
    safety = func.coalesce(StockPolicy.safety_stock, 0)
    filters = []
    if sku_ids is not None:
        filters.append(known.c.sku_id.in_(sorted(set(sku_ids))))
    if below_safety_only:
        filters.append(on_hand - reserved < safety)
    base: Select[Any] = (
        select(
            known.c.sku_id,
            on_hand.label("on_hand"),
            reserved.label("reserved"),
            safety.label("safety_stock"),
        )
        .outerjoin(totals, totals.c.sku_id == known.c.sku_id)
        .outerjoin(StockPolicy, StockPolicy.sku_id == known.c.sku_id)
        .where(*filters)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(known.c.sku_id).limit(limit).offset(offset))
    items = []
    for r in rows:
        oh, rs, ss = int(r.on_hand), int(r.reserved), int(r.safety_stock)
        items.append(StockHealth(r.sku_id, oh, rs, oh - rs, ss, below_safety(oh - rs, ss)))
    return Page(items, total, limit, offset)


def list_movements(
    session: Session,
    *,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    reason: str | None = None,
    ref_type: str | None = None,
    ref_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[StockMovement]:
    """The ledger, newest first."""
    filters = []
    if sku_id is not None:
        filters.append(StockMovement.sku_id == sku_id)
    if warehouse_id is not None:
        filters.append(StockMovement.warehouse_id == warehouse_id)
    if reason is not None:
        filters.append(StockMovement.reason == reason)
    if ref_type is not None:
        filters.append(StockMovement.ref_type == ref_type)
    if ref_id is not None:
        filters.append(StockMovement.ref_id == ref_id)
    total = session.scalar(select(func.count()).select_from(StockMovement).where(*filters)) or 0
    items = session.scalars(
        select(StockMovement)
        .where(*filters)
        .order_by(StockMovement.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page(list(items), total, limit, offset)


def set_safety_stock(session: Session, *, sku_id: int, safety_stock: int) -> StockPolicy:
    """Set the SKU's safety-stock warning line (0 turns the warning off)."""
    if isinstance(safety_stock, bool) or not 0 <= safety_stock <= MAX_QUANTITY:
        raise InvalidQuantity(
            f"safety_stock must be within 0..{MAX_QUANTITY}",
            details={"field": "safety_stock", "value": safety_stock},
        )
    require_sku(session, sku_id)
    policy = session.get(StockPolicy, sku_id)
    if policy is None:
        policy = StockPolicy(sku_id=sku_id, safety_stock=safety_stock)
        session.add(policy)
    else:
        policy.safety_stock = safety_stock
    session.flush()
    return policy
