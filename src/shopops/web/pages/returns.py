"""The returns queue: return and exchange requests by status (oldest first, as staff work
them), with approve / refuse / receive actions through the after-sales service. Receiving a
return puts the units back on hand and refunds them in the same transaction (the service's
received → refunded step); receiving an exchange records it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shopops.accounts.models import Role
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.rules import ReturnStatus
from shopops.aftersales.service import (
    MAX_PAGE,
    approve_return,
    count_returns,
    list_returns,
    receive_return,
    reject_return,
)
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.orders.service import order_numbers
from shopops.payments.api import payment_gateway
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.export import table_response
from shopops.web.pages.store_common import local_time
from shopops.web.render import register_page, render

ROLES = register_page("/console/returns", "Returns", Role.OPERATOR, Role.AGENT)
PAGE_SIZE = 30
MAX_EXPORT = 10_000
MAX_REASON = 200
STATUSES = [s.value for s in ReturnStatus]
# What staff can do in each status (the shopper ships an approved return back themselves).
ACTIONS = {
    ReturnStatus.REQUESTED.value: ("approve", "refuse"),
    ReturnStatus.IN_TRANSIT.value: ("receive",),
}
HEADER = [
    "return_id",
    "order_number",
    "customer_id",
    "kind",
    "status",
    "no_reason",
    "reason",
    "units",
    "requested_at",
    "decided_at",
    "received_at",
    "reject_reason",
    "refund_id",
]


def _rows(s: Session, requests: list[ReturnRequest], tz: str) -> list[dict[str, Any]]:
    numbers = order_numbers(s, order_ids=[r.order_id for r in requests])
    out = []
    for r in requests:
        out.append(
            {
                "id": r.id,
                "order_number": numbers[r.order_id],
                "customer_id": r.customer_id,
                "kind": r.kind,
                "status": r.status,
                "no_reason": r.no_reason,
                "reason": r.reason,
                "units": sum(line.quantity for line in r.lines),
                "requested_at": local_time(r.requested_at, tz),
                "decided_at": local_time(r.decided_at, tz),
                "received_at": local_time(r.received_at, tz),
                "reject_reason": r.reject_reason,
                "refund_id": r.refund_id,
                "actions": ACTIONS.get(r.status, ()),
            }
        )
    return out


def _page(
    request: Request,
    viewer: ConsoleViewer,
    status: str | None,
    page: int,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    extra.setdefault("row_errors", {})
    extra.setdefault("message", None)
    extra.setdefault("form", {})
    extra.setdefault("status_error", None)
    extra.setdefault("failed", None)
    with session_scope(request.app.state.engine, readonly=True) as s:
        counts = count_returns(s)
        total = counts[status] if status else sum(counts.values())
        found = list_returns(s, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows = _rows(s, found, request.app.state.settings.timezone)
    return render(
        request,
        "returns.html",
        viewer,
        status_code,
        rows=rows,
        counts=counts,
        total=total,
        status=status,
        statuses=STATUSES,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        **extra,
    )


@router.get("/returns")
def returns(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    status: Annotated[str | None, Query(max_length=24)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    export: Annotated[str | None, Query(pattern="^(csv|xlsx)$")] = None,
) -> Response:
    error = None
    if status and status not in STATUSES:
        error, status = "Unknown status.", None
    status = status or None
    if export:
        tz = request.app.state.settings.timezone
        table: list[list[Any]] = []
        with session_scope(request.app.state.engine, readonly=True) as s:
            # The service pages at MAX_PAGE; walk the pages for the whole filtered queue.
            while len(table) < MAX_EXPORT:
                chunk = list_returns(s, status=status, limit=MAX_PAGE, offset=len(table))
                table += [[r[k] for k in _keys()] for r in _rows(s, chunk, tz)]
                if len(chunk) < MAX_PAGE:
                    break
        return table_response(f"returns_{status or 'all'}", export, HEADER, table)
    return _page(request, viewer, status, page, 200 if error is None else 422, status_error=error)


def _keys() -> list[str]:
    return ["id" if h == "return_id" else h for h in HEADER]


@router.post("/returns/{return_id}/{action}")
def return_action(
    request: Request,
    return_id: int,
    action: str,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))],
    reason: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    check_csrf(request, csrf)
    back = status if status in STATUSES else None
    reason = reason.strip()
    if action not in ("approve", "refuse", "receive"):
        return _page(request, viewer, back, 1, 404, message="Unknown action.")
    if action == "refuse" and not 1 <= len(reason) <= MAX_REASON:
        errors = {return_id: "Say why (1-200 characters)."}
        return _page(request, viewer, back, 1, 422, row_errors=errors, form={return_id: reason})
    try:
        # One transaction per action: a refused move rolls back and changes nothing.
        with session_scope(request.app.state.engine) as s:
            if action == "approve":
                approve_return(s, return_id=return_id)
            elif action == "refuse":
                reject_return(s, return_id=return_id, reason=reason)
            else:
                receive_return(s, return_id=return_id, gateway=payment_gateway(request))
    except ShopOpsError as exc:
        return _page(
            request, viewer, back, 1, exc.status_code, message=exc.message, failed=return_id
        )
    target = "/console/returns" + (f"?status={back}" if back else "")
    return RedirectResponse(target, status_code=303)
