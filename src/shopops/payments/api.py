"""Routes of the payments domain: pay (shopper), gateway callbacks (signed, public), payment
lists and completion rates, refunds (back office).

The gateway is `app.state.payment_gateway` when set (tests and the simulator inject a seeded
one), otherwise a simulated gateway built from the app's settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from shopops.api.deps import Analyst, OperatorOrAgent, SessionDep, Shopper, Staff
from shopops.payments import service
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.models import PaymentChannel, PaymentStatus
from shopops.payments.schemas import (
    ChannelCompletionRead,
    CompletionRead,
    GatewayCallback,
    PaymentCreate,
    PaymentRead,
    RefundCreate,
    RefundRead,
)

router = APIRouter(tags=["payments"])


def payment_gateway(request: Request) -> SimulatedGateway:
    """The app's gateway: the injected one (tests, simulator) or one from its settings."""
    injected = getattr(request.app.state, "payment_gateway", None)
    return injected or SimulatedGateway.from_settings(request.app.state.settings)


@router.post(
    "/storefront/orders/{number}/payments",
    response_model=PaymentRead,
    status_code=status.HTTP_201_CREATED,
)
def pay(
    number: str, body: PaymentCreate, request: Request, session: SessionDep, who: Shopper
) -> PaymentRead:
    """One payment attempt on one of the shopper's own orders; `status` tells the outcome."""
    payment = service.pay_customer_order(
        session,
        customer_id=int(who.customer_id or 0),
        order_number=number,
        channel=body.channel,
        gateway=payment_gateway(request),
    )
    return PaymentRead.model_validate(payment)


@router.post("/payments/callback", response_model=PaymentRead)
def callback(body: GatewayCallback, request: Request, session: SessionDep) -> PaymentRead:
    """The provider's signed notification (public; 401 `bad_signature` unless signed)."""
    fields = body.model_dump(exclude={"signature"}, exclude_none=True)
    payment = service.receive_callback(
        session,
        fields=fields,
        signature=body.signature,
        secret=request.app.state.settings.gateway_secret,
        gateway=payment_gateway(request),
    )
    return PaymentRead.model_validate(payment)


@router.get("/admin/payments", response_model=list[PaymentRead])
def list_payments(
    session: SessionDep,
    _: Staff,
    channel: PaymentChannel | None = None,
    status_: Annotated[PaymentStatus | None, Query(alias="status")] = None,
    order_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PaymentRead]:
    rows = service.list_payments(
        session, channel=channel, status=status_, order_id=order_id, limit=limit, offset=offset
    )
    return [PaymentRead.model_validate(r) for r in rows]


@router.get("/admin/payments/completion", response_model=CompletionRead)
def completion(
    request: Request,
    session: SessionDep,
    _: Analyst,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> CompletionRead:
    """Payment success rate per channel over days in the shop's time zone (inclusive)."""
    rows = service.completion_by_channel(
        session,
        date_from=date_from,
        date_to=date_to,
        timezone=request.app.state.settings.timezone,
    )
    attempts = sum(r.attempts for r in rows)
    successes = sum(r.successes for r in rows)
    return CompletionRead(
        date_from=date_from,
        date_to=date_to,
        attempts=attempts,
        successes=successes,
        rate=service.ChannelCompletion("all", attempts, successes).rate,
        channels=[
            ChannelCompletionRead(
                channel=r.channel, attempts=r.attempts, successes=r.successes, rate=r.rate
            )
            for r in rows
        ],
    )


@router.post(
    "/admin/orders/{order_id}/refunds",
    response_model=RefundRead,
    status_code=status.HTTP_201_CREATED,
)
def create_refund(
    order_id: int, body: RefundCreate, request: Request, session: SessionDep, _: OperatorOrAgent
) -> RefundRead:
    refund = service.refund_order(
        session,
        order_id=order_id,
        lines=[(line.order_line_id, line.quantity) for line in body.lines],
        amount=body.amount,
        include_shipping=body.include_shipping,
        reason=body.reason,
        gateway=payment_gateway(request),
    )
    return RefundRead.model_validate(refund)


@router.get("/admin/orders/{order_id}/refunds", response_model=list[RefundRead])
def list_refunds(order_id: int, session: SessionDep, _: Staff) -> list[RefundRead]:
    return [RefundRead.model_validate(r) for r in service.list_refunds(session, order_id=order_id)]
