"""The shop of seed 000: a 3C-accessories store of about 300 SKUs, built through the services.

The range is generated from category plans (series × variants) so it is large without a long
hand-written table: each category has a price band, a popularity weight and a few series; the
seed's product roles are given to a handful of products (3–5 hits and traffic drivers, a long
tail). Costs follow a 38–42% gross margin. Pure data and rules here apart from `build_catalog`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from shopops.catalog import service as catalog
from shopops.fulfillment import service as fulfillment
from shopops.inventory import service as inventory
from shopops.sim.catalog_data import BRANDS, WAREHOUSES

# (slug, name, popularity weight, price band fen, variant attribute, variant values, series)
CATEGORY_PLANS: list[tuple[str, str, int, tuple[int, int], str, list[str], list[str]]] = [
    (
        "chargers",
        "充电器",
        16,
        (9900, 34900),
        "colour",
        ["白色", "黑色", "深空灰", "远峰蓝"],
        [
            "氮化镓快充 65W",
            "氮化镓三口 100W",
            "磁吸无线充 15W",
            "车载快充 60W",
            "桌面充电站 140W",
            "迷你快充 33W",
            "折叠插脚 45W",
            "三合一无线充",
            "多口充电器 200W",
            "旅行转换充电器",
        ],
    ),
    (
        "cables",
        "数据线",
        14,
        (2900, 12900),
        "length",
        ["0.5m", "1m", "1.5m", "2m"],
        [
            "编织快充线 USB-C",
            "240W 全功能线",
            "苹果 MFi 认证线",
            "三合一数据线",
            "弯头游戏线",
            "磁吸数据线",
            "短款便携线",
            "雷电 4 数据线",
            "发光数据线",
            "液态硅胶线",
        ],
    ),
    (
        "power-banks",
        "移动电源",
        13,
        (12900, 39900),
        "colour",
        ["白色", "黑色", "蓝色", "粉色"],
        [
            "超薄磁吸 10000mAh",
            "快充 20000mAh",
            "笔记本 PD 25000mAh",
            "自带线 10000mAh",
            "户外大容量 30000mAh",
            "迷你胶囊 5000mAh",
            "透明机甲 20000mAh",
            "支架充电宝",
        ],
    ),
    (
        "earphones",
        "耳机",
        15,
        (19900, 69900),
        "colour",
        ["黑色", "白色", "薄荷绿", "星光银"],
        [
            "主动降噪真无线 Pro",
            "半入耳蓝牙耳机",
            "运动挂耳耳机",
            "骨传导耳机",
            "头戴降噪耳机",
            "游戏低延迟耳机",
            "开放式耳夹",
            "入门真无线",
            "HiFi 有线耳机",
            "儿童耳机",
        ],
    ),
    (
        "phone-cases",
        "手机壳",
        10,
        (3900, 12900),
        "model",
        ["iPhone 16", "iPhone 16 Pro", "Mate 70", "小米 15"],
        [
            "磁吸透明壳",
            "液态硅胶壳",
            "军工防摔壳",
            "碳纤维壳",
            "支架壳",
            "皮革壳",
            "镜头全包壳",
            "卡通联名壳",
            "磨砂肤感壳",
            "卡包壳",
        ],
    ),
    (
        "screen-protectors",
        "钢化膜",
        8,
        (2900, 8900),
        "model",
        ["iPhone 16", "iPhone 16 Pro", "Mate 70", "小米 15"],
        ["高清钢化膜", "防窥钢化膜", "蓝光钢化膜", "磨砂电竞膜", "镜头膜", "全屏水凝膜"],
    ),
    (
        "keyboards-mice",
        "键鼠",
        9,
        (14900, 59900),
        "colour",
        ["黑色", "白色", "灰粉", "奶茶色"],
        [
            "三模机械键盘",
            "静音无线鼠标",
            "人体工学鼠标",
            "蓝牙折叠键盘",
            "游戏鼠标 26K",
            "键鼠套装",
            "平板妙控键盘",
            "客制化键盘套件",
        ],
    ),
    (
        "wearables",
        "智能穿戴",
        9,
        (19900, 89900),
        "colour",
        ["黑色", "银色", "粉色", "墨绿"],
        ["智能手环 8", "运动手表 GT", "儿童电话手表", "智能戒指", "表带套装", "健康手表 Pro"],
    ),
    (
        "storage",
        "存储",
        6,
        (6900, 69900),
        "capacity",
        ["128GB", "256GB", "512GB", "1TB"],
        ["高速 U 盘", "移动固态硬盘", "TF 存储卡", "双接口 U 盘", "磁吸 SSD", "NAS 硬盘盒"],
    ),
]
# The seed's hits (爆款) and traffic drivers (引流款): (category slug, series index).
HITS = [("chargers", 0), ("power-banks", 0), ("earphones", 0), ("keyboards-mice", 0)]
DRIVERS = [("cables", 0), ("screen-protectors", 0), ("phone-cases", 0)]
TIERS = ["basic", "trend", "collector"]
# Opening stock and reorders cover this many days of expected sales (seed: turnover ≤ 18 days).
COVER_DAYS = 24
# Expected units a visitor buys (order rate × units per order), to size the opening stock.
UNITS_PER_VISITOR = 0.033 * 1.8


@dataclass(frozen=True)
class SkuPlan:
    """One SKU as the simulator knows it (ids filled in once created)."""

    code: str
    category: str
    role: str
    list_price: int
    cost: int
    weight: float  # relative popularity within the shop


@dataclass
class Shop:
    """The catalog the visits browse: SKU ids by category, popularity and price."""

    warehouse_ids: list[int] = field(default_factory=list)
    sku_ids: list[int] = field(default_factory=list)
    sku_category: dict[int, str] = field(default_factory=dict)
    sku_role: dict[int, str] = field(default_factory=dict)
    sku_price: dict[int, int] = field(default_factory=dict)
    sku_weight: dict[int, float] = field(default_factory=dict)
    sku_product: dict[int, int] = field(default_factory=dict)
    categories: dict[str, list[int]] = field(default_factory=dict)
    # (persona, category) → (pool, cumulative weights): the visits' picks, built on first use.
    picks: dict[tuple[str, str | None], tuple[list[int], list[float]]] = field(default_factory=dict)

    @property
    def hits(self) -> list[int]:
        return [s for s in self.sku_ids if self.sku_role[s] == "hit"]

    def add(self, sku_id: int, product_id: int, plan: SkuPlan) -> None:
        self.picks.clear()
        self.sku_ids.append(sku_id)
        self.sku_category[sku_id] = plan.category
        self.sku_role[sku_id] = plan.role
        self.sku_price[sku_id] = plan.list_price
        self.sku_weight[sku_id] = plan.weight
        self.sku_product[sku_id] = product_id
        self.categories.setdefault(plan.category, []).append(sku_id)


def _price(rng: random.Random, band: tuple[int, int]) -> int:
    """A shelf price in the band ending in 9 yuan (¥129, ¥199 …), as Chinese shops price."""
    low, high = band[0] // 100, band[1] // 100
    yuan = rng.randint(low // 10, high // 10) * 10 + 9
    return min(max(yuan, low), high) * 100


def cost_for(list_price: int, index: int) -> int:
    """Cost at a 45–49% margin on the shelf price, varied by product: after the shop's
    coupons and 满减 (≈ 9% of sales) the realised gross margin lands in the seed's 38–42%."""
    margin_bp = 4500 + (index * 97) % 401
    return list_price * (10000 - margin_bp) // 10000


