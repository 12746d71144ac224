"""Orders: search and filter, CSV/Excel export, order detail with its event timeline, and the
cancel, ship (fulfillment service) and refund (payments service) actions, each offered only in
the statuses where its service allows it (PII masked for roles that don't need it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.accounts.models import Role
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.fulfillment.service import list_carriers, ship_order
from shopops.money import parse_yuan
from shopops.orders.models import Order
from shopops.orders.rules import PAID_STATUSES, OrderStatus
from shopops.orders.service import cancel_order, get_order_by_number, list_orders, order_timeline
from shopops.payments.api import payment_gateway
from shopops.payments.service import refund_order
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf, mask_phone, mask_text
from shopops.web.export import table_response
from shopops.web.render import register_page, render

ROLES = register_page("/console/orders", "Orders", Role.OPERATOR, Role.AGENT, Role.ANALYST)
ACTION_ROLES = (Role.OPERATOR, Role.AGENT)
PAGE_SIZE = 50
CANCELLABLE = {OrderStatus.PENDING_PAYMENT.value}
# The state machine ships paid orders and what is left of partly refunded ones (not yet sent);
# refunds need money taken and not yet returned.
SHIPPABLE = {OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value}
REFUNDABLE = {s.value for s in PAID_STATUSES}
MAX_REASON = 150  # the payments service keeps 200, and the signature takes the rest
# Which form field a service refusal belongs next to (others are shown above the forms).
FIELD_OF_CODE = {
    "invalid_tracking_number": "tracking_number",
    "duplicate_tracking_number": "tracking_number",
    "unknown_carrier": "carrier",
    "carrier_inactive": "carrier",
    "no_carrier_rate": "carrier",
    "refund_exceeds_paid": "amount",
    "nothing_to_refund": "amount",
}


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


def _detail(
    request: Request, viewer: ConsoleViewer, number: str, status_code: int = 200, **extra: Any
) -> Response:
    extra.setdefault("reason", "")
    extra.setdefault("reason_error", None)
    extra.setdefault("action_error", None)
    extra.setdefault("form", {})
    extra.setdefault("errors", {})
    with session_scope(request.app.state.engine, readonly=True) as s:
        try:
            order = get_order_by_number(s, number=number, details=True)
        except ShopOpsError:
            return render(request, "error.html", viewer, 404, message="No such order.")
        lines = [(ln.title, ln.sku_code, ln.quantity, ln.unit_price) for ln in order.lines]
        events = [(e.occurred_at, e.name) for e in order_timeline(s, order_id=order.id)]
        acts = viewer.may(frozenset(ACTION_ROLES))
        can_ship = acts and order.status in SHIPPABLE and order.shipped_at is None
        refundable = order.paid_amount - order.refunded_amount
        return render(
            request,
            "order.html",
            viewer,
            status_code,
            order=order,
            address=_address(order, viewer),
            lines=lines,
            events=events,
            can_cancel=order.status in CANCELLABLE and acts,
            can_ship=can_ship,
            can_refund=acts and order.status in REFUNDABLE and refundable > 0,
            refundable=refundable,
            carriers=[(c.code, c.name) for c in list_carriers(s, active_only=True)]
            if can_ship
            else [],
            **extra,
        )


@router.get("/orders/{number}")
def order_detail(
    request: Request,
    number: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
) -> Response:
    return _detail(request, viewer, number)


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


def _refused(
    request: Request, viewer: ConsoleViewer, number: str, form: dict[str, str], exc: ShopOpsError
) -> Response:
    """The page again with the service's refusal next to its field (nothing was changed)."""
    field = FIELD_OF_CODE.get(exc.code)
    if field:
        return _detail(
            request, viewer, number, exc.status_code, form=form, errors={field: exc.message}
        )
    return _detail(request, viewer, number, exc.status_code, form=form, action_error=exc.message)


@router.post("/orders/{number}/ship")
def order_ship(
    request: Request,
    number: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    carrier: Annotated[str, Form(max_length=40)] = "",
    tracking_number: Annotated[str, Form(max_length=80)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"carrier": carrier, "tracking_number": tracking_number.strip()}
    if not carrier:
        errors = {"carrier": "Choose a carrier."}
        return _detail(request, viewer, number, 422, form=form, errors=errors)
    try:
        with session_scope(request.app.state.engine) as s:
            order = get_order_by_number(s, number=number)
            ship_order(
                s,
                order_id=order.id,
                carrier_code=carrier,
                # Blank: the carrier's format, a fresh number.
                tracking_number=form["tracking_number"] or None,
            )
    except ShopOpsError as exc:
        return _refused(request, viewer, number, form, exc)
    return RedirectResponse(f"/console/orders/{number}", status_code=303)


@router.post("/orders/{number}/refund")
def order_refund(
    request: Request,
    number: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ACTION_ROLES))],
    amount: Annotated[str, Form(max_length=40)] = "",
    refund_reason: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"amount": amount.strip(), "refund_reason": refund_reason.strip()}
    errors: dict[str, str] = {}
    fen = 0
    try:
        fen = parse_yuan(form["amount"])
    except ValueError:
        errors["amount"] = "Write the amount in yuan, e.g. 12.50."
    if not errors and fen <= 0:
        errors["amount"] = "The amount must be above 0."
    if not form["refund_reason"] or len(form["refund_reason"]) > MAX_REASON:
        errors["refund_reason"] = "Give a reason (1-150 characters)."
    if errors:
        return _detail(request, viewer, number, 422, form=form, errors=errors)
    try:
        with session_scope(request.app.state.engine) as s:
            order = get_order_by_number(s, number=number)
            refund_order(
                s,
                order_id=order.id,
                amount=fen,
                reason=f"{form['refund_reason']} (console: {viewer.username})",
                gateway=payment_gateway(request),
            )
    except ShopOpsError as exc:
        return _refused(request, viewer, number, form, exc)
    return RedirectResponse(f"/console/orders/{number}", status_code=303)
