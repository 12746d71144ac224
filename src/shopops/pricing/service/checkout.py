"""Pricing at checkout, through the hooks of `orders.pricing`:

- `price_list_discounts` (discount hook, source "price_list"): member price of the customer's
  tier and channel price of the order's channel, (list − price) × qty on each line.
- `flash_discounts` (discount hook, source "flash_sale"): while a flash sale is live, a flash
  SKU line is priced at the flash price for the units the pool and the customer's limit allow
  (`line_amounts` pinned; earlier discounts count, so a line never ends below the flash price
  because of this hook). The preview shows how many units qualify and why not all.
- `claim_flash_units` (order hook): takes the units from the pool (`sold + q <= pool`) and the
  customer's quota (`quantity + q <= limit`) with conditional statements, records the
  purchase and emits `flash_sale.purchased`. While a sale is live its SKUs sell only through
  it: 409 `flash_sale_sold_out`, `flash_sale_limit_reached`, `flash_sale_ended` or
  `flash_sale_changed` (priced with fewer flash units than bought) refuse the whole order, so
  a failing checkout consumes nothing.
- `release_flash_units` (subscriber of `order.cancelled`): the units go back to the pool and
  the quota.

Cost in SQL statements per checkout: 0 when no flash sale or price list concerns the cart
(definitions come from the process snapshot in `live`); a matching price list adds 1 (its
prices for the cart's SKUs); a flash SKU adds 1 while pricing (pool left and the customer's
units) and 3 when the order is placed (pool UPDATE, quota upsert, purchase INSERT).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import OutboxEvent, emit
from shopops.orders.pricing import AppliedDiscount, CartSnapshot, Offers, PricedCart, price_cart
from shopops.pricing import events, rules
from shopops.pricing.errors import (
    FlashSaleChanged,
    FlashSaleEnded,
    FlashSaleLimitReached,
    FlashSaleSoldOut,
)
from shopops.pricing.models import (
    FlashSale,
    FlashSaleItem,
    FlashSalePurchase,
    FlashSaleQuota,
    FlashSaleStatus,
    PriceListKind,
)
from shopops.pricing.service.live import LiveFlashItem, Snapshot, live_state
from shopops.pricing.service.prices import best_list_prices, matching_price_lists

FLASH_SOURCE = "flash_sale"
PRICE_LIST_SOURCE = "price_list"


def _yuan(fen: int) -> str:
    return f"¥{fen // 100}" if fen % 100 == 0 else f"¥{fen / 100:.2f}"


def _live_items(snap: Snapshot, at: Any, sku_ids: Iterable[int]) -> dict[int, LiveFlashItem]:
    """The live flash item of each SKU (sales of one SKU never overlap)."""
    found: dict[int, LiveFlashItem] = {}
    for sku_id in sku_ids:
        for item in snap.flash.get(sku_id, ()):
            if item.live_at(at):
                found[sku_id] = item
                break
    return found


# ---- price lists ------------------------------------------------------------------------------


def price_list_discounts(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    offers: Offers,
    earlier: Sequence[AppliedDiscount] = (),
) -> list[AppliedDiscount]:
    """Member and channel prices below the list price, one discount per price list."""
    tier = str(getattr(customer, "tier_code", "") or "")
    lists = matching_price_lists(session, channel=snapshot.channel, tier=tier)
    if not lists:
        return []
    best = best_list_prices(session, lists=lists, sku_ids=[i.sku_id for i in snapshot.items])
    grouped: dict[int, dict[int, int]] = {}
    for item in snapshot.items:
        if item.sku_id in best:
            price, price_list = best[item.sku_id]
            if price < item.unit_price:
                grouped.setdefault(price_list.id, {})[item.sku_id] = (
                    item.unit_price - price
                ) * item.quantity
    by_id = {pl.id: pl for pl in lists}
    out = []
    for list_id, amounts in sorted(grouped.items()):
        pl = by_id[list_id]
        label = "会员价 member price" if pl.kind == PriceListKind.MEMBER else "渠道价 channel price"
        out.append(
            AppliedDiscount(
                PRICE_LIST_SOURCE, pl.code, f"{label}: {pl.name}", sum(amounts.values()), amounts
            )
        )
    return out


# ---- flash sales: pricing ---------------------------------------------------------------------


def _counters(
    session: Session, *, customer_id: int, items: Iterable[LiveFlashItem]
) -> dict[int, tuple[int, int]]:
    """item id → (units left in the pool, units this customer holds); one query."""
    ids = sorted({i.item_id for i in items})
    rows = session.execute(
        select(FlashSaleItem.id, FlashSaleItem.pool - FlashSaleItem.sold, FlashSaleQuota.quantity)
        .outerjoin(
            FlashSaleQuota,
            and_(
                FlashSaleQuota.flash_sale_id == FlashSaleItem.flash_sale_id,
                FlashSaleQuota.sku_id == FlashSaleItem.sku_id,
                FlashSaleQuota.customer_id == customer_id,
            ),
        )
        .where(FlashSaleItem.id.in_(ids))
    )
    return {item_id: (int(left), int(held or 0)) for item_id, left, held in rows}


def _left_per_line(snapshot: CartSnapshot, earlier: Sequence[AppliedDiscount]) -> dict[int, int]:
    """What each line still costs after the discounts granted before this hook."""
    if not earlier:
        return {i.sku_id: i.subtotal for i in snapshot.items}
    priced = price_cart(snapshot, earlier, free_shipping_threshold=0, base_shipping_fee=0)
    return {line.item.sku_id: line.total for line in priced.lines}


def _explain(item: LiveFlashItem, quantity: int, units: int, pool_left: int, held: int) -> str:
    text = f"秒杀 flash sale {item.name}: {_yuan(item.flash_price)} × {units}"
    if units < quantity:
        if pool_left < quantity and pool_left <= item.limit - held:
            text += f"; 仅剩 only {max(pool_left, 0)} left"
        else:
            text += f"; 每人限购 limit {item.limit} per customer, 已购 held {held}"
        text += f" — {quantity - units} unit(s) over: this order would be refused"
    return text


def flash_discounts(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    offers: Offers,
    earlier: Sequence[AppliedDiscount] = (),
) -> list[AppliedDiscount]:
    """Flash prices for the units that qualify; one discount per live sale in the cart."""
    snap = live_state(session)
    if not snap.flash:
        return []
    at = now(session)
    hits = _live_items(snap, at, (i.sku_id for i in snapshot.items))
    if not hits:
        return []
    counters = _counters(session, customer_id=snapshot.customer_id, items=hits.values())
    left = _left_per_line(snapshot, earlier)
    per_sale: dict[int, tuple[LiveFlashItem, dict[int, int], list[str], bool]] = {}
    for line in snapshot.items:
        item = hits.get(line.sku_id)
        if item is None:
            continue
        pool_left, held = counters.get(item.item_id, (0, 0))
        units = rules.flash_units(line.quantity, pool_left=pool_left, limit_left=item.limit - held)
        unit_flash = min(item.flash_price, line.unit_price)
        target = unit_flash * units + line.unit_price * (line.quantity - units)
        amount = max(0, left[line.sku_id] - target)
        _, amounts, texts, short = per_sale.setdefault(item.sale_id, (item, {}, [], False))
        if amount:
            amounts[line.sku_id] = amount
        texts.append(_explain(item, line.quantity, units, pool_left, held))
        per_sale[item.sale_id] = (item, amounts, texts, short or units < line.quantity)
    return [
        AppliedDiscount(
            FLASH_SOURCE, f"FS{sale_id}", "; ".join(texts), sum(amounts.values()), amounts
        )
        for sale_id, (_, amounts, texts, short) in sorted(per_sale.items())
        if amounts or short
    ]


# ---- flash sales: claiming at order time ------------------------------------------------------


def _take_pool(session: Session, item: LiveFlashItem, quantity: int, at: Any) -> None:
    """sold += quantity if the pool has it and the sale is still live; else refuse."""
    live_sale = select(FlashSale.id).where(
        FlashSale.id == item.sale_id,
        FlashSale.status == FlashSaleStatus.ACTIVE,
        FlashSale.starts_at <= at,
        FlashSale.ends_at > at,
    )
    taken = session.execute(
        update(FlashSaleItem)
        .where(
            FlashSaleItem.id == item.item_id,
            FlashSaleItem.sold + quantity <= FlashSaleItem.pool,
            FlashSaleItem.flash_sale_id.in_(live_sale.scalar_subquery()),
        )
        .values(sold=FlashSaleItem.sold + quantity)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken == 1:
        return
    # Only on refusal: one more read to say why.
    row = session.execute(
        select(FlashSaleItem.pool - FlashSaleItem.sold, FlashSale.status, FlashSale.ends_at)
        .join(FlashSale, FlashSale.id == FlashSaleItem.flash_sale_id)
        .where(FlashSaleItem.id == item.item_id)
    ).one()
    details = {"flash_sale_id": item.sale_id, "sku_id": item.sku_id, "requested": quantity}
    if row[1] != FlashSaleStatus.ACTIVE or row[2] <= at:
        raise FlashSaleEnded(f"flash sale {item.sale_id} has ended", details=details)
    raise FlashSaleSoldOut(
        f"flash sale {item.sale_id} has only {max(int(row[0]), 0)} of SKU {item.sku_id} left",
        details={**details, "left": max(int(row[0]), 0)},
    )


def _take_quota(session: Session, item: LiveFlashItem, customer_id: int, quantity: int) -> int:
    """The customer's units += quantity if it stays within the limit; returns the new total.
    The unique (sale, customer, SKU) row makes concurrent orders of one customer queue."""
    details = {
        "flash_sale_id": item.sale_id,
        "sku_id": item.sku_id,
        "limit": item.limit,
        "requested": quantity,
    }
    if quantity > item.limit:
        raise FlashSaleLimitReached(
            f"at most {item.limit} unit(s) per customer", details={**details, "held": 0}
        )
    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = make(FlashSaleQuota).values(
        flash_sale_id=item.sale_id,
        customer_id=customer_id,
        sku_id=item.sku_id,
        quantity=quantity,
        limit_quantity=item.limit,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["flash_sale_id", "customer_id", "sku_id"],
        set_={"quantity": FlashSaleQuota.quantity + stmt.excluded.quantity},
        where=FlashSaleQuota.quantity + stmt.excluded.quantity <= FlashSaleQuota.limit_quantity,
    )
    held = session.scalar(stmt.returning(FlashSaleQuota.quantity))
    if held is None:
        raise FlashSaleLimitReached(
            f"at most {item.limit} unit(s) per customer in flash sale {item.sale_id}",
            details=details,
        )
    return int(held)


def claim_flash_units(session: Session, order: Any, priced: PricedCart, offers: Offers) -> None:
    """Take each live flash line's units from its pool and the customer's quota, record the
    purchases and emit `flash_sale.purchased`; refuse the order (409) when they cannot be
    taken or were not all priced at the flash price."""
    snap = live_state(session)
    if not snap.flash:
        return
    at = now(session)
    hits = _live_items(snap, at, (line.item.sku_id for line in priced.lines))
    if not hits:
        return
    claims = sorted(
        ((hits[line.item.sku_id], line) for line in priced.lines if line.item.sku_id in hits),
        key=lambda pair: pair[0].item_id,  # one lock order for every order: no deadlocks
    )
    bought: dict[int, list[FlashSalePurchase]] = {}
    for item, line in claims:
        quantity = line.item.quantity
        _take_quota(session, item, order.customer_id, quantity)
        _take_pool(session, item, quantity, at)
        unit = min(item.flash_price, line.item.unit_price)
        if line.total > unit * quantity:
            raise FlashSaleChanged(
                "the flash sale changed while the order was priced: price it again",
                details={"flash_sale_id": item.sale_id, "sku_id": item.sku_id},
            )
        row = FlashSalePurchase(
            flash_sale_id=item.sale_id,
            item_id=item.item_id,
            order_id=order.id,
            customer_id=order.customer_id,
            sku_id=item.sku_id,
            quantity=quantity,
            unit_price=unit,
            purchased_at=at,
        )
        session.add(row)
        bought.setdefault(item.sale_id, []).append(row)
    for sale_id, rows in sorted(bought.items()):
        emit(
            session,
            events.FLASH_SALE_PURCHASED,
            aggregate_type=events.FLASH_SALE_AGGREGATE,
            aggregate_id=sale_id,
            payload=events.purchase(rows),
            occurred_at=at,
        )


def release_flash_units(session: Session, event: OutboxEvent) -> None:
    """On `order.cancelled`: the order's flash units go back to their pools and quotas."""
    order_id = int(event.payload["order_id"])
    rows = list(
        session.scalars(
            select(FlashSalePurchase)
            .where(FlashSalePurchase.order_id == order_id, FlashSalePurchase.returned_at.is_(None))
            .order_by(FlashSalePurchase.item_id)
        )
    )
    if not rows:
        return
    at = now(session)
    by_sale: dict[int, list[FlashSalePurchase]] = {}
    for row in rows:
        session.execute(
            update(FlashSaleItem)
            .where(FlashSaleItem.id == row.item_id)
            .values(sold=FlashSaleItem.sold - row.quantity)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(FlashSaleQuota)
            .where(
                FlashSaleQuota.flash_sale_id == row.flash_sale_id,
                FlashSaleQuota.customer_id == row.customer_id,
                FlashSaleQuota.sku_id == row.sku_id,
            )
            .values(quantity=FlashSaleQuota.quantity - row.quantity)
            .execution_options(synchronize_session=False)
        )
        row.returned_at = at
        by_sale.setdefault(row.flash_sale_id, []).append(row)
    for sale_id, sale_rows in sorted(by_sale.items()):
        emit(
            session,
            events.FLASH_SALE_RELEASED,
            aggregate_type=events.FLASH_SALE_AGGREGATE,
            aggregate_id=sale_id,
            payload=events.purchase(sale_rows),
            occurred_at=at,
        )


def purchases_of(session: Session, *, order_id: int) -> list[FlashSalePurchase]:
    """The flash units an order took (returned ones included)."""
    return list(
        session.scalars(
            select(FlashSalePurchase)
            .where(FlashSalePurchase.order_id == order_id)
            .order_by(FlashSalePurchase.id)
        )
    )
