"""Routes of purchasing (back office): operators write, any staff reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from shopops.api.deps import Operator, SessionDep, Staff
from shopops.purchasing import service
from shopops.purchasing.rules import PoStatus, score
from shopops.purchasing.schemas import (
    CancelRequest,
    PurchaseOrderCreate,
    PurchaseOrderPage,
    PurchaseOrderRead,
    ReceiptCreate,
    ReceiptRead,
    ReceiptResult,
    ScorecardRead,
    SuggestionRead,
    SuggestionRequest,
    SupplierCosts,
    SupplierCreate,
    SupplierRead,
    SupplierSkuRead,
    SupplierUpdate,
)
from shopops.purchasing.service import LineSpec, ReceiptSpec

router = APIRouter(prefix="/purchasing", tags=["purchasing"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# ---- suppliers ------------------------------------------------------------------------------


@router.post("/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierRead)
def create_supplier(body: SupplierCreate, session: SessionDep, _: Operator) -> SupplierRead:
    return SupplierRead.model_validate(service.create_supplier(session, **body.model_dump()))


@router.get("/suppliers", response_model=list[SupplierRead])
def list_suppliers(session: SessionDep, _: Staff, active: bool | None = None) -> list[SupplierRead]:
    return [SupplierRead.model_validate(s) for s in service.list_suppliers(session, active=active)]


@router.get("/suppliers/{supplier_id}", response_model=SupplierRead)
def get_supplier(supplier_id: int, session: SessionDep, _: Staff) -> SupplierRead:
    return SupplierRead.model_validate(service.get_supplier(session, supplier_id=supplier_id))


@router.patch("/suppliers/{supplier_id}", response_model=SupplierRead)
def update_supplier(
    supplier_id: int, body: SupplierUpdate, session: SessionDep, _: Operator
) -> SupplierRead:
    row = service.update_supplier(
        session, supplier_id=supplier_id, **body.model_dump(exclude_unset=True)
    )
    return SupplierRead.model_validate(row)


@router.put("/suppliers/{supplier_id}/skus", response_model=list[SupplierSkuRead])
def set_supplier_costs(
    supplier_id: int, body: SupplierCosts, session: SessionDep, _: Operator
) -> list[SupplierSkuRead]:
    rows = service.set_supplier_costs(
        session,
        supplier_id=supplier_id,
        costs={i.sku_id: i.unit_cost for i in body.items},
        preferred=body.preferred,
    )
    return [SupplierSkuRead.model_validate(r) for r in rows]


@router.get("/suppliers/{supplier_id}/skus", response_model=list[SupplierSkuRead])
def list_supplier_skus(supplier_id: int, session: SessionDep, _: Staff) -> list[SupplierSkuRead]:
    service.get_supplier(session, supplier_id=supplier_id)
    rows = service.list_supplier_skus(session, supplier_id=supplier_id)
    return [SupplierSkuRead.model_validate(r) for r in rows]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Query times without a zone are read as UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


@router.get("/scorecards", response_model=list[ScorecardRead])
def scorecards(
    session: SessionDep,
    _: Staff,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[ScorecardRead]:
    """Every supplier's scorecard; `since`/`until` bound the return rate's sales and returns."""
    cards = service.supplier_scorecards(session, since=_utc(since), until=_utc(until))
    return [
        ScorecardRead(supplier_id=sid, score=score(card), **asdict(card))
        for sid, card in cards.items()
    ]


@router.post("/suggestions", response_model=list[SuggestionRead])
def suggestions(body: SuggestionRequest, session: SessionDep, _: Staff) -> list[SuggestionRead]:
    found = service.replenishment_suggestions(
        session, daily_sales=body.daily_sales, roles=tuple(body.roles)
    )
    return [SuggestionRead.model_validate(s) for s in found]


# ---- purchase orders ------------------------------------------------------------------------


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=PurchaseOrderRead)
def create_order(body: PurchaseOrderCreate, session: SessionDep, _: Operator) -> PurchaseOrderRead:
    po = service.create_purchase_order(
        session,
        supplier_id=body.supplier_id,
        warehouse_id=body.warehouse_id,
        lines=[LineSpec(ln.sku_id, ln.quantity, ln.unit_cost) for ln in body.lines],
        expected_at=body.expected_at,
        note=body.note,
        submit=body.submit,
    )
    return PurchaseOrderRead.model_validate(po)


@router.get("/orders", response_model=PurchaseOrderPage)
def list_orders(
    session: SessionDep,
    _: Staff,
    supplier_id: Annotated[int | None, Query(gt=0)] = None,
    status: PoStatus | None = None,
    sku_id: Annotated[int | None, Query(gt=0)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> PurchaseOrderPage:
    page = service.list_purchase_orders(
        session, supplier_id=supplier_id, status=status, sku_id=sku_id, limit=limit, offset=offset
    )
    return PurchaseOrderPage(
        items=[PurchaseOrderRead.model_validate(p) for p in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/orders/{po_id}", response_model=PurchaseOrderRead)
def get_order(po_id: int, session: SessionDep, _: Staff) -> PurchaseOrderRead:
    return PurchaseOrderRead.model_validate(service.get_purchase_order(session, po_id=po_id))


@router.post("/orders/{po_id}/submit", response_model=PurchaseOrderRead)
def submit_order(po_id: int, session: SessionDep, _: Operator) -> PurchaseOrderRead:
    return PurchaseOrderRead.model_validate(service.submit_purchase_order(session, po_id=po_id))


@router.post("/orders/{po_id}/cancel", response_model=PurchaseOrderRead)
def cancel_order(
    po_id: int, body: CancelRequest, session: SessionDep, _: Operator
) -> PurchaseOrderRead:
    po = service.cancel_purchase_order(session, po_id=po_id, reason=body.reason)
    return PurchaseOrderRead.model_validate(po)


@router.post(
    "/orders/{po_id}/receipts", status_code=status.HTTP_201_CREATED, response_model=ReceiptResult
)
def receive_order(
    po_id: int, body: ReceiptCreate, session: SessionDep, _: Operator
) -> ReceiptResult:
    receipt = service.receive_purchase_order(
        session,
        po_id=po_id,
        lines=[ReceiptSpec(ln.sku_id, ln.accepted, ln.rejected) for ln in body.lines],
        note=body.note,
    )
    po = service.get_purchase_order(session, po_id=po_id)
    return ReceiptResult(
        receipt=ReceiptRead.model_validate(receipt), order=PurchaseOrderRead.model_validate(po)
    )
