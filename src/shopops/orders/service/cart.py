"""The shopper's cart: add (merging quantities), set a quantity, remove, clear, view; and the
SKU checks that checkout shares (known, listed, quantity within bounds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from shopops.catalog import service as catalog
from shopops.db import now
from shopops.inventory import service as inventory
from shopops.orders.errors import (
    CartFull,
    CartLineNotFound,
    QuantityOutOfRange,
    SkuNotSellable,
    UnknownSku,
)
from shopops.orders.models import Cart, CartLine
from shopops.orders.pricing import CartItem, CartSnapshot, CheckoutPolicy


@dataclass(frozen=True, slots=True)
class CartLineView:
    sku_id: int
    quantity: int
    product_id: int | None
    sku_code: str
    title: str
    attributes: dict[str, Any]
    unit_price: int
    subtotal: int
    listed: bool
    available: int


@dataclass(frozen=True, slots=True)
class CartView:
    """The cart as the shopper sees it: current prices, whether each SKU can still be bought
    and how many units are available."""

    customer_id: int
    lines: tuple[CartLineView, ...]
    items_subtotal: int
    updated_at: dt.datetime | None


def check_quantity(sku_id: int, quantity: int, policy: CheckoutPolicy) -> None:
    """1 ≤ quantity ≤ the policy's maximum per line, or 422 `quantity_out_of_range`."""
    if not 1 <= quantity <= policy.max_line_quantity:
        raise QuantityOutOfRange(
            f"quantity must be between 1 and {policy.max_line_quantity}",
            details={"sku_id": sku_id, "quantity": quantity, "max": policy.max_line_quantity},
        )


def sellable_skus(session: Session, *, sku_ids: Sequence[int]) -> dict[int, Any]:
    """Catalog snapshots of SKUs that exist and are on sale (one query), or a typed error
    naming the ones that are not: 404 `unknown_sku`, 409 `sku_not_sellable`."""
    found = catalog.get_sellable_skus(session, sku_ids=sku_ids)
    check_sellable(sku_ids, found)
    return found


def check_sellable(sku_ids: Sequence[int], found: Mapping[int, Any]) -> None:
    """Every SKU of `sku_ids` is among the catalog snapshots `found` and on sale, or 404
    `unknown_sku` / 409 `sku_not_sellable` naming the ones that are not."""
    missing = [s for s in sku_ids if s not in found]
    if missing:
        raise UnknownSku(f"no SKU {missing[0]}", details={"sku_ids": missing})
    unlisted = [s for s in sku_ids if not found[s].listed]
    if unlisted:
        raise SkuNotSellable(f"SKU {unlisted[0]} is not on sale", details={"sku_ids": unlisted})


def check_lines(lines: Sequence[tuple[int, int]], policy: CheckoutPolicy) -> None:
    """The line count and every quantity are within the policy (422 `cart_full`,
    `quantity_out_of_range`)."""
    if len(lines) > policy.max_cart_lines:
        raise CartFull(
            f"at most {policy.max_cart_lines} lines per order",
            details={"lines": len(lines), "max": policy.max_cart_lines},
        )
    for sku_id, quantity in lines:
        check_quantity(sku_id, quantity, policy)


def snapshot_of(
    *,
    customer_id: int,
    lines: Sequence[tuple[int, int]],
    skus: Mapping[int, Any],
    channel: str,
) -> CartSnapshot:
    """The lines priced at the catalog's prices of `skus` (snapshots already checked)."""
    items = tuple(
        CartItem(
            sku_id=sku_id,
            product_id=skus[sku_id].product_id,
            category_id=skus[sku_id].category_id,
            brand_id=skus[sku_id].brand_id,
            sku_code=skus[sku_id].code,
            title=skus[sku_id].title,
            unit_price=skus[sku_id].list_price,
            unit_cost=skus[sku_id].cost,
            quantity=quantity,
            attributes=dict(skus[sku_id].attributes or {}),
            role=str(skus[sku_id].role or ""),
            weight_grams=skus[sku_id].weight_grams,
        )
        for sku_id, quantity in lines
    )
    return CartSnapshot(customer_id=customer_id, items=items, channel=channel)


def build_snapshot(
    session: Session,
    *,
    customer_id: int,
    lines: Sequence[tuple[int, int]],
    channel: str,
    policy: CheckoutPolicy,
) -> CartSnapshot:
    """Check the lines (count, quantities, SKUs) and price them at the catalog's prices."""
    check_lines(lines, policy)
    skus = sellable_skus(session, sku_ids=[sku_id for sku_id, _ in lines])
    return snapshot_of(customer_id=customer_id, lines=lines, skus=skus, channel=channel)


