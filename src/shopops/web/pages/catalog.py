"""Catalog and stock: the product list (search, category / role / status filters, paging,
export), a product's edit form (title, role, listing status; SKU prices through the pricing
service, so the price history says who changed what and why), its stock per warehouse against
the safety line, stock adjustments through the inventory service (a ledger row each) and the
price history. Every write runs in one transaction: a refused field changes nothing at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shopops.accounts.models import Role
from shopops.catalog.models import ListingStatus, ProductRole
from shopops.catalog.rules import LISTING_TRANSITIONS
from shopops.catalog.service import (
    change_product_status,
    get_product,
    list_categories,
    list_products,
    update_product,
)
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.inventory.service import (
    adjust_stock,
    list_movements,
    list_stock_levels,
    list_warehouses,
)
from shopops.money import parse_yuan
from shopops.pricing.service import price_history, set_list_price
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.export import table_response
from shopops.web.i18n import Formatter
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/catalog", "Catalog & stock", Role.OPERATOR)
PAGE_SIZE = 30
MAX_EXPORT = 10_000
MAX_TITLE = 200
MAX_NOTE = 200
MAX_REASON = 150  # the ledger keeps 200 characters; the signature takes the rest
MAX_DELTA = 1_000_000
MAX_LEVELS = 1_000  # stock rows shown for one product (SKUs × warehouses)
STATUSES = [s.value for s in ListingStatus]
PRODUCT_ROLES = [r.value for r in ProductRole]
HEADER = ["product_id", "title", "category", "role", "status", "min_price_fen", "created_at"]
# Which field of the edit form a catalog or pricing refusal belongs next to.
FIELD_OF_CODE = {
    "illegal_listing_transition": "status",
    "no_active_sku": "status",
    "sku_unpriced": "status",
    "sku_below_cost": "status",
    "invalid_product_field": "title",
}


def _list_filters(
    q: str | None, category: str | None, role: str | None, status: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The service's filters and, per field, what is wrong with the query string."""
    out: dict[str, Any] = {"q": (q or "").strip()[:100] or None}
    errors: dict[str, str] = {}
    if category:
        if category.isdigit():
            out["category_id"] = int(category)
        else:
            errors["category"] = "Unknown category."
    if role:
        if role in PRODUCT_ROLES:
            out["role"] = role
        else:
            errors["role"] = "Unknown role."
    if status:
        if status in STATUSES:
            out["status"] = status
        else:
            errors["status"] = "Unknown status."
    return out, errors


