"""Checkout pricing: a cart snapshot in, a priced cart out.

`price_cart` is pure (plain values in and out). Discounts come from hooks that the promotions
domain registers with `register_discount_hook`; the hooks may read the database, the pricing
does not. Whatever the hooks return, discounts never exceed the item subtotal (they are
clamped, and the priced cart says so), and every line's share adds up to the order's discount.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shopops.config import Settings
from shopops.events import emit_many
from shopops.money import allocate
from shopops.orders.rules import shipping_fee

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _default(name: str) -> Any:
    # The policy's defaults are the settings' defaults, written down once (in config.py).
    return Settings.model_fields[name].default


@dataclass(frozen=True, slots=True)
class CheckoutPolicy:
    """The settings a checkout obeys; the API builds it from the app's settings."""

    max_line_quantity: int = _default("max_line_quantity")
    max_cart_lines: int = _default("max_cart_lines")
    free_shipping_threshold: int = _default("free_shipping_threshold")
    base_shipping_fee: int = _default("base_shipping_fee")
    unpaid_order_timeout_minutes: int = _default("unpaid_order_timeout_minutes")

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckoutPolicy:
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


@dataclass(frozen=True, slots=True)
class CartItem:
    """One SKU and quantity at checkout, with the catalog facts pricing and promotions need."""

    sku_id: int
    product_id: int
    category_id: int
    brand_id: int | None
    sku_code: str
    title: str
    unit_price: int
    unit_cost: int
    quantity: int
    attributes: Mapping[str, Any] = field(default_factory=dict)
    role: str = ""
    weight_grams: int = 0

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class CartSnapshot:
    """What is being bought, by whom, through which channel: the input of pricing."""

    customer_id: int
    items: tuple[CartItem, ...]
    channel: str = "storefront"

    @property
    def subtotal(self) -> int:
        return sum(item.subtotal for item in self.items)


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    """One discount a hook grants. `line_amounts` (sku_id → fen) says how it splits over the
    lines; without it the amount is split in proportion to what is left of each line."""

    source: str
    reference: str
    description: str
    amount: int
    line_amounts: Mapping[int, int] | None = None
    # A free-shipping coupon: no shipping fee whatever the subtotal.
    waives_shipping: bool = False


@dataclass(frozen=True, slots=True)
class PricedLine:
    item: CartItem
    discount: int

    @property
    def total(self) -> int:
        return self.item.subtotal - self.discount


@dataclass(frozen=True, slots=True)
class PricedCart:
    """The price of a snapshot: lines with their discount share, the discounts as granted
    (after clamping, with per-line amounts), the shipping fee and the total."""

    lines: tuple[PricedLine, ...]
    discounts: tuple[AppliedDiscount, ...]
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    notes: tuple[str, ...] = ()

    @property
    def clamped(self) -> bool:
        return bool(self.notes)


class CustomerLike(Protocol):
    id: int


MAX_COUPON_CODES = 5


@dataclass(frozen=True, slots=True)
class Offers:
    """What the shopper asks to use at checkout besides the automatic promotions: coupon
    codes (or coupon ids from the wallet) and points to redeem. Hooks read what is theirs."""

    coupon_codes: tuple[str, ...] = ()
    points: int = 0


# A discount hook prices; it must not write (preview calls it too).
DiscountHook = Callable[["Session", CartSnapshot, CustomerLike, Offers], list[AppliedDiscount]]
# An order hook claims what the discounts used (coupon, points, flash-sale stock) in the
# order's transaction; raising a ShopOpsError refuses the order and rolls everything back.
OrderHook = Callable[["Session", Any, PricedCart, Offers], None]

_hooks: list[DiscountHook] = []
_order_hooks: list[OrderHook] = []


def register_order_hook(fn: OrderHook) -> OrderHook:
    """Add a hook that runs once an order and its lines are written (once; in order)."""
    if fn not in _order_hooks:
        _order_hooks.append(fn)
    return fn


def unregister_order_hook(fn: OrderHook) -> None:
    if fn in _order_hooks:
        _order_hooks.remove(fn)


def run_order_hooks(
    session: Session, order: Any, priced: PricedCart, offers: Offers, *, batched: bool = False
) -> None:
    for hook in _order_hooks:
        (_twins.get(hook, hook) if batched else hook)(session, order, priced, offers)


# Bulk checkout: a hook may declare a batch twin that reads and claims through state its
# domain read once for the whole batch (`begin`) and writes at the end (`end(write=True)`;
# `write=False` drops it). Twins must give what the hook gives on each item in turn.
BatchBegin = Callable[["Session", Sequence[tuple[int, Offers]]], None]
BatchEnd = Callable[["Session", bool], None]
_twins: dict[Any, Any] = {}
_batches: list[tuple[BatchBegin, BatchEnd]] = []


def register_batch_twin(hook: Any, twin: Any, *, begin: BatchBegin, end: BatchEnd) -> None:
    """Run `twin` in place of the discount or order hook `hook` inside a batch."""
    _twins[hook] = twin
    if (begin, end) not in _batches:
        _batches.append((begin, end))


def begin_batch(session: Session, requests: Sequence[tuple[int, Offers]]) -> None:
    """Let the batch twins read their state for these (customer id, offers)."""
    session.info.pop(_DEFERRED_KEY, None)
    for begin, _end in _batches:
        begin(session, requests)