def load_cart(session: Session, *, customer_id: int) -> Cart | None:
    """The customer's cart with its lines (one query), or None if they never had one."""
    stmt = select(Cart).where(Cart.customer_id == customer_id).options(joinedload(Cart.lines))
    return session.execute(stmt).unique().scalar_one_or_none()


def _cart_for_update(session: Session, *, customer_id: int) -> Cart:
    cart = load_cart(session, customer_id=customer_id)
    if cart is None:
        cart = Cart(customer_id=customer_id, updated_at=now(session), lines=[])
        session.add(cart)
    return cart


def _line(cart: Cart, sku_id: int) -> CartLine | None:
    return next((line for line in cart.lines if line.sku_id == sku_id), None)


def add_to_cart(
    session: Session,
    *,
    customer_id: int,
    sku_id: int,
    quantity: int,
    policy: CheckoutPolicy | None = None,
) -> Cart:
    """Add units of a SKU on sale; a SKU already in the cart gets the quantities added."""
    policy = policy or CheckoutPolicy()
    check_quantity(sku_id, quantity, policy)
    sellable_skus(session, sku_ids=[sku_id])
    cart = _cart_for_update(session, customer_id=customer_id)
    line = _line(cart, sku_id)
    if line is not None:
        check_quantity(sku_id, line.quantity + quantity, policy)
        line.quantity += quantity
    else:
        if len(cart.lines) >= policy.max_cart_lines:
            raise CartFull(
                f"the cart holds at most {policy.max_cart_lines} lines",
                details={"max": policy.max_cart_lines},
            )
        cart.lines.append(CartLine(sku_id=sku_id, quantity=quantity))
    cart.updated_at = now(session)
    session.flush()
    return cart


def set_cart_quantity(
    session: Session,
    *,
    customer_id: int,
    sku_id: int,
    quantity: int,
    policy: CheckoutPolicy | None = None,
) -> Cart:
    """Set the quantity of a SKU already in the cart (remove it with `remove_from_cart`)."""
    policy = policy or CheckoutPolicy()
    check_quantity(sku_id, quantity, policy)
    cart = load_cart(session, customer_id=customer_id)
    line = _line(cart, sku_id) if cart is not None else None
    if cart is None or line is None:
        raise CartLineNotFound(f"SKU {sku_id} is not in the cart", details={"sku_id": sku_id})
    line.quantity = quantity
    cart.updated_at = now(session)
    session.flush()
    return cart


def remove_from_cart(session: Session, *, customer_id: int, sku_id: int) -> Cart:
    """Take a SKU out of the cart."""
    cart = load_cart(session, customer_id=customer_id)
    line = _line(cart, sku_id) if cart is not None else None
    if cart is None or line is None:
        raise CartLineNotFound(f"SKU {sku_id} is not in the cart", details={"sku_id": sku_id})
    cart.lines.remove(line)
    cart.updated_at = now(session)
    session.flush()
    return cart


def clear_cart(session: Session, *, customer_id: int) -> None:
    """Empty the cart (nothing to do when there is none)."""
    cart = load_cart(session, customer_id=customer_id)
    if cart is None or not cart.lines:
        return
    cart.lines.clear()
    cart.updated_at = now(session)
    session.flush()


def view_cart(session: Session, *, customer_id: int) -> CartView:
    """The cart with today's prices and availability (three queries whatever its size)."""
    cart = load_cart(session, customer_id=customer_id)
    if cart is None or not cart.lines:
        return CartView(customer_id, (), 0, cart.updated_at if cart else None)
    sku_ids = [line.sku_id for line in cart.lines]
    skus = catalog.get_sellable_skus(session, sku_ids=sku_ids)
    stock = inventory.available(session, sku_ids=sku_ids)
    views = []
    for line in cart.lines:
        sku = skus.get(line.sku_id)
        price = sku.list_price if sku is not None else 0
        views.append(
            CartLineView(
                sku_id=line.sku_id,
                quantity=line.quantity,
                product_id=sku.product_id if sku is not None else None,
                sku_code=sku.code if sku is not None else "",
                title=sku.title if sku is not None else "",
                attributes=dict(sku.attributes or {}) if sku is not None else {},
                unit_price=price,
                subtotal=price * line.quantity,
                listed=bool(sku is not None and sku.listed),
                available=stock.get(line.sku_id, 0),
            )
        )
    return CartView(
        customer_id=customer_id,
        lines=tuple(views),
        items_subtotal=sum(v.subtotal for v in views if v.listed),
        updated_at=cart.updated_at,
    )
