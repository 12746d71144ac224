"""The demo shop: a 3C-accessories store built through the real services, with two weeks of
customers and orders behind it, so every screen and route has something true to show.

Everything goes through `service` functions in units of work with the store's clock set to the
simulated moment (`set_clock`), exactly as the API would do it; nothing writes tables directly.
The same seed gives the same shop.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shopops.accounts.service import create_api_key
from shopops.catalog import service as catalog
from shopops.db import session_scope, set_clock
from shopops.fulfillment import service as fulfillment
from shopops.inventory import service as inventory
from shopops.inventory.errors import OutOfStock
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.payments.gateway import SimulatedGateway
from shopops.sim import catalog_data as data

# (province, city, weight): where the demo's shoppers live, weighted like a national 3C shop.
REGIONS: list[tuple[str, str, int]] = [
    ("广东省", "深圳", 14),
    ("广东省", "广州", 10),
    ("浙江省", "杭州", 9),
    ("江苏省", "南京", 7),
    ("上海市", "上海", 11),
    ("北京市", "北京", 10),
    ("四川省", "成都", 7),
    ("湖北省", "武汉", 6),
    ("山东省", "济南", 5),
    ("陕西省", "西安", 4),
    ("福建省", "厦门", 4),
    ("新疆维吾尔自治区", "乌鲁木齐", 1),
]
CHANNELS = [("douyin", 35), ("taobao", 30), ("wechat", 15), ("search", 12), ("direct", 8)]
PAY_CHANNELS = [("wechat_pay", 55), ("alipay", 40), ("unionpay", 5)]
CARRIERS = [("sf", 30), ("jd", 20), ("zto", 25), ("yto", 20), ("ems", 5)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂"
STOCK_PER_SKU = (120, 400)


@dataclass
class DemoShop:
    """What was built, for the console to print."""

    products: int = 0
    skus: int = 0
    customers: int = 0
    orders: int = 0
    paid: int = 0
    completed: int = 0
    cancelled: int = 0
    operator_key: str = ""
    storefront_key: str = ""
    storefront_customer_id: int = 0
    sku_ids: list[int] = field(default_factory=list)


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def build_catalog(session: Session, shop: DemoShop, rng: random.Random) -> None:
    """Warehouses, brands, the category tree, products with SKUs, listed and stocked."""
    warehouses = [inventory.create_warehouse(session, **w) for w in data.WAREHOUSES]
    brands = {
        slug: catalog.create_brand(session, name=name, slug=slug) for name, slug in data.BRANDS
    }
    categories: dict[str, int] = {}
    for name, slug, parent in data.CATEGORIES:
        row = catalog.create_category(
            session, name=name, slug=slug, parent_id=categories.get(parent) if parent else None
        )
        categories[slug] = row.id
    for index, (cat, brand, title, role, tier, price, attribute, values) in enumerate(
        data.PRODUCTS
    ):
        specs = [
            catalog.SkuSpec(
                code=f"P{index + 1:03d}-{v_index + 1}",
                list_price=price,
                cost=data.cost_for(price, index),
                attributes={attribute: value},
                weight_grams=rng.randint(80, 600),
            )
            for v_index, value in enumerate(values)
        ]
        product = catalog.create_product(
            session,
            title=title,
            category_id=categories[cat],
            brand_id=brands[brand].id,
            role=role,
            tier=tier,
            images=[f"https://img.example.com/demo/p{index + 1:03d}.jpg"],
            skus=specs,
        )
        for status in ("in_review", "listed"):
            catalog.change_product_status(session, product_id=product.id, status=status)
        for sku in product.skus:
            for warehouse in warehouses:
                inventory.receive_stock(
                    session,
                    sku_id=sku.id,
                    warehouse_id=warehouse.id,
                    quantity=rng.randint(*STOCK_PER_SKU),
                    note="opening stock",
                )
            shop.sku_ids.append(sku.id)
        shop.products += 1
    shop.skus = len(shop.sku_ids)
    fulfillment.ensure_default_carriers(session)


def _register(session: Session, rng: random.Random, n: int, at: dt.datetime) -> int:
    province, city, _ = rng.choices(REGIONS, weights=[w for *_, w in REGIONS])[0]
    name = (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    )
    customer = members.register_customer(
        session,
        name=name,
        phone=f"1{rng.choice('3589')}{n:09d}",
        gender=rng.choice(["male", "female", "female"]),
        birthday=dt.date(rng.randint(1975, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        region=province,
        city=city,
        acquisition_channel=_pick(rng, CHANNELS),
        registered_at=at,
    )
    members.add_address(
        session,
        customer_id=customer.id,
        recipient=name,
        phone=customer.phone or "",
        province=province,
        city=city,
        detail=f"{rng.randint(1, 300)}号 {rng.randint(1, 30)}栋 {rng.randint(101, 2808)}",
    )
    return customer.id


def _one_order(
    engine: Engine,
    shop: DemoShop,
    rng: random.Random,
    gateway: SimulatedGateway,
    customer_id: int,
    at: dt.datetime,
    today: dt.datetime,
) -> None:
    """One shopper's order and whatever has happened to it by today."""
    lines = [
        (rng.choice(shop.sku_ids), rng.choice([1, 1, 1, 2]))
        for _ in range(rng.choice([1, 1, 2, 3]))
    ]
    with session_scope(engine) as s:
        set_clock(s, at)
        order = orders.place_order(s, customer_id=customer_id, lines=lines, channel="storefront")
        order_id = order.id
    shop.orders += 1
    if rng.random() < 0.12:  # left unpaid: cancelled by the shopper or the timeout
        with session_scope(engine) as s:
            set_clock(s, at + dt.timedelta(minutes=rng.randint(2, 25)))
            orders.cancel_order(s, order_id=order_id, reason="买家取消 / cancelled by buyer")
        shop.cancelled += 1
        return
    with session_scope(engine) as s:
        set_clock(s, at + dt.timedelta(minutes=rng.randint(1, 10)))
        payment = payments.pay_order(
            s, order_id=order_id, channel=_pick(rng, PAY_CHANNELS), gateway=gateway
        )
        paid = payment.status == "succeeded"
    if not paid:
        with session_scope(engine) as s:
            set_clock(s, at + dt.timedelta(minutes=30))
            orders.cancel_order(s, order_id=order_id, reason="支付失败 / payment failed")
        shop.cancelled += 1
        return
    shop.paid += 1
    shipped_at = at + dt.timedelta(hours=rng.randint(3, 30))
    if shipped_at > today:
        return
    with session_scope(engine) as s:
        set_clock(s, shipped_at)
        shipment = fulfillment.ship_order(s, order_id=order_id, carrier_code=_pick(rng, CARRIERS))
        shipment_id = shipment.id
    for hours, status in (
        (2, "picked_up"),
        (6, "in_transit"),
        (40, "out_for_delivery"),
        (48, "delivered"),
    ):
        when = shipped_at + dt.timedelta(hours=hours + rng.randint(0, 12))
        if when > today:
            return
        with session_scope(engine) as s:
            set_clock(s, when)
            fulfillment.record_tracking_event(s, shipment_id=shipment_id, status=status)
    done_at = shipped_at + dt.timedelta(days=8)
    if done_at <= today:
        with session_scope(engine) as s:
            set_clock(s, done_at)
            orders.complete_order(s, order_id=order_id)
        shop.completed += 1


