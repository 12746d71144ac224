"""Supplier scorecards (on time, quality, price) and replenishment suggestions, computed by
the pure rules over facts read in a few queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shopops.aftersales import reads as aftersales_reads
from shopops.catalog import service as catalog_service
from shopops.inventory import service as inventory_service
from shopops.orders import service as orders_service
from shopops.purchasing.errors import InvalidPeriod
from shopops.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
    SupplierSku,
)
from shopops.purchasing.rules import (
    CostFact,
    PoStatus,
    ReceiptFact,
    SalesFact,
    Scorecard,
    Suggestion,
    scorecard,
    suggest,
)
from shopops.purchasing.service.orders import on_order
from shopops.purchasing.service.suppliers import preferred_suppliers


def _sales(
    session: Session, ids: list[int], since: dt.datetime | None, until: dt.datetime | None
) -> dict[int, list[SalesFact]]:
    """Per supplier, units sold and returned in the period of each SKU it supplies (asked of
    the orders and after-sales services, one read each)."""
    supplied = list(
        session.execute(
            select(SupplierSku.supplier_id, SupplierSku.sku_id).where(
                SupplierSku.supplier_id.in_(ids)
            )
        )
    )
    skus = sorted({sku for _, sku in supplied})
    sold = orders_service.units_sold(session, sku_ids=skus, since=since, until=until)
    back = aftersales_reads.units_returned(session, sku_ids=skus, since=since, until=until)
    out: dict[int, list[SalesFact]] = {i: [] for i in ids}
    for supplier, sku in supplied:
        if sold.get(sku) or back.get(sku):
            out[supplier].append(SalesFact(sold.get(sku, 0), back.get(sku, 0)))
    return out


def supplier_scorecards(
    session: Session,
    *,
    supplier_ids: Sequence[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[int, Scorecard]:
    """Every (or each named) supplier's scorecard; suppliers without orders get empty ones.

    Units bought are those ordered on sent orders (submitted, partly received, received) and
    those received on cancelled ones; the catalogue cost is the catalog's SKU cost. The return
    rate is over the SKUs the supplier supplies (a SKU two suppliers supply counts for both):
    units of returns and exchanges received in `[since, until)` / units on orders paid in it
    (all time when None); 422 `invalid_period` when `since` is not before `until`.
    """
    if since is not None and until is not None and since >= until:
        raise InvalidPeriod(
            "the period's start must be before its end 开始时间须早于结束时间",
            details={"since": since.isoformat(), "until": until.isoformat()},
        )
    ids_stmt = select(Supplier.id)
    if supplier_ids is not None:
        ids_stmt = ids_stmt.where(Supplier.id.in_(sorted(set(supplier_ids))))
    ids = list(session.scalars(ids_stmt.order_by(Supplier.id)))
    if not ids:
        return {}
    receipts: dict[int, list[ReceiptFact]] = {i: [] for i in ids}
    rows = session.execute(
        select(
            PurchaseOrder.supplier_id,
            PurchaseReceipt.received_at,
            PurchaseOrder.expected_at,
            func.sum(PurchaseReceiptLine.accepted),
            func.sum(PurchaseReceiptLine.rejected),
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseReceipt.order_id)
        .join(PurchaseReceiptLine, PurchaseReceiptLine.receipt_id == PurchaseReceipt.id)
        .where(PurchaseOrder.supplier_id.in_(ids))
        .group_by(
            PurchaseReceipt.id,
            PurchaseOrder.supplier_id,
            PurchaseReceipt.received_at,
            PurchaseOrder.expected_at,
        )
    )
    for supplier, received_at, expected_at, accepted, rejected in rows:
        receipts[supplier].append(
            ReceiptFact(received_at, expected_at, int(accepted or 0), int(rejected or 0))
        )
    bought = case(
        (
            PurchaseOrder.status == PoStatus.CANCELLED.value,
            PurchaseOrderLine.accepted + PurchaseOrderLine.rejected,
        ),
        else_=PurchaseOrderLine.quantity,
    )
    cost_rows = list(
        session.execute(
            select(
                PurchaseOrder.supplier_id,
                PurchaseOrderLine.sku_id,
                PurchaseOrderLine.unit_cost,
                func.sum(bought),
            )
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
            .where(
                PurchaseOrder.supplier_id.in_(ids),
                PurchaseOrder.status != PoStatus.DRAFT.value,
            )
            .group_by(
                PurchaseOrder.supplier_id, PurchaseOrderLine.sku_id, PurchaseOrderLine.unit_cost
            )
        )
    )
    catalogue = catalog_service.get_sellable_skus(session, sku_ids=[r[1] for r in cost_rows])
    costs: dict[int, list[CostFact]] = {i: [] for i in ids}
    for supplier, sku_id, unit_cost, units in cost_rows:
        snap = catalogue.get(sku_id)
        if snap is not None and units:
            costs[supplier].append(CostFact(int(units), unit_cost, snap.cost))
    sales = _sales(session, ids, since, until)
    return {i: scorecard(receipts[i], costs[i], sales[i]) for i in ids}


def replenishment_suggestions(
    session: Session,
    *,
    daily_sales: Mapping[int, float],
    roles: Sequence[str] = ("hit",),
    only_needed: bool = True,
) -> list[Suggestion]:
    """For SKUs of the given product roles (hits by default) among `daily_sales`' keys: the
    reorder point (daily sales × the preferred supplier's lead time + safety stock) and the
    units to order now, counting stock available and already on order."""
    skus = catalog_service.get_sellable_skus(session, sku_ids=list(daily_sales))
    ids = sorted(s for s, snap in skus.items() if snap.role in roles)
    terms = preferred_suppliers(session, sku_ids=ids)
    leads = {
        s.id: s.lead_time_days
        for s in session.scalars(
            select(Supplier).where(Supplier.id.in_({t.supplier_id for t in terms.values()}))
        )
    }
    stock = inventory_service.available(session, sku_ids=ids)
    coming = on_order(session, sku_ids=ids)
    out = []
    for sku in ids:
        lead = leads[terms[sku].supplier_id] if sku in terms else 7
        found = suggest(
            sku_id=sku,
            available=stock.get(sku, 0),
            on_order=coming.get(sku, 0),
            daily_sales=daily_sales[sku],
            lead_time_days=lead,
            role=skus[sku].role,
        )
        if found.quantity or not only_needed:
            out.append(found)
    return out