def end_batch(session: Session, *, write: bool) -> None:
    """Write (or drop) what the batch twins claimed; a 4xx means the batch must be redone
    through the single hooks (a concurrent checkout took what the batch counted on)."""
    session.info.pop(_DEFERRED_KEY, None)  # unwritten deferred events went with a rollback
    for _begin, end in _batches:
        end(session, write)


# A batch twin's events: `emit` builds and flushes an ORM object per event (the cost of a
# claim), so an order twin defers them and the bulk checkout writes them with `emit_many`,
# where `emit` would have put them: after the hooks' own events, before `order.created`.
_DEFERRED_KEY = "orders.batch_events"
EventItem = tuple[str, "int | str", dict[str, Any], Any]


def defer_event(session: Session, name: str, item: EventItem) -> None:
    """`emit(session, name, aggregate_type=, aggregate_id=, payload=, occurred_at=)` of an
    order twin, as an `emit_many` item; only for names no handler subscribes to (the handler
    would run later than `emit` runs it)."""
    session.info.setdefault(_DEFERRED_KEY, {}).setdefault(name, []).append(item)


def write_deferred_events(session: Session) -> None:
    """The deferred events, one `emit_many` per name in the order the names first came (the
    events of one aggregate keep their order: an order's events of one name come before
    those of the next name it has, as the twins emit them)."""
    deferred: dict[str, list[EventItem]] = session.info.pop(_DEFERRED_KEY, None) or {}
    for name, items in deferred.items():
        emit_many(session, name, items)


def register_discount_hook(fn: DiscountHook) -> DiscountHook:
    """Add a discount hook (once); hooks run in registration order. Usable as a decorator."""
    if fn not in _hooks:
        _hooks.append(fn)
    return fn


def unregister_discount_hook(fn: DiscountHook) -> None:
    if fn in _hooks:
        _hooks.remove(fn)


def discount_hooks() -> tuple[DiscountHook, ...]:
    return tuple(_hooks)


def collect_discounts(
    session: Session,
    snapshot: CartSnapshot,
    customer: CustomerLike,
    offers: Offers = Offers(),
    *,
    batched: bool = False,
) -> list[AppliedDiscount]:
    """Every registered hook's discounts for this snapshot, in hook order (none by default);
    `batched`: through the hooks' batch twins where declared (inside `begin_batch`)."""
    found: list[AppliedDiscount] = []
    for hook in _hooks:
        fn = _twins.get(hook, hook) if batched else hook
        found.extend(fn(session, snapshot, customer, offers, tuple(found)))
    return found


def _check(discount: AppliedDiscount, skus: Mapping[int, int]) -> None:
    # A hook that breaks these is a bug to fix, not a price to show a shopper.
    if discount.amount < 0:
        raise ValueError(f"negative discount from {discount.source}: {discount.amount}")
    if discount.line_amounts is None:
        return
    unknown = set(discount.line_amounts) - set(skus)
    if unknown:
        raise ValueError(f"discount {discount.reference!r} names SKUs not in the cart: {unknown}")
    if any(v < 0 for v in discount.line_amounts.values()):
        raise ValueError(f"discount {discount.reference!r} has a negative line amount")
    if sum(discount.line_amounts.values()) != discount.amount:
        raise ValueError(f"discount {discount.reference!r}: line amounts do not add up")


def price_cart(
    snapshot: CartSnapshot,
    discounts: Sequence[AppliedDiscount] = (),
    *,
    free_shipping_threshold: int,
    base_shipping_fee: int,
) -> PricedCart:
    """Price the snapshot: subtotal − discounts (clamped to what is left) + shipping.

    Discounts apply in order; each takes at most what earlier ones left of each line.
    """
    items = snapshot.items
    index = {item.sku_id: i for i, item in enumerate(items)}
    left = [item.subtotal for item in items]
    shares = [0] * len(items)
    granted_discounts: list[AppliedDiscount] = []
    notes: list[str] = []
    waived = False
    for discount in discounts:
        _check(discount, index)
        if discount.line_amounts is not None:
            parts = [0] * len(items)
            for sku_id, amount in discount.line_amounts.items():
                i = index[sku_id]
                parts[i] = min(amount, left[i])
        else:
            parts = allocate(min(discount.amount, sum(left)), left) if items else []
        granted = sum(parts)
        if granted < discount.amount:
            notes.append(
                f"{discount.source} {discount.reference}: {discount.amount} reduced to "
                f"{granted}; discounts cannot exceed the item subtotal"
            )
        for i, part in enumerate(parts):
            left[i] -= part
            shares[i] += part
        waived = waived or discount.waives_shipping
        granted_discounts.append(
            dataclasses.replace(
                discount,
                amount=granted,
                line_amounts={items[i].sku_id: p for i, p in enumerate(parts) if p},
            )
        )
    subtotal = snapshot.subtotal
    discount_total = sum(shares)
    fee = (
        0
        if waived
        else shipping_fee(
            subtotal - discount_total,
            free_threshold=free_shipping_threshold,
            base_fee=base_shipping_fee,
        )
    )
    return PricedCart(
        lines=tuple(PricedLine(item, share) for item, share in zip(items, shares, strict=True)),
        discounts=tuple(granted_discounts),
        items_subtotal=subtotal,
        discount_total=discount_total,
        shipping_fee=fee,
        total=subtotal - discount_total + fee,
        notes=tuple(notes),
    )
