"""Who shops: the seed's personas, with their taste, price sensitivity and loyalty.

Seed 000 targets 25–35-year-old male tech enthusiasts; around them students (price-sensitive,
love instant coupons), office workers, and older gift buyers (prefer gifts to coupons).
Persona decides the categories browsed, the chance to buy, the basket, whether a coupon is
used and how likely and how soon the shopper comes back. Pure rules.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

# (province, city, weight): a national 3C shop, heavy on the coastal cities.
REGIONS: tuple[tuple[str, str, int], ...] = (
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
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂"
PAY_CHANNELS = (("wechat_pay", 55), ("alipay", 38), ("unionpay", 7))


@dataclass(frozen=True)
class Persona:
    code: str
    name: str
    share: float  # of new visitors
    conversion: float  # multiplier on the channel's order rate
    categories: dict[str, float]  # preferred categories (others weigh 1)
    gender_male: float
    birth_years: tuple[int, int]
    coupon_use: float  # chance to use a coupon they hold
    extra_item: float  # chance of each add-on item
    comeback: float  # chance to come back and buy again after a purchase
    comeback_days: float  # mean days until then
    return_rate: float  # chance a delivered order is returned


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "tech_enthusiast", "25–35 岁男性科技爱好者 tech enthusiast", 0.42, 1.2,
        {"earphones": 2.0, "keyboards-mice": 2.5, "chargers": 1.6, "storage": 1.8},
        0.85, (1991, 2001), 0.5, 0.38, 0.5, 24.0, 0.05,
    ),
    Persona(
        "student", "学生党 student", 0.22, 0.8,
        {"cables": 2.0, "phone-cases": 2.2, "screen-protectors": 2.0, "earphones": 1.5},
        0.55, (2002, 2008), 0.85, 0.3, 0.38, 28.0, 0.06,
    ),
    Persona(
        "office_worker", "都市白领 office worker", 0.24, 1.0,
        {"power-banks": 1.8, "chargers": 1.5, "wearables": 1.6},
        0.45, (1986, 1998), 0.55, 0.35, 0.42, 26.0, 0.05,
    ),
    Persona(
        "gift_buyer", "送礼长辈 gift buyer", 0.12, 0.9,
        {"wearables": 3.0, "earphones": 1.6, "power-banks": 1.4},
        0.6, (1968, 1985), 0.2, 0.45, 0.28, 35.0, 0.04,
    ),
)  # fmt: skip
BY_CODE = {p.code: p for p in PERSONAS}
TAG_PREFIX = "persona:"


def pick_persona(rng: random.Random) -> Persona:
    return rng.choices(PERSONAS, weights=[p.share for p in PERSONAS])[0]


def persona_of_tags(tags: list[str] | None) -> Persona:
    for tag in tags or []:
        if tag.startswith(TAG_PREFIX) and tag[len(TAG_PREFIX) :] in BY_CODE:
            return BY_CODE[tag[len(TAG_PREFIX) :]]
    return PERSONAS[0]


@dataclass(frozen=True)
class Profile:
    """A new customer's registration data."""

    name: str
    phone: str
    gender: str
    birthday: dt.date
    province: str
    city: str


def make_profile(rng: random.Random, persona: Persona, n: int) -> Profile:
    province, city, _ = rng.choices(REGIONS, weights=[w for *_, w in REGIONS])[0]
    name = (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    )
    low, high = persona.birth_years
    return Profile(
        name=name,
        # The counter keeps phones unique; the prefix is a real mobile prefix.
        phone=f"1{'3589'[n % 4]}{n:09d}",
        gender="male" if rng.random() < persona.gender_male else "female",
        birthday=dt.date(rng.randint(low, high), rng.randint(1, 12), rng.randint(1, 28)),
        province=province,
        city=city,
    )


def pay_channel(rng: random.Random) -> str:
    return rng.choices([c for c, _ in PAY_CHANNELS], weights=[w for _, w in PAY_CHANNELS])[0]
