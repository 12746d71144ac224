"""Purchase orders: create (draft), submit, cancel, read; what is on order per SKU."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopops.catalog import service as catalog_service
from shopops.db import now
from shopops.events import emit
from shopops.inventory import service as inventory_service
from shopops.purchasing import events
from shopops.purchasing.errors import (
    IllegalPurchaseOrderTransition,
    InvalidPurchasingField,
    SkuNotSupplied,
    SupplierInactive,
    UnknownSku,
)
from shopops.purchasing.models import PurchaseOrder, PurchaseOrderLine, SupplierSku
from shopops.purchasing.rules import RECEIVABLE, PoStatus, can_move, expected_arrival
from shopops.purchasing.service._common import (
    Page,
    check_cost,
    check_quantity,
    check_text,
    require_order,
    require_supplier,
)

MAX_LINES = 200


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line to order; `unit_cost` None takes the supplier's agreed cost."""

    sku_id: int
    quantity: int
    unit_cost: int | None = None


def po_number(po_id: int) -> str:
    return f"PO{po_id:08d}"


def _emit(session: Session, name: str, po: PurchaseOrder, at: dt.datetime) -> None:
    emit(
        session,
        name,
        aggregate_type=events.PO_AGGREGATE,
        aggregate_id=po.id,
        payload=events.order_payload(po),
        occurred_at=at,
    )


def create_purchase_order(
    session: Session,
    *,
    supplier_id: int,
    warehouse_id: int,
    lines: Sequence[LineSpec],
    expected_at: dt.datetime | None = None,
    note: str = "",
    submit: bool = False,
) -> PurchaseOrder:
    """A draft order to an active supplier for SKUs it supplies, into an active warehouse;
    expected by `expected_at` (default: now + the supplier's lead time). `submit` sends it."""
    supplier = require_supplier(session, supplier_id)
    if not supplier.active:
        raise SupplierInactive(
            f"supplier {supplier.code} is inactive", details={"supplier_id": supplier_id}
        )
    note = check_text(note, "note", high=200)
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidPurchasingField(
            f"an order has 1-{MAX_LINES} lines", details={"field": "lines", "value": len(lines)}
        )
    skus = [ln.sku_id for ln in lines]
    if len(set(skus)) != len(skus):
        raise InvalidPurchasingField("a SKU appears twice", details={"field": "lines"})
    for ln in lines:
        check_quantity(ln.quantity)
        if ln.unit_cost is not None:
            check_cost(ln.unit_cost)
    if expected_at is not None and expected_at.tzinfo is None:
        raise InvalidPurchasingField(
            "expected_at needs a time zone", details={"field": "expected_at"}
        )
    inventory_service.get_warehouse(session, warehouse_id=warehouse_id)
    known = catalog_service.get_sellable_skus(session, sku_ids=skus)
    missing = sorted(set(skus) - set(known))
    if missing:
        raise UnknownSku(f"no SKU {missing[0]}", details={"sku_ids": missing})
    terms = {
        r.sku_id: r.unit_cost
        for r in session.scalars(
            select(SupplierSku).where(
                SupplierSku.supplier_id == supplier_id, SupplierSku.sku_id.in_(skus)
            )
        )
    }
    unsupplied = sorted(set(skus) - set(terms))
    if unsupplied:
        raise SkuNotSupplied(
            f"supplier {supplier.code} does not supply SKU {unsupplied[0]}",
            details={"supplier_id": supplier_id, "sku_ids": unsupplied},
        )
    at = now(session)
    po = PurchaseOrder(
        # A unique stand-in until the id gives the number.
        number=uuid.uuid4().hex[:32],
        supplier_id=supplier_id,
        warehouse_id=warehouse_id,
        status=PoStatus.DRAFT,
        expected_at=expected_at or expected_arrival(at, supplier.lead_time_days),
        note=note,
        created_at=at,
    )
    po.lines = [
        PurchaseOrderLine(
            sku_id=ln.sku_id,
            quantity=ln.quantity,
            unit_cost=terms[ln.sku_id] if ln.unit_cost is None else ln.unit_cost,
            accepted=0,
            rejected=0,
        )
        for ln in sorted(lines, key=lambda x: x.sku_id)
    ]
    session.add(po)
    session.flush()
    po.number = po_number(po.id)
    if submit:
        # Sent at once: the new row is ours alone, so no locked re-read (one UPDATE for both).
        po.status, po.submitted_at = PoStatus.SUBMITTED.value, at
    session.flush()
    if submit:
        _emit(session, events.PO_SUBMITTED, po, at)
    return po