def plan_range(seed: int) -> list[tuple[str, str, str, str, list[SkuPlan]]]:
    """The products (category, title, role, tier, SKUs) of the shop; pure and deterministic."""
    rng = random.Random(f"catalog-{seed}")
    products: list[tuple[str, str, str, str, list[SkuPlan]]] = []
    index = 0
    for slug, _name, weight, band, _attribute, values, series in CATEGORY_PLANS:
        for s_index, title in enumerate(series):
            role = (
                "hit"
                if (slug, s_index) in HITS
                else "traffic_driver"
                if (slug, s_index) in DRIVERS
                else "long_tail"
            )
            # Popularity falls along the series (Zipf-like); hits and drivers stand out.
            pop = weight / (s_index + 1) * {"hit": 14.0, "traffic_driver": 5.0}.get(role, 1.0)
            price = _price(rng, band)
            if role == "traffic_driver":
                price = max(band[0], price // 2 // 100 * 100 - 100)
            skus = []
            for v_index, _value in enumerate(values):
                # Variants cost a little more along the list (larger capacity, longer cable).
                variant_price = price + v_index * (price // 10) // 100 * 100
                skus.append(
                    SkuPlan(
                        code=f"{slug[:3].upper()}{s_index + 1:02d}-{v_index + 1}",
                        category=slug,
                        role=role,
                        list_price=variant_price,
                        cost=cost_for(variant_price, index),
                        weight=pop / (v_index + 1.5),
                    )
                )
            products.append((slug, title, role, TIERS[(index * 7) % 3], skus))
            index += 1
    return products


def opening_units(plan: SkuPlan, total_weight: float, visitors: int) -> int:
    """Units of a SKU to open with: its expected daily sales at the target traffic × the
    cover, at least a few (so a long-tail item is on the shelf)."""
    daily = visitors * UNITS_PER_VISITOR * plan.weight / total_weight
    return max(4, math.ceil(daily * COVER_DAYS))


def build_catalog(
    session: Session, seed: int, rng: random.Random, at: dt.datetime, visitors: int
) -> Shop:
    """Warehouses, brands, categories, products with SKUs (listed, stocked), carriers."""
    shop = Shop()
    shop.warehouse_ids = [inventory.create_warehouse(session, **w).id for w in WAREHOUSES]
    brands = [catalog.create_brand(session, name=name, slug=slug).id for name, slug in BRANDS]
    root = catalog.create_category(session, name="数码配件", slug="3c", parent_id=None)
    cat_ids = {
        slug: catalog.create_category(session, name=name, slug=slug, parent_id=root.id).id
        for slug, name, *_ in CATEGORY_PLANS
    }
    attributes = {
        slug: (attribute, values) for slug, _n, _w, _b, attribute, values, _s in CATEGORY_PLANS
    }
    products = plan_range(seed)
    total_weight = sum(plan.weight for *_, plans in products for plan in plans)
    for p_index, (slug, title, role, tier, plans) in enumerate(products):
        attribute, values = attributes[slug]
        product = catalog.create_product(
            session,
            title=title,
            category_id=cat_ids[slug],
            brand_id=brands[p_index % len(brands)],
            role=role,
            tier=tier,
            images=[f"https://img.example.com/sim/{plan.code}.jpg" for plan in plans[:1]],
            skus=[
                catalog.SkuSpec(
                    code=plan.code,
                    list_price=plan.list_price,
                    cost=plan.cost,
                    attributes={attribute: values[v]},
                    weight_grams=rng.randint(60, 900),
                )
                for v, plan in enumerate(plans)
            ],
        )
        for status in ("in_review", "listed"):
            catalog.change_product_status(session, product_id=product.id, status=status)
        for sku, plan in zip(product.skus, plans, strict=True):
            shop.add(sku.id, product.id, plan)
            units = opening_units(plan, total_weight, visitors)
            # Split between the warehouses, the first (highest priority) holding more.
            first = max(1, round(units * rng.uniform(0.5, 0.7)))
            for warehouse_id, quantity in zip(
                shop.warehouse_ids, (first, max(1, units - first)), strict=False
            ):
                inventory.receive_stock(
                    session,
                    sku_id=sku.id,
                    warehouse_id=warehouse_id,
                    quantity=quantity,
                    note="期初库存 opening stock",
                )
    fulfillment.ensure_default_carriers(session)
    return shop
