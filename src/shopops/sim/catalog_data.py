"""The sample shop's range: a 3C-accessories store, as in the seed 000 launch plan.

Each entry: category (zh, slug), products (title, role, tier, list price in fen, variants).
Costs are set from a target gross margin of 38–42% (the seed's band).
"""

from __future__ import annotations

from typing import Any

WAREHOUSES: list[dict[str, Any]] = [
    {"code": "SH-01", "name": "上海青浦仓", "region": "上海", "city": "上海", "priority": 10},
    {"code": "GZ-01", "name": "广州白云仓", "region": "广东", "city": "广州", "priority": 20},
]

BRANDS: list[tuple[str, str]] = [
    ("极客电 GeekVolt", "geekvolt"),
    ("声动 SoundMove", "soundmove"),
    ("护盾 ShieldPro", "shieldpro"),
]

# (category name, slug, parent slug or None)
CATEGORIES: list[tuple[str, str, str | None]] = [
    ("数码配件", "3c", None),
    ("充电器", "chargers", "3c"),
    ("数据线", "cables", "3c"),
    ("移动电源", "power-banks", "3c"),
    ("耳机", "earphones", "3c"),
    ("手机壳", "phone-cases", "3c"),
    ("钢化膜", "screen-protectors", "3c"),
    ("键鼠", "keyboards-mice", "3c"),
    ("智能穿戴", "wearables", "3c"),
    ("存储", "storage", "3c"),
]

# (category slug, brand slug, title, role, tier, list price fen, variant attribute, values)
PRODUCTS: list[tuple[str, str, str, str, str, int, str, list[str]]] = [
    (
        "chargers",
        "geekvolt",
        "氮化镓快充充电器 65W",
        "hit",
        "basic",
        19900,
        "colour",
        ["白色", "黑色"],
    ),
    (
        "chargers",
        "geekvolt",
        "氮化镓三口充电器 100W",
        "hit",
        "trend",
        29900,
        "colour",
        ["白色", "深空灰"],
    ),
    ("chargers", "geekvolt", "磁吸无线充电板 15W", "long_tail", "trend", 15900, "colour", ["白色"]),
    (
        "cables",
        "geekvolt",
        "编织快充数据线 USB-C 1.5m",
        "traffic_driver",
        "basic",
        3900,
        "length",
        ["1m", "1.5m", "2m"],
    ),
    ("cables", "geekvolt", "240W 全功能数据线", "long_tail", "trend", 8900, "length", ["1m", "2m"]),
    (
        "power-banks",
        "geekvolt",
        "超薄磁吸移动电源 10000mAh",
        "hit",
        "trend",
        24900,
        "colour",
        ["白色", "蓝色", "黑色"],
    ),
    (
        "power-banks",
        "geekvolt",
        "大容量移动电源 20000mAh",
        "long_tail",
        "basic",
        19900,
        "colour",
        ["黑色"],
    ),
    (
        "earphones",
        "soundmove",
        "降噪真无线耳机 Pro",
        "hit",
        "trend",
        49900,
        "colour",
        ["白色", "黑色"],
    ),
    (
        "earphones",
        "soundmove",
        "运动挂耳式蓝牙耳机",
        "long_tail",
        "basic",
        25900,
        "colour",
        ["黑色", "绿色"],
    ),
    (
        "earphones",
        "soundmove",
        "开放式骨传导耳机",
        "long_tail",
        "collector",
        59900,
        "colour",
        ["灰色"],
    ),
    (
        "phone-cases",
        "shieldpro",
        "磁吸透明手机壳",
        "traffic_driver",
        "basic",
        4900,
        "model",
        ["iPhone 16", "iPhone 16 Pro", "iPhone 16 Pro Max"],
    ),
    (
        "phone-cases",
        "shieldpro",
        "碳纤维纹手机壳",
        "long_tail",
        "trend",
        7900,
        "model",
        ["iPhone 16", "iPhone 16 Pro"],
    ),
    (
        "screen-protectors",
        "shieldpro",
        "高清防指纹钢化膜（2片装）",
        "traffic_driver",
        "basic",
        2900,
        "model",
        ["iPhone 16", "iPhone 16 Pro"],
    ),
    (
        "screen-protectors",
        "shieldpro",
        "防窥钢化膜",
        "long_tail",
        "basic",
        3900,
        "model",
        ["iPhone 16", "iPhone 16 Pro"],
    ),
    (
        "keyboards-mice",
        "geekvolt",
        "三模机械键盘 87 键",
        "long_tail",
        "collector",
        39900,
        "switch",
        ["红轴", "茶轴"],
    ),
    (
        "keyboards-mice",
        "geekvolt",
        "静音无线鼠标",
        "long_tail",
        "basic",
        9900,
        "colour",
        ["黑色", "粉色"],
    ),
    (
        "wearables",
        "soundmove",
        "智能手环 8",
        "long_tail",
        "trend",
        22900,
        "colour",
        ["黑色", "粉色"],
    ),
    (
        "wearables",
        "soundmove",
        "运动智能手表 GT",
        "hit",
        "collector",
        89900,
        "colour",
        ["黑色", "银色"],
    ),
    (
        "storage",
        "geekvolt",
        "高速 U 盘 128GB",
        "long_tail",
        "basic",
        6900,
        "capacity",
        ["128GB", "256GB"],
    ),
    (
        "storage",
        "geekvolt",
        "移动固态硬盘 1TB",
        "long_tail",
        "trend",
        49900,
        "capacity",
        ["1TB", "2TB"],
    ),
]


def cost_for(list_price: int, index: int) -> int:
    """Cost at a gross margin between 38% and 42%, varied by product so margins differ."""
    margin_bp = 3800 + (index * 97) % 401  # 38.00% … 42.00%
    return list_price * (10000 - margin_bp) // 10000
