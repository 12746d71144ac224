"""Helpers of the pricing tests: a small store, a live flash sale, counters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from tests import factories as f

from shopops.db import session_scope, utcnow
from shopops.events import OutboxEvent
from shopops.pricing import service
from shopops.pricing.models import FlashSaleItem, FlashSalePurchase, FlashSaleQuota

PRICE = 29_900
COST = 17_940  # 40% gross margin at ¥299
FLASH = 9_900


@dataclass
class Store:
    skus: list[int]
    customer_id: int


def build_store(engine: Engine, *, stock: int = 50, skus: int = 2) -> Store:
    with session_scope(engine) as s:
        product = f.product(s, skus=skus, price=PRICE, cost=COST, stock=stock)
        customer = f.customer(s)
        return Store([sku.id for sku in product.skus], customer.id)


def new_customer(engine: Engine, **fields: object) -> int:
    with session_scope(engine) as s:
        return f.customer(s, **fields).id


def live_window(minutes: int = 60) -> tuple[dt.datetime, dt.datetime]:
    start = utcnow() - dt.timedelta(minutes=1)
    return start, start + dt.timedelta(minutes=minutes)


def create_live_sale(
    engine: Engine,
    sku_id: int,
    *,
    pool: int = 5,
    limit: int = 1,
    flash_price: int = FLASH,
) -> int:
    starts_at, ends_at = live_window()
    with session_scope(engine) as s:
        sale = service.create_flash_sale(
            s,
            name="双11秒杀",
            starts_at=starts_at,
            ends_at=ends_at,
            per_customer_limit=limit,
            items=[service.FlashItemSpec(sku_id, flash_price, pool)],
        )
        return sale.id


def sold(engine: Engine, sale_id: int, sku_id: int) -> int:
    with session_scope(engine, readonly=True) as s:
        return (
            s.scalar(
                select(FlashSaleItem.sold).where(
                    FlashSaleItem.flash_sale_id == sale_id, FlashSaleItem.sku_id == sku_id
                )
            )
            or 0
        )


def held(engine: Engine, customer_id: int) -> int:
    with session_scope(engine, readonly=True) as s:
        return (
            s.scalar(
                select(func.coalesce(func.sum(FlashSaleQuota.quantity), 0)).where(
                    FlashSaleQuota.customer_id == customer_id
                )
            )
            or 0
        )


def purchased_units(engine: Engine) -> int:
    """Units held by orders (purchases not given back)."""
    with session_scope(engine, readonly=True) as s:
        return (
            s.scalar(
                select(func.coalesce(func.sum(FlashSalePurchase.quantity), 0)).where(
                    FlashSalePurchase.returned_at.is_(None)
                )
            )
            or 0
        )


def event_names(engine: Engine, prefix: str) -> list[str]:
    with session_scope(engine, readonly=True) as s:
        rows = s.scalars(
            select(OutboxEvent.name)
            .where(OutboxEvent.name.like(f"{prefix}%"))
            .order_by(OutboxEvent.seq)
        )
        return list(rows)
