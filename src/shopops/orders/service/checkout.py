"""Checkout: price a cart (preview) and place an order, idempotently, in a bounded number of
SQL statements (see tests/orders/test_service.py for the measured budget)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.inventory import service as inventory
from shopops.members import service as members
from shopops.orders import events, rules
from shopops.orders.errors import CartEmpty
from shopops.orders.models import (
    Cart,
    Order,
)
from shopops.orders.numbers import new_order_number
from shopops.orders.pricing import (
    MAX_COUPON_CODES,
    CartSnapshot,
    CheckoutPolicy,
    Offers,
    PricedCart,
    collect_discounts,
    price_cart,
    run_order_hooks,
)
from shopops.orders.rules import OrderStatus
from shopops.orders.service.cart import build_snapshot, load_cart
from shopops.orders.service.checkout_writes import (  # the package's own statements
    _KEY,
    _ORDER,
    _insert_lines,
    _insert_unless_taken,
    _persistent,
    _replayed,
    _write_events,
)

RESERVATION_REF = "order"
# Order-number clashes are rare (see numbers.py); a handful of attempts makes failure absurd.
NUMBER_ATTEMPTS = 5
MAX_IDEMPOTENCY_KEY = 128
MAX_NOTE = 500
MAX_CHANNEL = 32


def _requested(
    session: Session, *, customer_id: int, lines: Sequence[tuple[int, int]] | None
) -> tuple[list[tuple[int, int]], Cart | None]:
    """What the shopper buys: explicit lines (buy now), or the whole cart."""
    if lines is not None:
        merged = rules.merge_lines(lines)
        if not merged:
            raise CartEmpty("an order needs at least one line", details={"lines": []})
        return merged, None
    cart = load_cart(session, customer_id=customer_id)
    if cart is None or not cart.lines:
        raise CartEmpty("the cart is empty", details={"customer_id": customer_id})
    return [(line.sku_id, line.quantity) for line in cart.lines], cart


def _offers(coupon_codes: Sequence[str], points: int) -> Offers:
    codes = tuple(dict.fromkeys(c.strip() for c in coupon_codes if c.strip()))
    if len(codes) > MAX_COUPON_CODES or points < 0:
        raise InvalidInput(
            f"at most {MAX_COUPON_CODES} coupon codes, and points cannot be negative",
            details={"coupon_codes": len(codes), "points": points},
        )
    return Offers(coupon_codes=codes, points=points)


def _price(
    session: Session,
    snapshot: CartSnapshot,
    customer: object,
    policy: CheckoutPolicy,
    offers: Offers,
    *,
    batched: bool = False,
) -> PricedCart:
    discounts = collect_discounts(session, snapshot, customer, offers, batched=batched)  # type: ignore[arg-type]
    return price_cart(
        snapshot,
        discounts,
        free_shipping_threshold=policy.free_shipping_threshold,
        base_shipping_fee=policy.base_shipping_fee,
    )


def preview_checkout(
    session: Session,
    *,
    customer_id: int,
    lines: Sequence[tuple[int, int]] | None = None,
    channel: str = "storefront",
    coupon_codes: Sequence[str] = (),
    points: int = 0,
    policy: CheckoutPolicy | None = None,
) -> PricedCart:
    """What the cart (or the given lines) would cost now: lines, discounts, shipping, total.
    Writes nothing."""
    policy = policy or CheckoutPolicy()
    offers = _offers(coupon_codes, points)
    customer = members.get_customer(session, customer_id=customer_id)
    requested, _ = _requested(session, customer_id=customer_id, lines=lines)
    snapshot = build_snapshot(
        session, customer_id=customer_id, lines=requested, channel=channel, policy=policy
    )
    return _price(session, snapshot, customer, policy, offers)


def _scope(customer_id: int) -> str:
    return f"customer:{customer_id}"


def _order_values(
    *,
    customer_id: int,
    priced: PricedCart,
    address: dict[str, object],
    channel: str,
    note: str,
    placed_at: dt.datetime,
    expires_at: dt.datetime,
) -> dict[str, Any]:
    return {
        "number": new_order_number(placed_at),
        "customer_id": customer_id,
        "status": OrderStatus.PENDING_PAYMENT.value,
        "currency": "CNY",
        "channel": channel,
        "items_subtotal": priced.items_subtotal,
        "discount_total": priced.discount_total,
        "shipping_fee": priced.shipping_fee,
        "total": priced.total,
        "paid_amount": 0,
        "refunded_amount": 0,
        "shipping_address": address,
        "note": note,
        "cancel_reason": "",
        "resume_status": "",
        "placed_at": placed_at,
        "expires_at": expires_at,
        "paid_at": None,
        "shipped_at": None,
        "delivered_at": None,
        "completed_at": None,
        "cancelled_at": None,
    }


def place_order(
    session: Session,
    *,
    customer_id: int,
    address_id: int | None = None,
    lines: Sequence[tuple[int, int]] | None = None,
    idempotency_key: str | None = None,
    channel: str = "storefront",
    note: str = "",
    coupon_codes: Sequence[str] = (),
    points: int = 0,
    policy: CheckoutPolicy | None = None,
) -> Order:
    """Place an order from the cart (whose ordered lines are then removed) or from explicit
    `lines` (buy now: the cart is left alone), shipped to `address_id` or the default address.

    Stock is reserved (all or nothing: 409 `out_of_stock`) under `ref_type="order"`,
    `ref_id=str(order.id)` until `expires_at`; `order.created` is emitted. With an
    `idempotency_key`, the same request again returns the same order, never a second one.
    """
    policy = policy or CheckoutPolicy()
    offers = _offers(coupon_codes, points)
    if len(note) > MAX_NOTE or not 1 <= len(channel) <= MAX_CHANNEL:
        raise InvalidInput(
            f"the note has at most {MAX_NOTE} characters, the channel 1 to {MAX_CHANNEL}",
            details={"note_length": len(note), "channel": channel[:MAX_CHANNEL]},
        )
    scope = _scope(customer_id)
    request_hash = ""
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"an Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters",
                details={"idempotency_key": idempotency_key[:MAX_IDEMPOTENCY_KEY]},
            )
        request_hash = rules.request_fingerprint(
            address_id=address_id,
            lines=lines,
            channel=channel,
            note=note,
            coupon_codes=offers.coupon_codes,
            points=offers.points,
        )
        earlier = _replayed(session, scope=scope, key=idempotency_key, request_hash=request_hash)
        if earlier is not None:
            return earlier

    # Validate everything before writing anything.
    customer, address = members.get_customer_and_address(
        session, customer_id=customer_id, address_id=address_id
    )
    requested, cart = _requested(session, customer_id=customer_id, lines=lines)
    snapshot = build_snapshot(
        session, customer_id=customer_id, lines=requested, channel=channel, policy=policy
    )
    priced = _price(session, snapshot, customer, policy, offers)
    placed_at = now(session)

    values: dict[str, Any] = {
        "customer_id": customer_id,
        "priced": priced,
        "address": members.address_snapshot(address),
        "channel": channel,
        "note": note.strip(),
        "placed_at": placed_at,
        "expires_at": placed_at + dt.timedelta(minutes=policy.unpaid_order_timeout_minutes),
    }
    conn = session.connection()  # one look-up: the hot statements below all run on it
    for _attempt in range(NUMBER_ATTEMPTS):
        row = _order_values(**values)
        order_id = _insert_unless_taken(conn, _ORDER, row)
        if order_id is not None:
            break
    else:
        raise RuntimeError(f"no free order number after {NUMBER_ATTEMPTS} attempts")
    order = _persistent(session, Order, {"id": order_id, **row})
    if idempotency_key is not None:
        key_id = _insert_unless_taken(
            conn,
            _KEY,
            {
                "scope": scope,
                "key": idempotency_key,
                "request_hash": request_hash,
                "order_id": order.id,
                "created_at": placed_at,
            },
        )
        if key_id is None:
            # A concurrent request with this key committed first: undo ours, return its order.
            session.execute(
                delete(Order).where(Order.id == order.id),
                execution_options={"synchronize_session": False},
            )
            session.expunge(order)
            winner = _replayed(session, scope=scope, key=idempotency_key, request_hash=request_hash)
            assert winner is not None
            return winner
    _insert_lines(session, conn, order, priced)

    inventory.reserve(
        session,
        ref_type=RESERVATION_REF,
        ref_id=str(order.id),
        items=requested,
        expires_at=order.expires_at,
    )
    run_order_hooks(session, order, priced, offers)
    if cart is not None:
        ordered = {sku_id for sku_id, _ in requested}
        for line in [line for line in cart.lines if line.sku_id in ordered]:
            cart.lines.remove(line)
    extras = {
        item.sku_id: {"category_id": item.category_id, "brand_id": item.brand_id}
        for item in snapshot.items
    }
    emit(
        session,
        events.ORDER_CREATED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=order.id,
        payload=events.created(order, line_extras=extras),
        occurred_at=placed_at,
    )
    _write_events(session, conn)
    session.flush()  # whatever else the hooks and subscribers added
    return order
