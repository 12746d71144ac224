"""Stock arriving and correcting: receipts, returns (restock) and adjustments."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.inventory.errors import (
    InvalidQuantity,
    NegativeStock,
    NoActiveWarehouse,
    StockBelowReserved,
)
from shopops.inventory.models import (
    MovementReason,
    StockLevel,
    StockMovement,
    Warehouse,
)
from shopops.inventory.rules import (
    MAX_QUANTITY,
    WarehouseChoice,
    adjustment_problem,
    pick_return_warehouse,
)
from shopops.inventory.service._common import (
    SYNC,
    check_note,
    check_quantity,
    check_ref,
    emit_change,
    movement_row,
    require_sku,
    require_warehouse,
)


def _upsert_on_hand(session: Session, *, sku_id: int, warehouse_id: int, delta: int) -> StockLevel:
    """on_hand += delta (delta > 0) in one statement, creating the stock row if needed."""
    dialect = session.get_bind().dialect.name
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ins = make_insert(StockLevel).values(
        sku_id=sku_id, warehouse_id=warehouse_id, on_hand=delta, reserved=0
    )
    stmt = ins.on_conflict_do_update(
        index_elements=[StockLevel.sku_id, StockLevel.warehouse_id],
        set_={"on_hand": StockLevel.on_hand + ins.excluded.on_hand},
    ).returning(StockLevel)
    return session.scalars(stmt, execution_options={"populate_existing": True}).one()


def _record(
    session: Session,
    level: StockLevel,
    *,
    reason: MovementReason,
    on_hand_delta: int,
    ref_type: str,
    ref_id: str,
    note: str = "",
) -> None:
    at = now(session)
    session.execute(
        insert(StockMovement),
        [
            movement_row(
                sku_id=level.sku_id,
                warehouse_id=level.warehouse_id,
                reason=reason,
                on_hand_delta=on_hand_delta,
                ref_type=ref_type,
                ref_id=ref_id,
                note=note,
                at=at,
            )
        ],
    )
    emit_change(
        session,
        sku_id=level.sku_id,
        warehouse_id=level.warehouse_id,
        reason=reason,
        on_hand_delta=on_hand_delta,
        reserved_delta=0,
        on_hand=level.on_hand,
        reserved=level.reserved,
        ref_type=ref_type,
        ref_id=ref_id,
        at=at,
    )


def receive_stock(
    session: Session,
    *,
    sku_id: int,
    warehouse_id: int,
    quantity: int,
    ref_type: str = "purchase",
    ref_id: str = "",
    note: str = "",
) -> StockLevel:
    """Goods arrived at an active warehouse: on_hand += quantity (a receipt movement)."""
    check_quantity(quantity, sku_id=sku_id)
    check_ref(ref_type, ref_id, require_id=False)
    check_note(note)
    require_sku(session, sku_id)
    require_warehouse(session, warehouse_id, active=True)
    level = _upsert_on_hand(session, sku_id=sku_id, warehouse_id=warehouse_id, delta=quantity)
    _record(
        session,
        level,
        reason=MovementReason.RECEIPT,
        on_hand_delta=quantity,
        ref_type=ref_type,
        ref_id=ref_id,
        note=note,
    )
    return level


# Built once: restock runs per returned line, and building the statement cost more than running it.
_RETURN_WAREHOUSES = (
    select(Warehouse.id, Warehouse.priority, StockLevel.id.is_not(None))
    .outerjoin(
        StockLevel,
        (StockLevel.warehouse_id == Warehouse.id) & (StockLevel.sku_id == bindparam("sku_id")),
    )
    .where(Warehouse.active.is_(True))
)


def restock(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    ref_type: str,
    ref_id: str,
    warehouse_id: int | None = None,
) -> None:
    """Returned units back on hand: to `warehouse_id`, or else the highest-priority active
    warehouse that stocks the SKU (any active one if none does)."""
    check_quantity(quantity, sku_id=sku_id)
    check_ref(ref_type, ref_id)
    require_sku(session, sku_id)
    if warehouse_id is None:
        rows = session.execute(_RETURN_WAREHOUSES, {"sku_id": sku_id})
        warehouse_id = pick_return_warehouse(WarehouseChoice(*r) for r in rows)
        if warehouse_id is None:
            raise NoActiveWarehouse(
                "no active warehouse to put returned stock in", details={"sku_id": sku_id}
            )
    else:
        require_warehouse(session, warehouse_id, active=True)
    level = _upsert_on_hand(session, sku_id=sku_id, warehouse_id=warehouse_id, delta=quantity)
    _record(
        session,
        level,
        reason=MovementReason.RETURN,
        on_hand_delta=quantity,
        ref_type=ref_type,
        ref_id=ref_id,
    )


def adjust_stock(
    session: Session, *, sku_id: int, warehouse_id: int, delta: int, note: str
) -> StockLevel:
    """Correct on_hand by `delta` (stocktake, damage); never below zero or below reserved."""
    if (
        isinstance(delta, bool)
        or not isinstance(delta, int)
        or delta == 0
        or abs(delta) > MAX_QUANTITY
    ):
        raise InvalidQuantity(
            f"delta must be a non-zero whole number within ±{MAX_QUANTITY}",
            details={"field": "delta", "value": delta, "sku_id": sku_id},
        )
    check_note(note)
    require_sku(session, sku_id)
    require_warehouse(session, warehouse_id)
    if delta > 0:
        level = _upsert_on_hand(session, sku_id=sku_id, warehouse_id=warehouse_id, delta=delta)
    else:
        level = session.scalars(
            update(StockLevel)
            .where(
                StockLevel.sku_id == sku_id,
                StockLevel.warehouse_id == warehouse_id,
                StockLevel.on_hand + delta >= StockLevel.reserved,
            )
            .values(on_hand=StockLevel.on_hand + delta)
            .returning(StockLevel),
            execution_options={"populate_existing": True, **SYNC},
        ).one_or_none()
        if level is None:
            _refuse_adjustment(session, sku_id=sku_id, warehouse_id=warehouse_id, delta=delta)
    assert level is not None
    _record(
        session,
        level,
        reason=MovementReason.ADJUSTMENT,
        on_hand_delta=delta,
        ref_type="adjustment",
        ref_id="",
        note=note,
    )
    return level


def _refuse_adjustment(session: Session, *, sku_id: int, warehouse_id: int, delta: int) -> None:
    row = session.execute(
        select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id
        )
    ).first()
    on_hand, reserved = (row.on_hand, row.reserved) if row else (0, 0)
    details = {
        "sku_id": sku_id,
        "warehouse_id": warehouse_id,
        "on_hand": on_hand,
        "reserved": reserved,
        "delta": delta,
    }
    if adjustment_problem(on_hand, reserved, delta) == "stock_below_reserved":
        raise StockBelowReserved(
            f"on hand would be {on_hand + delta}, below the {reserved} reserved for open orders",
            details=details,
        )
    raise NegativeStock(f"on hand would be {on_hand + delta}", details=details)
