"""Routes of inventory (back office): operators change stock, any staff reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from shopops.api.deps import Operator, SessionDep, Staff
from shopops.inventory import service
from shopops.inventory.models import MovementReason, ReservationStatus, StockLevel
from shopops.inventory.schemas import (
    AdjustmentCreate,
    MovementPage,
    MovementRead,
    PolicyRead,
    PolicyUpdate,
    ReceiptCreate,
    ReservationPage,
    ReservationRead,
    StockHealthPage,
    StockHealthRead,
    StockLevelPage,
    StockLevelRead,
    StockLevelRow,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)

router = APIRouter(tags=["inventory"])

IdFilter = Annotated[int | None, Query(gt=0)]
RefFilter = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _level(level: StockLevel) -> StockLevelRead:
    return StockLevelRead(
        id=level.id,
        sku_id=level.sku_id,
        warehouse_id=level.warehouse_id,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.on_hand - level.reserved,
    )


# ---- warehouses ------------------------------------------------------------------------------


@router.post("/admin/warehouses", status_code=status.HTTP_201_CREATED, response_model=WarehouseRead)
def create_warehouse(body: WarehouseCreate, session: SessionDep, _: Operator) -> WarehouseRead:
    return WarehouseRead.model_validate(service.create_warehouse(session, **body.model_dump()))


@router.get("/admin/warehouses", response_model=list[WarehouseRead])
def list_warehouses(
    session: SessionDep, _: Staff, active: bool | None = None
) -> list[WarehouseRead]:
    return [
        WarehouseRead.model_validate(w) for w in service.list_warehouses(session, active=active)
    ]


@router.patch("/admin/warehouses/{warehouse_id}", response_model=WarehouseRead)
def update_warehouse(
    warehouse_id: int, body: WarehouseUpdate, session: SessionDep, _: Operator
) -> WarehouseRead:
    row = service.update_warehouse(
        session, warehouse_id=warehouse_id, **body.model_dump(exclude_unset=True)
    )
    return WarehouseRead.model_validate(row)


# ---- stock -----------------------------------------------------------------------------------


@router.get("/admin/stock", response_model=StockLevelPage)
def list_stock(
    session: SessionDep,
    _: Staff,
    sku_id: IdFilter = None,
    warehouse_id: IdFilter = None,
    below_safety: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StockLevelPage:
    page = service.list_stock_levels(
        session,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        below_safety_only=below_safety,
        limit=limit,
        offset=offset,
    )
    return StockLevelPage(
        items=[StockLevelRow.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/admin/stock/health", response_model=StockHealthPage)
def stock_health(
    session: SessionDep,
    _: Staff,
    below_safety: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> StockHealthPage:
    page = service.stock_health(session, below_safety_only=below_safety, limit=limit, offset=offset)
    return StockHealthPage(
        items=[StockHealthRead.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/admin/stock/receipts", status_code=status.HTTP_201_CREATED, response_model=StockLevelRead
)
def receive_stock(body: ReceiptCreate, session: SessionDep, _: Operator) -> StockLevelRead:
    return _level(service.receive_stock(session, **body.model_dump()))


@router.post(
    "/admin/stock/adjustments", status_code=status.HTTP_201_CREATED, response_model=StockLevelRead
)
def adjust_stock(body: AdjustmentCreate, session: SessionDep, _: Operator) -> StockLevelRead:
    return _level(service.adjust_stock(session, **body.model_dump()))


@router.get("/admin/stock/movements", response_model=MovementPage)
def list_movements(
    session: SessionDep,
    _: Staff,
    sku_id: IdFilter = None,
    warehouse_id: IdFilter = None,
    reason: MovementReason | None = None,
    ref_type: RefFilter = None,
    ref_id: RefFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MovementPage:
    page = service.list_movements(
        session,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        reason=reason,
        ref_type=ref_type,
        ref_id=ref_id,
        limit=limit,
        offset=offset,
    )
    return MovementPage(
        items=[MovementRead.model_validate(m) for m in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/admin/stock/reservations", response_model=ReservationPage)
def list_reservations(
    session: SessionDep,
    _: Staff,
    ref_type: RefFilter = None,
    ref_id: RefFilter = None,
    sku_id: IdFilter = None,
    status: ReservationStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ReservationPage:
    page = service.list_reservations(
        session,
        ref_type=ref_type,
        ref_id=ref_id,
        sku_id=sku_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return ReservationPage(
        items=[ReservationRead.model_validate(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.put("/admin/stock/policies/{sku_id}", response_model=PolicyRead)
def set_policy(sku_id: int, body: PolicyUpdate, session: SessionDep, _: Operator) -> PolicyRead:
    policy = service.set_safety_stock(session, sku_id=sku_id, safety_stock=body.safety_stock)
    return PolicyRead.model_validate(policy)
