"""Flash sales (秒杀): create one (a window, a per-customer limit, SKUs with a flash price and a
pool), end it early, read them; the storefront's list of live sales with what is left.

Selling happens at checkout (see `pricing.service.checkout`): while a sale is live, its SKUs
sell only at the flash price, from the pool, within the per-customer limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopops.db import now
from shopops.events import emit
from shopops.pricing import events, rules
from shopops.pricing.errors import (
    FlashSaleNotFound,
    FlashSaleOverlap,
    IllegalFlashSaleMove,
    InvalidFlashSale,
)
from shopops.pricing.models import (
    FlashSale,
    FlashSaleItem,
    FlashSalePurchase,
    FlashSaleQuota,
    FlashSaleStatus,
)
from shopops.pricing.service.live import mark_changed
from shopops.pricing.service.prices import SYSTEM, _snapshots


@dataclass(frozen=True, slots=True)
class FlashItemSpec:
    sku_id: int
    flash_price: int
    pool: int


def _emit(session: Session, name: str, sale: FlashSale) -> None:
    emit(
        session,
        name,
        aggregate_type=events.FLASH_SALE_AGGREGATE,
        aggregate_id=sale.id,
        payload=events.flash_sale(sale),
    )


def create_flash_sale(
    session: Session,
    *,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    per_customer_limit: int,
    items: Sequence[FlashItemSpec],
    actor: str = SYSTEM,
) -> FlashSale:
    """A flash sale over [starts_at, ends_at). Refused: an invalid definition (422
    `invalid_flash_sale`, `details.problems` lists every reason: window, limit, flash price
    not in (0, list price), pool ≤ 0, duplicate SKU), an unknown SKU (404 `unknown_sku`), or a
    SKU already in another active sale whose window overlaps (409 `flash_sale_overlap`)."""
    at = now(session)
    snaps = _snapshots(session, [i.sku_id for i in items])
    problems = rules.flash_sale_problems(
        starts_at=starts_at,
        ends_at=ends_at,
        now=at,
        per_customer_limit=per_customer_limit,
        items=[
            rules.FlashItemFacts(i.sku_id, snaps[i.sku_id].list_price, i.flash_price, i.pool)
            for i in items
        ],
    )
    if problems:
        raise InvalidFlashSale(
            problems[0].message,
            details={
                "problems": [
                    {"code": p.code.value, "message": p.message, "sku_id": p.sku_id}
                    for p in problems
                ]
            },
        )
    clash = session.execute(
        select(FlashSaleItem.sku_id, FlashSale.id)
        .join(FlashSale, FlashSale.id == FlashSaleItem.flash_sale_id)
        .where(
            FlashSaleItem.sku_id.in_(sorted(snaps)),
            FlashSale.status == FlashSaleStatus.ACTIVE,
            FlashSale.starts_at < ends_at,
            FlashSale.ends_at > starts_at,
        )
        .limit(1)
    ).first()
    if clash is not None:
        raise FlashSaleOverlap(
            f"SKU {clash[0]} is already in flash sale {clash[1]} at that time",
            details={"sku_id": clash[0], "flash_sale_id": clash[1]},
        )
    sale = FlashSale(
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        per_customer_limit=per_customer_limit,
        status=FlashSaleStatus.ACTIVE,
        created_by=actor,
        created_at=at,
    )
    sale.items = [
        FlashSaleItem(
            sku_id=i.sku_id,
            list_price=snaps[i.sku_id].list_price,
            flash_price=i.flash_price,
            pool=i.pool,
            sold=0,
        )
        for i in items
    ]
    session.add(sale)
    session.flush()
    _emit(session, events.FLASH_SALE_CREATED, sale)
    mark_changed(session)
    return sale


def get_flash_sale(session: Session, *, flash_sale_id: int) -> FlashSale:
    sale = session.scalar(
        select(FlashSale)
        .where(FlashSale.id == flash_sale_id)
        .options(selectinload(FlashSale.items))
    )
    if sale is None:
        raise FlashSaleNotFound(
            f"no flash sale {flash_sale_id}", details={"flash_sale_id": flash_sale_id}
        )
    return sale


def list_flash_sales(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[FlashSale]:
    """Flash sales, latest start first."""
    stmt = (
        select(FlashSale)
        .options(selectinload(FlashSale.items))
        .order_by(FlashSale.starts_at.desc(), FlashSale.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        stmt = stmt.where(FlashSale.status == status)
    return list(session.scalars(stmt))


def live_flash_sales(session: Session) -> list[FlashSale]:
    """Sales running now (their items carry `pool` and `sold`: what is left is the
    difference), soonest end first."""
    at = now(session)
    stmt = (
        select(FlashSale)
        .options(selectinload(FlashSale.items))
        .where(
            FlashSale.status == FlashSaleStatus.ACTIVE,
            FlashSale.starts_at <= at,
            FlashSale.ends_at > at,
        )
        .order_by(FlashSale.ends_at, FlashSale.id)
    )
    return list(session.scalars(stmt))


def end_flash_sale(session: Session, *, flash_sale_id: int) -> FlashSale:
    """End a sale now (or cancel one not started); its SKUs sell at their normal price
    again. Emits `flash_sale.ended`. Ending an ended sale is 409 `illegal_transition`."""
    sale = get_flash_sale(session, flash_sale_id=flash_sale_id)
    at = now(session)
    if sale.status != FlashSaleStatus.ACTIVE or sale.ends_at <= at:
        raise IllegalFlashSaleMove(
            f"flash sale {flash_sale_id} is over already",
            details={"flash_sale_id": flash_sale_id, "status": sale.status},
        )
    sale.status = FlashSaleStatus.ENDED
    # Keep the window ordered for a sale cancelled before it started.
    sale.ends_at = max(min(sale.ends_at, at), sale.starts_at + dt.timedelta(microseconds=1))
    session.flush()
    _emit(session, events.FLASH_SALE_ENDED, sale)
    mark_changed(session)
    return sale


def flash_ledger_problems(session: Session) -> list[str]:
    """Where the counters disagree with the purchases (empty when they agree): each item's
    `sold` = its units held by orders, and each quota row = that customer's units held.
    For `shopops verify`."""
    held = (
        select(
            FlashSalePurchase.item_id,
            func.coalesce(func.sum(FlashSalePurchase.quantity), 0).label("units"),
        )
        .where(FlashSalePurchase.returned_at.is_(None))
        .group_by(FlashSalePurchase.item_id)
        .subquery()
    )
    problems = [
        f"flash sale item {item_id}: sold {sold_} but orders hold {units}"
        for item_id, sold_, units in session.execute(
            select(FlashSaleItem.id, FlashSaleItem.sold, func.coalesce(held.c.units, 0))
            .outerjoin(held, held.c.item_id == FlashSaleItem.id)
            .where(FlashSaleItem.sold != func.coalesce(held.c.units, 0))
        )
    ]
    per_customer = (
        select(
            FlashSalePurchase.flash_sale_id,
            FlashSalePurchase.customer_id,
            FlashSalePurchase.sku_id,
            func.sum(FlashSalePurchase.quantity).label("units"),
        )
        .where(FlashSalePurchase.returned_at.is_(None))
        .group_by(
            FlashSalePurchase.flash_sale_id, FlashSalePurchase.customer_id, FlashSalePurchase.sku_id
        )
        .subquery()
    )
    problems += [
        f"flash sale {sale_id}, customer {customer_id}, SKU {sku_id}: quota {quantity} but "
        f"orders hold {units}"
        for sale_id, customer_id, sku_id, quantity, units in session.execute(
            select(
                FlashSaleQuota.flash_sale_id,
                FlashSaleQuota.customer_id,
                FlashSaleQuota.sku_id,
                FlashSaleQuota.quantity,
                func.coalesce(per_customer.c.units, 0),
            )
            .outerjoin(
                per_customer,
                (per_customer.c.flash_sale_id == FlashSaleQuota.flash_sale_id)
                & (per_customer.c.customer_id == FlashSaleQuota.customer_id)
                & (per_customer.c.sku_id == FlashSaleQuota.sku_id),
            )
            .where(FlashSaleQuota.quantity != func.coalesce(per_customer.c.units, 0))
        )
    ]
    return problems