@router.get("/catalog")
def catalog(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=12)] = None,
    role: Annotated[str | None, Query(max_length=24)] = None,
    status: Annotated[str | None, Query(max_length=24)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    filters, errors = _list_filters(q, category, role, status)
    tz = request.app.state.settings.timezone
    with session_scope(request.app.state.engine, readonly=True) as s:
        categories = {c.id: c.name for c in list_categories(s)}
        if filters.get("category_id") not in (None, *categories):
            errors["category"] = "Unknown category."
            filters.pop("category_id")
        limit = MAX_EXPORT if export else PAGE_SIZE
        offset = 0 if export else (page - 1) * PAGE_SIZE
        found = list_products(s, **filters, limit=limit, offset=offset)
    rows = [
        [
            p.id,
            p.title,
            categories.get(p.category_id, ""),
            p.role,
            p.status,
            p.price,
            local_time(p.created_at, tz),
        ]
        for p in found.items
    ]
    if export:
        return table_response("catalog_products", export, HEADER, rows)
    query = {
        "q": filters["q"] or "",
        "category": str(filters.get("category_id", "")),
        "role": filters.get("role", ""),
        "status": filters.get("status", ""),
    }
    return render(
        request,
        "catalog.html",
        viewer,
        422 if errors else 200,
        rows=rows,
        total=found.total,
        page=page,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        query=query,
        qs=urlencode(query),
        categories=sorted(categories.items(), key=lambda kv: kv[1]),
        roles=PRODUCT_ROLES,
        statuses=STATUSES,
        errors=errors,
    )


def _product_view(s: Session, product_id: int, tz: str) -> dict[str, Any]:
    """Everything the product page shows, read through the catalog, inventory and pricing."""
    product = get_product(s, product_id=product_id)
    warehouses = {w.id: f"{w.name} ({w.code})" for w in list_warehouses(s)}
    skus, levels, history, movements = [], [], [], []
    codes = {sku.id: sku.code for sku in product.skus}
    # One query for every SKU's rows (totals summed over these SKUs only).
    for lv in list_stock_levels(s, sku_ids=list(codes), limit=MAX_LEVELS).items:
        levels.append({"sku": codes[lv.sku_id], "sku_id": lv.sku_id, **_level(lv, warehouses)})
    for sku in product.skus:
        skus.append({"id": sku.id, "code": sku.code, "price": sku.list_price, "cost": sku.cost})
        for ch in price_history(s, sku_id=sku.id, limit=50):
            history.append(
                {
                    "sku": sku.code,
                    "at": local_time(ch.changed_at, tz),
                    "old": ch.old_price,
                    "new": ch.new_price,
                    "actor": ch.actor,
                    "reason": ch.reason,
                    "outside_band": ch.outside_band,
                    "price_list": ch.price_list_id,
                }
            )
        for mv in list_movements(s, sku_id=sku.id, limit=20).items:
            movements.append(
                {
                    "sku": sku.code,
                    "at": local_time(mv.created_at, tz),
                    "warehouse": warehouses.get(mv.warehouse_id, str(mv.warehouse_id)),
                    "reason": mv.reason,
                    "on_hand": mv.on_hand_delta,
                    "reserved": mv.reserved_delta,
                    "note": mv.note,
                }
            )
    history.sort(key=lambda h: h["at"], reverse=True)
    movements.sort(key=lambda m: m["at"], reverse=True)
    moves = sorted(LISTING_TRANSITIONS[ListingStatus(product.status)])
    return {
        "product": product,
        "skus": skus,
        "levels": levels,
        "history": history,
        "movements": movements[:30],
        "warehouses": sorted(warehouses.items()),
        "next_statuses": [product.status, *(m.value for m in moves)],
    }


def _level(lv: Any, warehouses: dict[int, str]) -> dict[str, Any]:
    return {
        "warehouse_id": lv.warehouse_id,
        "warehouse": warehouses.get(lv.warehouse_id, str(lv.warehouse_id)),
        "on_hand": lv.on_hand,
        "reserved": lv.reserved,
        "available": lv.available,
        "safety_stock": lv.safety_stock,
        "sku_available": lv.sku_available,
        "below_safety": lv.below_safety,
    }


def _figure(levels: list[dict[str, Any]], _: Callable[[str], str]) -> str:
    """Available units per SKU and warehouse, with each SKU's safety line."""
    by_wh: dict[str, dict[str, int]] = {}
    safety: dict[str, int] = {}
    for lv in levels:
        by_wh.setdefault(lv["warehouse"], {})[lv["sku"]] = lv["available"]
        safety[lv["sku"]] = lv["safety_stock"]
    skus = sorted(safety)
    data: list[dict[str, Any]] = [
        {"type": "bar", "name": wh, "x": skus, "y": [units.get(k, 0) for k in skus]}
        for wh, units in sorted(by_wh.items())
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": _("Safety stock"),
            "x": skus,
            "y": [safety[k] for k in skus],
        }
    )
    layout = {"barmode": "stack", "margin": {"t": 10, "l": 50, "r": 10, "b": 60}, "height": 280}
    figures = {"stock-chart": {"data": data, "layout": layout}} if skus else {}
    return json.dumps(figures, ensure_ascii=False).replace("</", "<\\/")


def _product_page(
    request: Request, viewer: ConsoleViewer, product_id: int, status_code: int = 200, **extra: Any
) -> Response:
    extra.setdefault("errors", {})
    extra.setdefault("form", {})
    extra.setdefault("stock_errors", {})
    extra.setdefault("stock", {})
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            view = _product_view(s, product_id, request.app.state.settings.timezone)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such product.")
        return render(
            request,
            "catalog_product.html",
            viewer,
            status_code,
            roles=PRODUCT_ROLES,
            figures=_figure(view["levels"], Formatter(viewer.locale).gettext),
            **view,
            **extra,
        )


@router.get("/catalog/{product_id}")
def product_page(
    request: Request,
    product_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    export: Annotated[str | None, Query(pattern="^(stock|prices|ledger)_(csv|xlsx)$")] = None,
) -> Response:
    if not export:
        return _product_page(request, viewer, product_id)
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            view = _product_view(s, product_id, request.app.state.settings.timezone)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such product.")
    table, fmt = export.split("_")
    if table == "stock":
        keys = ["sku", "warehouse", "on_hand", "reserved", "available", "safety_stock"]
        keys += ["below_safety"]
        rows = [[lv[k] for k in keys] for lv in view["levels"]]
    elif table == "ledger":
        keys = ["sku", "at", "warehouse", "reason", "on_hand", "reserved", "note"]
        rows = [[m[k] for k in keys] for m in view["movements"]]
    else:
        keys = ["sku", "at", "old", "new", "actor", "reason", "outside_band", "price_list"]
        rows = [[h[k] for k in keys] for h in view["history"]]
    return table_response(f"product_{product_id}_{table}", fmt, keys, rows)


