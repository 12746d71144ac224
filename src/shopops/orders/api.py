"""Routes of carts, checkout and orders: the shopper's side under /storefront, the back
office under /admin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from shopops.accounts.service import Principal
from shopops.api.deps import Operator, OperatorOrAgent, SessionDep, Shopper, Staff
from shopops.members import rules as member_rules
from shopops.orders import service
from shopops.orders.models import Order
from shopops.orders.pricing import CheckoutPolicy
from shopops.orders.rules import OrderStatus
from shopops.orders.schemas import (
    AdminOrderRead,
    CartLineInput,
    CartQuantity,
    CartRead,
    CheckoutPreview,
    CheckoutRequest,
    JobResult,
    OrderCancel,
    OrderCreate,
    OrderPage,
    OrderRead,
    OrderSummary,
    TimelineEntry,
)

router = APIRouter(tags=["orders"])


def shopper_id(principal: Principal) -> int:
    """The customer a storefront key acts for (storefront keys always have one)."""
    assert principal.customer_id is not None
    return principal.customer_id


def _policy(request: Request) -> CheckoutPolicy:
    return CheckoutPolicy.from_settings(request.app.state.settings)


Policy = Annotated[CheckoutPolicy, Depends(_policy)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


def _cart(session: SessionDep, customer_id: int) -> CartRead:
    return CartRead.of(service.view_cart(session, customer_id=customer_id))


# --- the shopper's cart ------------------------------------------------------------------------


@router.get("/storefront/cart", response_model=CartRead)
def read_cart(session: SessionDep, principal: Shopper) -> CartRead:
    return _cart(session, shopper_id(principal))


@router.post("/storefront/cart/lines", response_model=CartRead)
def add_to_cart(
    body: CartLineInput, session: SessionDep, principal: Shopper, policy: Policy
) -> CartRead:
    """Add a SKU; adding one already in the cart adds to its quantity."""
    customer_id = shopper_id(principal)
    service.add_to_cart(
        session,
        customer_id=customer_id,
        sku_id=body.sku_id,
        quantity=body.quantity,
        policy=policy,
    )
    return _cart(session, customer_id)


@router.patch("/storefront/cart/lines/{sku_id}", response_model=CartRead)
def set_cart_quantity(
    sku_id: int, body: CartQuantity, session: SessionDep, principal: Shopper, policy: Policy
) -> CartRead:
    customer_id = shopper_id(principal)
    service.set_cart_quantity(
        session, customer_id=customer_id, sku_id=sku_id, quantity=body.quantity, policy=policy
    )
    return _cart(session, customer_id)


@router.delete("/storefront/cart/lines/{sku_id}", response_model=CartRead)
def remove_from_cart(sku_id: int, session: SessionDep, principal: Shopper) -> CartRead:
    customer_id = shopper_id(principal)
    service.remove_from_cart(session, customer_id=customer_id, sku_id=sku_id)
    return _cart(session, customer_id)


@router.delete("/storefront/cart", status_code=status.HTTP_204_NO_CONTENT)
def clear_cart(session: SessionDep, principal: Shopper) -> Response:
    service.clear_cart(session, customer_id=shopper_id(principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- checkout and the shopper's orders ---------------------------------------------------------


@router.post("/storefront/checkout/preview", response_model=CheckoutPreview)
def preview_checkout(
    session: SessionDep,
    principal: Shopper,
    policy: Policy,
    body: CheckoutRequest | None = None,
) -> CheckoutPreview:
    """What the cart (or the given lines) costs now; nothing is reserved or written."""
    priced = service.preview_checkout(
        session,
        customer_id=shopper_id(principal),
        lines=body.pairs() if body is not None else None,
        coupon_codes=body.coupon_codes if body is not None else (),
        points=body.points if body is not None else 0,
        policy=policy,
    )
    return CheckoutPreview.of(priced)


@router.post("/storefront/orders", status_code=status.HTTP_201_CREATED, response_model=OrderRead)
def place_order(
    session: SessionDep,
    principal: Shopper,
    policy: Policy,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
    ] = None,
    body: OrderCreate | None = None,
) -> OrderRead:
    """Place an order. Send an `Idempotency-Key` to make retries safe: the same key and body
    return the same order; the same key with another body is 409 `idempotency_key_reused`."""
    body = body or OrderCreate()
    order = service.place_order(
        session,
        customer_id=shopper_id(principal),
        address_id=body.address_id,
        lines=body.pairs(),
        idempotency_key=idempotency_key,
        note=body.note,
        coupon_codes=body.coupon_codes,
        points=body.points,
        policy=policy,
    )
    return OrderRead.model_validate(order)


@router.get("/storefront/orders", response_model=OrderPage)
def list_my_orders(
    session: SessionDep,
    principal: Shopper,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> OrderPage:
    rows, total = service.list_orders(
        session, customer_id=shopper_id(principal), status=status_, limit=limit, offset=offset
    )
    items = [OrderSummary.model_validate(o) for o in rows]
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/storefront/orders/{number}", response_model=OrderRead)
def read_my_order(number: str, session: SessionDep, principal: Shopper) -> OrderRead:
    order = service.get_customer_order(session, customer_id=shopper_id(principal), number=number)
    return OrderRead.model_validate(order)


@router.post("/storefront/orders/{number}/cancel", response_model=OrderRead)
def cancel_my_order(number: str, session: SessionDep, principal: Shopper) -> OrderRead:
    """Cancel an unpaid order (a paid one is refunded through after-sales instead)."""
    order = service.cancel_customer_order(session, customer_id=shopper_id(principal), number=number)
    return OrderRead.model_validate(order)


@router.post("/storefront/orders/{number}/confirm-receipt", response_model=OrderRead)
def confirm_receipt(number: str, session: SessionDep, principal: Shopper) -> OrderRead:
    """确认收货: the shopper has the parcel; the order completes."""
    order = service.confirm_receipt(session, customer_id=shopper_id(principal), number=number)
    return OrderRead.model_validate(order)


# --- back office -------------------------------------------------------------------------------


def _admin_read(session: SessionDep, order: Order, principal: Principal) -> AdminOrderRead:
    read = AdminOrderRead(
        **OrderRead.model_validate(order).model_dump(),
        timeline=[
            TimelineEntry.model_validate(e)
            for e in service.order_timeline(session, order_id=order.id)
        ],
    )
    if not member_rules.sees_pii(principal.role.value):
        read.shipping_address = member_rules.mask_address(read.shipping_address)
    return read


@router.get("/admin/orders", response_model=OrderPage)
def list_orders(
    session: SessionDep,
    _: Staff,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    customer_id: Annotated[int | None, Query(gt=0)] = None,
    number: Annotated[str | None, Query(max_length=32)] = None,
    placed_from: dt.datetime | None = None,
    placed_to: dt.datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OrderPage:
    rows, total = service.list_orders(
        session,
        customer_id=customer_id,
        status=status_,
        number=number,
        placed_from=placed_from,
        placed_to=placed_to,
        limit=limit,
        offset=offset,
    )
    items = [OrderSummary.model_validate(o) for o in rows]
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/admin/orders/{order_id}", response_model=AdminOrderRead)
def read_order(order_id: int, session: SessionDep, principal: Staff) -> AdminOrderRead:
    """The order with lines, discounts and its timeline; the address masked for analysts."""
    order = service.get_order(session, order_id=order_id, details=True)
    return _admin_read(session, order, principal)


@router.post("/admin/orders/expire-unpaid", response_model=JobResult)
def expire_unpaid(
    session: SessionDep, _: Operator, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> JobResult:
    """Cancel orders unpaid past their deadline, releasing their stock."""
    return JobResult(processed=service.expire_unpaid_orders(session, limit=limit))


@router.post("/admin/orders/complete-delivered", response_model=JobResult)
def complete_delivered(
    request: Request,
    session: SessionDep,
    _: Operator,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> JobResult:
    """Complete orders delivered more than the shop's `auto_complete_days` ago."""
    days = request.app.state.settings.auto_complete_days
    return JobResult(processed=service.complete_delivered_orders(session, days=days, limit=limit))


@router.post("/admin/orders/{order_id}/cancel", response_model=AdminOrderRead)
def cancel_order(
    order_id: int, body: OrderCancel, session: SessionDep, principal: OperatorOrAgent
) -> AdminOrderRead:
    order = service.cancel_order(session, order_id=order_id, reason=body.reason)
    return _admin_read(session, order, principal)
