"""Small builders for test data. Stock enters through a receipt movement, so the ledger
invariant (`shopops verify`) holds for data built here too."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from shopops.catalog.models import Brand, Category, ListingStatus, Product, ProductRole, Sku
from shopops.inventory.models import MovementReason, StockLevel, StockMovement, Warehouse
from shopops.members.models import Address, Customer

_seq = itertools.count(1)


def category(session: Session, name: str = "充电器", parent: Category | None = None) -> Category:
    n = next(_seq)
    row = Category(name=name, slug=f"cat-{n}", parent_id=parent.id if parent else None)
    session.add(row)
    session.flush()
    return row


def warehouse(session: Session, code: str | None = None, priority: int = 100) -> Warehouse:
    n = next(_seq)
    row = Warehouse(code=code or f"WH{n}", name=f"仓库{n}", region="上海", priority=priority)
    session.add(row)
    session.flush()
    return row


def receive(session: Session, sku: Sku, wh: Warehouse, quantity: int) -> StockLevel:
    level = session.query(StockLevel).filter_by(sku_id=sku.id, warehouse_id=wh.id).one_or_none()
    if level is None:
        level = StockLevel(sku_id=sku.id, warehouse_id=wh.id, on_hand=0, reserved=0)
        session.add(level)
    level.on_hand += quantity
    session.add(
        StockMovement(
            sku_id=sku.id,
            warehouse_id=wh.id,
            reason=MovementReason.RECEIPT,
            on_hand_delta=quantity,
            ref_type="test",
        )
    )
    session.flush()
    return level


def product(
    session: Session,
    *,
    price: int = 19900,
    cost: int = 11900,
    stock: int = 100,
    wh: Warehouse | None = None,
    cat: Category | None = None,
    title: str = "氮化镓快充充电器 65W",
    role: str = ProductRole.HIT,
    status: str = ListingStatus.LISTED,
    skus: int = 1,
    weight_grams: int = 200,
) -> Product:
    """A listed product with `skus` SKUs, each with `stock` units in `wh` (created if None)."""
    n = next(_seq)
    cat = cat or category(session)
    brand = Brand(name=f"品牌{n}", slug=f"brand-{n}")
    session.add(brand)
    session.flush()
    row = Product(title=title, category_id=cat.id, brand_id=brand.id, role=role, status=status)
    session.add(row)
    session.flush()
    wh = wh or warehouse(session)
    for i in range(skus):
        sku = Sku(
            product_id=row.id,
            code=f"SKU-{n}-{i}",
            attributes={"colour": ["黑色", "白色", "蓝色"][i % 3]},
            list_price=price,
            cost=cost,
            weight_grams=weight_grams,
        )
        session.add(sku)
        session.flush()
        if stock:
            receive(session, sku, wh, stock)
    session.refresh(row)
    return row


def customer(session: Session, **fields: Any) -> Customer:
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"顾客{n}",
        "phone": f"138{n:08d}",
        "region": "上海",
        "city": "上海",
        "age_band": "25-34",
        "gender": "male",
    }
    data.update(fields)
    row = Customer(**data)
    session.add(row)
    session.flush()
    addr = Address(
        customer_id=row.id,
        recipient=row.name,
        phone=row.phone or "13800000000",
        province=row.region or "上海",
        city=row.city or "上海",
        district="浦东新区",
        detail="世纪大道 100 号",
        is_default=True,
    )
    session.add(addr)
    session.flush()
    return row
