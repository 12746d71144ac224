"""Purchasing: suppliers with their scorecards (on time, quality rejects, cost against the
catalogue), purchase orders by status, and an order's page with its lines and a form to
receive a delivery (accepted and rejected units per SKU). A receipt runs in one transaction
through the purchasing service, so a refused line (more than outstanding) changes nothing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shopops.accounts.models import Role
from shopops.catalog.service import get_sellable_skus
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.inventory.service import list_warehouses
from shopops.purchasing.rules import MAX_QUANTITY, RECEIVABLE, PoStatus, score
from shopops.purchasing.service import (
    ReceiptSpec,
    get_purchase_order,
    get_supplier,
    list_purchase_orders,
    list_suppliers,
    receive_purchase_order,
    supplier_scorecards,
)
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.export import table_response
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/purchasing", "Purchasing", Role.OPERATOR)
PAGE_SIZE = 30
MAX_EXPORT = 10_000
MAX_NOTE = 150  # the receipt keeps 200 characters; the signature takes the rest
STATUSES = [s.value for s in PoStatus]
HEADER = ["number", "supplier", "warehouse", "status", "expected_at", "ordered", "received"]
HEADER += ["rejected", "total_cost_fen"]


def _suppliers(s: Session) -> list[dict[str, Any]]:
    cards = supplier_scorecards(s)
    out = []
    for sup in list_suppliers(s):
        card = cards.get(sup.id)
        out.append(
            {
                "id": sup.id,
                "code": sup.code,
                "name": sup.name,
                "contact": " ".join(x for x in (sup.contact_name, sup.contact_phone) if x),
                "lead_time_days": sup.lead_time_days,
                "vmi": sup.vmi,
                "rating": sup.rating,
                "active": sup.active,
                "score": score(card) if card else None,
                **(asdict(card) if card else {}),
            }
        )
    return out


def _order_row(po: Any, names: dict[int, str], warehouses: dict[int, str], tz: str) -> list[Any]:
    return [
        po.number,
        names.get(po.supplier_id, str(po.supplier_id)),
        warehouses.get(po.warehouse_id, str(po.warehouse_id)),
        po.status,
        local_time(po.expected_at, tz, "minutes"),
        sum(ln.quantity for ln in po.lines),
        sum(ln.accepted for ln in po.lines),
        sum(ln.rejected for ln in po.lines),
        sum(ln.quantity * ln.unit_cost for ln in po.lines),
        po.id,
    ]


@router.get("/purchasing")
def purchasing(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    status: Annotated[str | None, Query(max_length=24)] = None,
    supplier: Annotated[str | None, Query(max_length=12)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    if status:
        if status in STATUSES:
            filters["status"] = status
        else:
            errors["status"] = "Unknown status."
    tz = request.app.state.settings.timezone
    with session_scope(request.app.state.engine, readonly=True) as s:
        suppliers = _suppliers(s)
        names = {sup["id"]: sup["name"] for sup in suppliers}
        if supplier:
            if supplier.isdigit() and int(supplier) in names:
                filters["supplier_id"] = int(supplier)
            else:
                errors["supplier"] = "Unknown supplier."
        warehouses = {w.id: w.name for w in list_warehouses(s)}
        limit = MAX_EXPORT if export else PAGE_SIZE
        offset = 0 if export else (page - 1) * PAGE_SIZE
        found = list_purchase_orders(s, **filters, limit=limit, offset=offset)
        rows = [_order_row(po, names, warehouses, tz) for po in found.items]
    if export:
        return table_response("purchase_orders", export, HEADER, [r[:-1] for r in rows])
    query = {"status": filters.get("status", ""), "supplier": str(filters.get("supplier_id", ""))}
    return render(
        request,
        "purchasing.html",
        viewer,
        422 if errors else 200,
        suppliers=suppliers,
        rows=rows,
        total=found.total,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        query=query,
        qs=urlencode(query),
        statuses=STATUSES,
        errors=errors,
    )


def _order_view(s: Session, po_id: int, tz: str) -> dict[str, Any]:
    po = get_purchase_order(s, po_id=po_id)
    skus = get_sellable_skus(s, sku_ids=[ln.sku_id for ln in po.lines])
    supplier = get_supplier(s, supplier_id=po.supplier_id)
    warehouses = {w.id: w.name for w in list_warehouses(s)}
    lines = []
    for ln in po.lines:
        snap = skus.get(ln.sku_id)
        lines.append(
            {
                "sku_id": ln.sku_id,
                "code": snap.code if snap else str(ln.sku_id),
                "title": snap.title if snap else "",
                "quantity": ln.quantity,
                "accepted": ln.accepted,
                "rejected": ln.rejected,
                "outstanding": ln.quantity - ln.accepted - ln.rejected,
                "unit_cost": ln.unit_cost,
            }
        )
    return {
        "po": po,
        "supplier": supplier,
        "warehouse": warehouses.get(po.warehouse_id, str(po.warehouse_id)),
        "expected": local_time(po.expected_at, tz, "minutes"),
        "created": local_time(po.created_at, tz, "minutes"),
        "closed": local_time(po.closed_at, tz, "minutes"),
        "lines": lines,
        "total_cost": sum(ln["quantity"] * ln["unit_cost"] for ln in lines),
        "receivable": PoStatus(po.status) in RECEIVABLE,
    }


def _order_page(
    request: Request, viewer: ConsoleViewer, po_id: int, status_code: int = 200, **extra: Any
) -> Response:
    extra.setdefault("errors", {})
    extra.setdefault("form", {})
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            view = _order_view(s, po_id, request.app.state.settings.timezone)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such purchase order.")
        return render(request, "purchasing_order.html", viewer, status_code, **view, **extra)


@router.get("/purchasing/orders/{po_id}")
def order_page(
    request: Request,
    po_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
) -> Response:
    return _order_page(request, viewer, po_id)


def _units(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return 0
    if not text.isdigit() or int(text) > MAX_QUANTITY:
        return None
    return int(text)


@router.post("/purchasing/orders/{po_id}/receive")
async def order_receive(
    request: Request,
    po_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    echo = {k: str(v) for k, v in form.items() if k != "csrf"}
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            po = get_purchase_order(s, po_id=po_id)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such purchase order.")
        sku_ids = [ln.sku_id for ln in po.lines]
    errors: dict[str, str] = {}
    specs = []
    for sku_id in sku_ids:
        accepted = _units(echo.get(f"accepted_{sku_id}", ""))
        rejected = _units(echo.get(f"rejected_{sku_id}", ""))
        if accepted is None:
            errors[f"accepted_{sku_id}"] = "Write a whole number of units, e.g. 20."
        if rejected is None:
            errors[f"rejected_{sku_id}"] = "Write a whole number of units, e.g. 20."
        if accepted is not None and rejected is not None and (accepted or rejected):
            specs.append(ReceiptSpec(sku_id, accepted, rejected))
    note = echo.get("note", "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = "At most 150 characters."
    if not errors and not specs:
        errors["form"] = "Enter the units that arrived on at least one line."
    if errors:
        return _order_page(request, viewer, po_id, 422, errors=errors, form=echo)
    try:
        with session_scope(request.app.state.engine) as s:
            receive_purchase_order(
                s, po_id=po_id, lines=specs, note=f"{note} (console: {viewer.username})".strip()
            )
    except ShopOpsError as exc:
        where = f"accepted_{exc.details['sku_id']}" if "sku_id" in exc.details else "form"
        return _order_page(
            request, viewer, po_id, exc.status_code, errors={where: exc.message}, form=echo
        )
    return RedirectResponse(f"/console/purchasing/orders/{po_id}?received=1", status_code=303)