def _move(session: Session, po: PurchaseOrder, target: PoStatus) -> None:
    if not can_move(po.status, target):
        raise IllegalPurchaseOrderTransition(
            f"a {po.status} purchase order cannot become {target.value}",
            details={"purchase_order_id": po.id, "status": po.status, "target": target.value},
        )
    po.status = target


def submit_purchase_order(session: Session, *, po_id: int) -> PurchaseOrder:
    """Send a draft to the supplier: from now on goods may be received against it."""
    po = require_order(session, po_id, for_update=True)
    _move(session, po, PoStatus.SUBMITTED)
    at = now(session)
    po.submitted_at = at
    session.flush()
    _emit(session, events.PO_SUBMITTED, po, at)
    return po


def cancel_purchase_order(session: Session, *, po_id: int, reason: str = "") -> PurchaseOrder:
    """Cancel an open order; a partly received one is closed short (what came stays)."""
    reason = check_text(reason, "reason", high=200)
    po = require_order(session, po_id, for_update=True)
    _move(session, po, PoStatus.CANCELLED)
    at = now(session)
    po.closed_at = at
    if reason:
        po.note = (f"{po.note} · " if po.note else "") + reason
        po.note = po.note[:200]
    session.flush()
    _emit(session, events.PO_CANCELLED, po, at)
    return po


def get_purchase_order(session: Session, *, po_id: int) -> PurchaseOrder:
    return require_order(session, po_id)


def list_purchase_orders(
    session: Session,
    *,
    supplier_id: int | None = None,
    status: str | None = None,
    sku_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[PurchaseOrder]:
    """Orders, newest first, with their lines."""
    filters = []
    if supplier_id is not None:
        filters.append(PurchaseOrder.supplier_id == supplier_id)
    if status is not None:
        if status not in {s.value for s in PoStatus}:
            raise InvalidPurchasingField(
                f"unknown status {status!r}", details={"field": "status", "value": status}
            )
        filters.append(PurchaseOrder.status == status)
    if sku_id is not None:
        filters.append(
            PurchaseOrder.id.in_(
                select(PurchaseOrderLine.order_id).where(PurchaseOrderLine.sku_id == sku_id)
            )
        )
    total = session.scalar(select(func.count()).select_from(PurchaseOrder).where(*filters)) or 0
    items = session.scalars(
        select(PurchaseOrder)
        .where(*filters)
        .options(selectinload(PurchaseOrder.lines))
        .order_by(PurchaseOrder.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page(list(items), total, limit, offset)


def on_order(session: Session, *, sku_ids: Sequence[int]) -> dict[int, int]:
    """Units still outstanding on open (submitted or partly received) orders, per SKU."""
    ids = sorted(set(sku_ids))
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    outstanding = PurchaseOrderLine.quantity - PurchaseOrderLine.accepted
    rows = session.execute(
        select(PurchaseOrderLine.sku_id, func.sum(outstanding - PurchaseOrderLine.rejected))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(
            PurchaseOrderLine.sku_id.in_(ids),
            PurchaseOrder.status.in_([s.value for s in RECEIVABLE]),
        )
        .group_by(PurchaseOrderLine.sku_id)
    )
    for sku, units in rows:
        out[sku] = int(units or 0)
    return out