def _edit_errors(
    form: FormData, skus: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse the edit form: the values to apply and, per field, what is wrong."""
    errors: dict[str, str] = {}
    title = str(form.get("title", "")).strip()
    if not 1 <= len(title) <= MAX_TITLE:
        errors["title"] = "A title has 1-200 characters."
    role = str(form.get("role", ""))
    if role not in PRODUCT_ROLES:
        errors["role"] = "Unknown role."
    status = str(form.get("status", ""))
    if status not in STATUSES:
        errors["status"] = "Unknown status."
    prices: dict[int, int] = {}
    for sku in skus:
        raw = str(form.get(f"price_{sku['id']}", "")).strip()
        if not raw:
            continue
        try:
            fen = parse_yuan(raw)
        except ValueError:
            errors[f"price_{sku['id']}"] = "Write the price in yuan, e.g. 59.90."
            continue
        if fen <= 0:
            errors[f"price_{sku['id']}"] = "The price must be above 0."
        elif fen != sku["price"]:
            prices[sku["id"]] = fen
    reason = str(form.get("price_reason", "")).strip()
    if len(reason) > MAX_NOTE:
        errors["price_reason"] = "At most 200 characters."
    elif prices and not reason:
        errors["price_reason"] = "Say why the price changes (the price history keeps it)."
    values = {"title": title, "role": role, "status": status, "prices": prices, "reason": reason}
    values["override"] = form.get("allow_outside_band") == "1"
    return values, errors


@router.post("/catalog/{product_id}")
async def product_edit(
    request: Request,
    product_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    echo = {k: str(v) for k, v in form.items() if k != "csrf"}
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            skus = _product_view(s, product_id, request.app.state.settings.timezone)["skus"]
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such product.")
    values, errors = _edit_errors(form, skus)
    if errors:
        return _product_page(request, viewer, product_id, 422, errors=errors, form=echo)
    field = "status"
    try:
        # One transaction: a refused price or status leaves the title and role unchanged too.
        with session_scope(request.app.state.engine) as s:
            product = update_product(
                s, product_id=product_id, title=values["title"], role=values["role"]
            )
            for sku_id, fen in values["prices"].items():
                field = f"price_{sku_id}"
                set_list_price(
                    s,
                    sku_id=sku_id,
                    price=fen,
                    actor=f"console:{viewer.username}",
                    reason=values["reason"],
                    allow_outside_band=values["override"],
                )
            field = "status"
            if values["status"] != product.status:
                change_product_status(s, product_id=product_id, status=values["status"])
    except ShopOpsError as exc:
        where = FIELD_OF_CODE.get(exc.code, field)
        return _product_page(
            request, viewer, product_id, exc.status_code, errors={where: exc.message}, form=echo
        )
    return RedirectResponse(f"/console/catalog/{product_id}?saved=1", status_code=303)


@router.post("/catalog/{product_id}/stock")
def stock_adjust(
    request: Request,
    product_id: int,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    target: Annotated[str, Form(max_length=40)] = "",
    delta: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    echo = {"target": target, "delta": delta, "note": note}
    errors: dict[str, str] = {}
    sku_id = warehouse_id = units = 0
    try:
        sku_text, wh_text = target.split(":")
        sku_id, warehouse_id = int(sku_text), int(wh_text)
    except ValueError:
        errors["target"] = "Choose a SKU and warehouse."
    try:
        units = int(delta.strip().replace("+", ""))
    except ValueError:
        errors["delta"] = "Write a whole number of units, e.g. 5 or -3."
    if "delta" not in errors and not 0 < abs(units) <= MAX_DELTA:
        errors["delta"] = "Not 0, and at most 1,000,000 units either way."
    note = note.strip()
    if not 1 <= len(note) <= MAX_REASON:
        errors["note"] = "Say why (1-150 characters): stocktake, damage…"
    if errors:
        return _product_page(request, viewer, product_id, 422, stock_errors=errors, stock=echo)
    try:
        with session_scope(request.app.state.engine) as s:
            # The SKU must belong to this product: the form names it, the URL scopes it.
            if sku_id not in {k.id for k in get_product(s, product_id=product_id).skus}:
                errors["target"] = "Choose a SKU and warehouse."
            else:
                adjust_stock(
                    s,
                    sku_id=sku_id,
                    warehouse_id=warehouse_id,
                    delta=units,
                    note=f"{note} (console: {viewer.username})"[:MAX_NOTE],
                )
    except ShopOpsError as exc:
        errors["delta"] = exc.message
        return _product_page(
            request, viewer, product_id, exc.status_code, stock_errors=errors, stock=echo
        )
    if errors:
        return _product_page(request, viewer, product_id, 422, stock_errors=errors, stock=echo)
    return RedirectResponse(f"/console/catalog/{product_id}?adjusted=1#stock", status_code=303)
