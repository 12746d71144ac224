"""Orders: search and filter, CSV/Excel export, order detail with its event timeline, and the
cancel action through the orders service (PII masked for roles that don't need it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.accounts.models import Role
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.orders.models import Order
from shopops.orders.rules import OrderStatus
from shopops.orders.service import cancel_order, get_order_by_number, list_orders, order_timeline
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf, mask_phone, mask_text
from shopops.web.export import table_response
from shopops.web.render import register_page, render

ROLES = register_page("/console/orders", "Orders", Role.OPERATOR, Role.AGENT, Role.ANALYST)
ACTION_ROLES = (Role.OPERATOR, Role.AGENT)
PAGE_SIZE = 50
CANCELLABLE = {OrderStatus.PENDING_PAYMENT.value}


def _address(order: Order, viewer: ConsoleViewer) -> dict[str, str]:
    addr: dict[str, Any] = order.shipping_address or {}
    out = {k: str(v) for k, v in addr.items()}
    if not viewer.sees_pii:
        # Phone and street are personal data: masked unless the role serves customers.
        for key in list(out):
            if "phone" in key or key == "mobile":
                out[key] = mask_phone(out[key])
            elif key in ("name", "recipient", "street", "address", "detail", "line1", "line2"):
                out[key] = mask_text(out[key])
    return out


def _row(o: Order) -> list[Any]:
    placed = o.placed_at.isoformat(timespec="seconds")
    return [o.number, placed, o.status, o.channel, o.total, o.paid_amount, o.refunded_amount]


HEADER = ["number", "placed_at", "status", "channel", "total_fen", "paid_fen", "refunded_fen"]


@router.get("/orders")
def orders(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    status: Annotated[str | None, Query(max_length=24)] = None,
    number: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    statuses = [s.value for s in OrderStatus]
    error = None
    if status and status not in statuses:
        error, status = "Unknown status.", None
    limit = 10_000 if export else PAGE_SIZE
    with session_scope(request.app.state.engine, readonly=True) as s:
        rows, total = list_orders(
            s,
            status=status or None,
            number=(number or "").strip() or None,
            limit=limit,
            offset=0 if export else (page - 1) * PAGE_SIZE,
        )
        table = [_row(o) for o in rows]
    if export:
        return table_response("orders", export, HEADER, table)
    return render(
        request,
        "orders.html",
        viewer,
        rows=table,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        status=status,
        number=number or "",
        statuses=statuses,
        error=error,
    )


def _detail(request: Request, viewer: ConsoleViewer, number: str, **extra: Any) -> Response:
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            order = get_order_by_number(s, number=number, details=True)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such order.")
        lines = [(ln.title, ln.sku_code, ln.quantity, ln.unit_price) for ln in order.lines]
        events = [(e.occurred_at, e.name) for e in order_timeline(s, order_id=order.id)]
        return render(
            request,
            "order.html",
            viewer,
            order=order,
            address=_address(order, viewer),
            lines=lines,
            events=events,
            can_cancel=order.status in CANCELLABLE and viewer.may(frozenset(ACTION_ROLES)),
            **extra,
        )


@router.get("/orders/{number}")
def order_detail(
    request: Request,
    number: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
) -> Response:
    return _detail(request, viewer, number, reason="", reason_error=None, action_error=None)


@router.post("/orders/{number}/cancel")
def order_cancel(
    request: Request,
    number: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    reason: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    reason = reason.strip()
    if not reason or len(reason) > 100:
        return _detail(
            request,
            viewer,
            number,
            reason=reason,
            reason_error="Give a reason (1-100 characters).",
            action_error=None,
        )
    try:
        # The edge owns the transaction: a refused cancel rolls back and changes nothing.
        with session_scope(request.app.state.engine) as s:
            order = get_order_by_number(s, number=number)
            cancel_order(s, order_id=order.id, reason=reason)
    except ShopOpsError as exc:
        return _detail(
            request, viewer, number, reason=reason, reason_error=None, action_error=exc.message
        )
    return RedirectResponse(f"/console/orders/{number}", status_code=303)