def build_demo_shop(
    engine: Engine,
    *,
    days: int = 14,
    customers: int = 120,
    seed: int = 618,
    today: dt.datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoShop:
    """Build the sample shop in an empty store: catalog and stock, `customers` shoppers who
    registered over `days` days, their orders paid, shipped, delivered or cancelled, and two
    API keys (operator, and storefront for one shopper)."""
    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = today - dt.timedelta(days=days)
    shop = DemoShop()
    report = progress or (lambda _step, _done, _total: None)
    gateway = SimulatedGateway(
        secret="demo",
        success_rate={"wechat_pay": 0.97, "alipay": 0.98, "unionpay": 0.92},
        rng=rng,
        sleep=None,
    )
    with session_scope(engine) as s:
        set_clock(s, start)
        build_catalog(s, shop, rng)
    report("catalog", 1, 1)
    customer_ids: list[int] = []
    for n in range(customers):
        at = start + dt.timedelta(seconds=rng.randint(0, days * 86400 - 3600))
        with session_scope(engine) as s:
            set_clock(s, at)
            customer_ids.append(_register(s, rng, n + 1, at))
        # About 1.4 orders per shopper, the later ones days after registering.
        for k in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
            placed = at + dt.timedelta(minutes=rng.randint(5, 90), days=k * rng.randint(2, 6))
            if placed >= today:
                break
            try:
                _one_order(engine, shop, rng, gateway, customer_ids[-1], placed, today)
            except OutOfStock:
                continue  # a sold-out SKU: the shopper leaves, as real ones do
        report("shoppers", n + 1, customers)
    shop.customers = len(customer_ids)
    with session_scope(engine) as s:
        set_clock(s, today)
        _, shop.operator_key = create_api_key(s, role="operator", name="demo operator")
        shop.storefront_customer_id = customer_ids[0]
        _, shop.storefront_key = create_api_key(
            s, role="storefront", name="demo shopper", customer_id=customer_ids[0]
        )
    return shop
