"""Small builders for test data. Stock enters through a receipt movement, so the ledger
invariant (`shopops verify`) holds for data built here too."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shopops.catalog.models import Brand, Category, ListingStatus, Product, ProductRole, Sku
from shopops.inventory.models import (
    MovementReason,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)
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


def brand(session: Session, name: str = "安克") -> Brand:
    n = next(_seq)
    row = Brand(name=name, slug=f"brand-{n}")
    session.add(row)
    session.flush()
    return row


def sku(
    session: Session,
    prod: Product,
    *,
    price: int = 9900,
    cost: int = 5000,
    active: bool = True,
    code: str | None = None,
) -> Sku:
    """Another SKU of `prod`, without stock."""
    row = Sku(
        product_id=prod.id,
        code=code or f"SKU-X{next(_seq)}",
        attributes={},
        list_price=price,
        cost=cost,
        active=active,
    )
    session.add(row)
    session.flush()
    return row


class StatementCounter:
    """`with StatementCounter(engine) as sql: ...` then `sql.count`, `sql.statements`:
    the SQL statements sent to the database inside the block (BEGIN/COMMIT excluded)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


# --- payments and after-sales (H3) -------------------------------------------------------------


def gateway(*, success: float = 1.0, seed: int = 0, **rates: float) -> Any:
    """A simulated payment gateway that succeeds with `success` on every channel (override
    per channel: `gateway(alipay=0.0)`), seeded, with the default secret and no latency."""
    import random

    from shopops.config import Settings
    from shopops.payments.gateway import SimulatedGateway
    from shopops.payments.models import PaymentChannel

    return SimulatedGateway(
        secret=Settings().gateway_secret,
        success_rate={c.value: rates.get(c.value, success) for c in PaymentChannel},
        rng=random.Random(seed),
    )


def placed_order(
    session: Session,
    *,
    cust: Customer | None = None,
    price: int = 19900,
    quantity: int = 1,
    skus: int = 1,
    stock: int = 100,
) -> Any:
    """An order pending payment for `quantity` of each of `skus` SKUs of a new product."""
    from shopops.orders.service import place_order

    cust = cust or customer(session)
    prod = product(session, price=price, stock=stock, skus=skus)
    lines = [(s.id, quantity) for s in prod.skus]
    return place_order(session, customer_id=cust.id, lines=lines)


def paid_order(session: Session, *, channel: str = "wechat_pay", **kwargs: Any) -> Any:
    """`placed_order(**kwargs)`, paid in full through the simulated gateway."""
    from shopops.payments.service import pay_order

    order = placed_order(session, **kwargs)
    payment = pay_order(session, order_id=order.id, channel=channel, gateway=gateway())
    assert payment.status == "succeeded"
    return order


def delivered_order(session: Session, **kwargs: Any) -> Any:
    """`paid_order(**kwargs)`, shipped and delivered (at the session's clock)."""
    from shopops.orders.service import mark_delivered, mark_shipped

    order = paid_order(session, **kwargs)
    mark_shipped(session, order_id=order.id)
    return mark_delivered(session, order_id=order.id)


def stock_levels(session: Session) -> dict[tuple[int, int], tuple[int, int]]:
    """{(sku_id, warehouse_id): (on_hand, reserved)}, read fresh from the database."""
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
    )
    return {(s, w): (oh, rs) for s, w, oh, rs in rows}


def assert_stock_ledger(session: Session) -> None:
    """The stock invariant, per SKU and warehouse: 0 <= reserved <= on_hand,
    on_hand = Σ on_hand_delta, reserved = Σ reserved_delta = Σ active reservations."""
    session.flush()
    moves: dict[tuple[int, int], list[int]] = {}
    for s, w, oh, rs in session.execute(
        select(
            StockMovement.sku_id,
            StockMovement.warehouse_id,
            func.sum(StockMovement.on_hand_delta),
            func.sum(StockMovement.reserved_delta),
        ).group_by(StockMovement.sku_id, StockMovement.warehouse_id)
    ):
        moves[(s, w)] = [int(oh), int(rs)]
    active: dict[tuple[int, int], int] = {}
    for s, w, q in session.execute(
        select(Reservation.sku_id, Reservation.warehouse_id, func.sum(Reservation.quantity))
        .where(Reservation.status == ReservationStatus.ACTIVE)
        .group_by(Reservation.sku_id, Reservation.warehouse_id)
    ):
        active[(s, w)] = int(q)
    current = stock_levels(session)
    assert set(moves) <= set(current), "ledger rows without a stock row"
    assert set(active) <= set(current), "reservations without a stock row"
    for key, (on_hand, reserved) in current.items():
        assert 0 <= reserved <= on_hand, (key, on_hand, reserved)
        assert [on_hand, reserved] == moves.get(key, [0, 0]), (
            key,
            on_hand,
            reserved,
            moves.get(key),
        )
        assert reserved == active.get(key, 0), (key, reserved, active.get(key))
