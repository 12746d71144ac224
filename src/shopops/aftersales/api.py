"""Routes of the after-sales domain: shoppers request and ship back returns; staff work the
queue (approve, reject, receive)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from shopops.aftersales import service
from shopops.aftersales.rules import ReturnStatus
from shopops.aftersales.schemas import ReturnCreate, ReturnRead, ReturnReject, ReturnShip
from shopops.api.deps import OperatorOrAgent, SessionDep, Shopper, Staff
from shopops.payments.api import payment_gateway

router = APIRouter(tags=["aftersales"])


@router.post("/storefront/returns", response_model=ReturnRead, status_code=status.HTTP_201_CREATED)
def request_return(
    body: ReturnCreate, request: Request, session: SessionDep, who: Shopper
) -> ReturnRead:
    created = service.request_return(
        session,
        customer_id=int(who.customer_id or 0),
        order_number=body.order_number,
        kind=body.kind,
        no_reason=body.no_reason,
        reason=body.reason,
        lines=[(line.order_line_id, line.quantity) for line in body.lines],
        policy=service.ReturnPolicy.from_settings(request.app.state.settings),
    )
    return ReturnRead.model_validate(created)


@router.get("/storefront/returns", response_model=list[ReturnRead])
def my_returns(
    session: SessionDep,
    who: Shopper,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ReturnRead]:
    rows = service.list_returns(
        session, customer_id=int(who.customer_id or 0), limit=limit, offset=offset
    )
    return [ReturnRead.model_validate(r) for r in rows]


@router.post("/storefront/returns/{return_id}/ship", response_model=ReturnRead)
def ship_return(return_id: int, body: ReturnShip, session: SessionDep, who: Shopper) -> ReturnRead:
    shipped = service.ship_return(
        session,
        customer_id=int(who.customer_id or 0),
        return_id=return_id,
        carrier_code=body.carrier_code,
        tracking_number=body.tracking_number,
    )
    return ReturnRead.model_validate(shipped)


@router.get("/admin/returns", response_model=list[ReturnRead])
def return_queue(
    session: SessionDep,
    _: Staff,
    status_: Annotated[ReturnStatus | None, Query(alias="status")] = None,
    order_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ReturnRead]:
    rows = service.list_returns(
        session, status=status_, order_id=order_id, limit=limit, offset=offset
    )
    return [ReturnRead.model_validate(r) for r in rows]


@router.post("/admin/returns/{return_id}/approve", response_model=ReturnRead)
def approve(return_id: int, session: SessionDep, _: OperatorOrAgent) -> ReturnRead:
    return ReturnRead.model_validate(service.approve_return(session, return_id=return_id))


@router.post("/admin/returns/{return_id}/reject", response_model=ReturnRead)
def reject(
    return_id: int, body: ReturnReject, session: SessionDep, _: OperatorOrAgent
) -> ReturnRead:
    rejected = service.reject_return(session, return_id=return_id, reason=body.reason)
    return ReturnRead.model_validate(rejected)


@router.post("/admin/returns/{return_id}/receive", response_model=ReturnRead)
def receive(
    return_id: int, request: Request, session: SessionDep, _: OperatorOrAgent
) -> ReturnRead:
    received = service.receive_return(
        session, return_id=return_id, gateway=payment_gateway(request)
    )
    return ReturnRead.model_validate(received)
