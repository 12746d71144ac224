"""One session's behaviour: what a visitor looks at, and what they put in the basket.

Pure: given the shop, the visitor's channel and persona, a start time and whether this visit
means to buy, it returns the tracking events before checkout and the intended basket. The
engine then places the order through the services and adds the order's own events.
Non-buyers browse and leave (a bounce, some product views, sometimes an abandoned cart): the
engine draws how far (`browse_shape`), `browse` what they look at (in `sim.browsing`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from shopops.sim.catalog import Shop
from shopops.sim.personas import Persona
from shopops.sim.traffic import ChannelPlan, landing_url

SEARCH_TERMS = {
    "chargers": ["氮化镓充电器", "65W 快充", "充电头"],
    "cables": ["快充数据线", "typec 数据线", "苹果数据线"],
    "power-banks": ["充电宝", "磁吸充电宝", "20000毫安"],
    "earphones": ["降噪耳机", "蓝牙耳机", "无线耳机"],
    "phone-cases": ["手机壳", "磁吸手机壳", "iPhone 16 壳"],
    "screen-protectors": ["钢化膜", "防窥膜"],
    "keyboards-mice": ["机械键盘", "无线鼠标"],
    "wearables": ["智能手表", "手环"],
    "storage": ["移动硬盘", "U盘"],
}
# Non-buyers: P(bounce), P(abandon the cart | stayed), P(abandon at checkout | cart).
BOUNCE = 0.42
ABANDON_CART = 0.10
ABANDON_CHECKOUT = 0.25
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
)


@dataclass
class Visit:
    distinct_id: str
    channel: str
    persona: Persona
    start: dt.datetime
    customer_id: int | None = None  # a known customer (a returning visit)
    new_customer: bool = False  # signed up at this visit's checkout
    buys: bool = False
    p: float = 0.0  # the true chance this visit places an order (ground truth)
    events: list[dict[str, Any]] = field(default_factory=list)
    basket: list[tuple[int, int]] = field(default_factory=list)
    checkout_at: dt.datetime | None = None

    @property
    def returning(self) -> bool:
        return self.customer_id is not None and not self.new_customer


def epoch_ms(when: dt.datetime) -> int:
    # Epoch milliseconds, which the ingestion takes as is (cheaper than ISO text both ways).
    return int(when.timestamp() * 1000)


def _cumulative(
    shop: Shop, persona: Persona, category: str | None
) -> tuple[list[int], list[float]]:
    """The pool and cumulative weights of a pick, computed once per shop, persona, category."""
    key = (persona.code, category)
    found = shop.picks.get(key)
    if found is None:
        pool = shop.categories[category] if category else shop.sku_ids
        weights = [
            shop.sku_weight[s] * persona.categories.get(shop.sku_category[s], 1.0) for s in pool
        ]
        found = (list(pool), list(itertools.accumulate(weights)))
        shop.picks[key] = found
    return found


def pick_sku(rng: random.Random, shop: Shop, persona: Persona, category: str | None = None) -> int:
    """A SKU by popularity × the persona's taste (within `category` when given)."""
    pool, cum = _cumulative(shop, persona, category)
    # What rng.choices(pool, cum_weights=cum) draws, without its per-call set-up.
    return pool[bisect.bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]


def _between(rng: random.Random, low: int, high: int) -> int:
    """A whole number in [low, high] (randint's distribution, a fraction of its cost)."""
    return low + int(rng.random() * (high - low + 1))


def basket_for(
    rng: random.Random, shop: Shop, persona: Persona, first: int
) -> list[tuple[int, int]]:
    """The main item and, sometimes, add-ons (a cable with a charger, a film with a case)."""
    lines = {first: 1 if rng.random() < 0.85 else 2}
    for _ in range(3):
        if rng.random() >= persona.extra_item:
            break
        sku = pick_sku(rng, shop, persona)
        lines[sku] = lines.get(sku, 0) + 1
    return list(lines.items())


def plan_visit(
    rng: random.Random,
    shop: Shop,
    visit: Visit,
    plan: ChannelPlan,
    campaign: str,
) -> Visit:
    """Fill in the visit's pre-checkout events and, for a buyer, the basket (a non-buyer's
    browsing here too: the engine hands those to `sim.browsing` instead)."""
    t = epoch_ms(visit.start)  # the clock of the visit, in epoch ms
    if not visit.buys:
        browse(rng, shop, visit, plan, campaign, t, browse_shape(rng))
        return visit
    first = _landing(rng, shop, visit, plan, campaign, t)
    t, _viewed = _look(rng, shop, visit, first, t, rng.random() < 0.35, 1 + _between(rng, 0, 3))
    events = visit.events
    visit.basket = basket_for(rng, shop, visit.persona, first)
    for sku, _qty in visit.basket:
        t += 1000 * _between(rng, 10, 90)
        events.append(_view(visit, shop, "add_to_cart", t, sku))
    t += 1000 * _between(rng, 20, 120)
    events.append(_event(visit, "begin_checkout", t, {}))
    t += 1000 * _between(rng, 20, 90)
    visit.checkout_at = visit.start + dt.timedelta(milliseconds=t - epoch_ms(visit.start))
    return visit


# A non-buyer's shape (bit 0 stayed, 1 searched, 2–3 product views − 1, 4 cart, 5 checkout):
# what sets how many events the session makes, drawn where the visit is decided.
STAYED, SEARCHED, CART, CHECKOUT = 1, 2, 16, 32
BROWSE_SPAN_MS = 1000 * (40 + 4 * 120 + 90 + 120)  # the longest a non-buyer's session runs


def browse_shape(rng: random.Random) -> int:
    """How far a visitor who does not buy goes: bounce, or search, view, sometimes a cart."""
    if rng.random() < BOUNCE:
        return 0
    shape = STAYED | (SEARCHED if rng.random() < 0.35 else 0) | _between(rng, 0, 3) << 2
    if rng.random() < ABANDON_CART:
        shape |= CART | (CHECKOUT if rng.random() < ABANDON_CHECKOUT else 0)
    return shape


def shape_events(shape: int) -> int:
    """How many tracking events a non-buyer of `shape` makes."""
    if not shape:
        return 1
    views = 1 + (shape >> 2 & 3)
    return 1 + views + bool(shape & SEARCHED) + bool(shape & CART) + bool(shape & CHECKOUT)


def browse(
    rng: random.Random, shop: Shop, visit: Visit, plan: ChannelPlan, campaign: str, t: int,
    shape: int,
) -> None:  # fmt: skip
    """A non-buyer's events from `t` (epoch ms): what they look at, as far as `shape` goes."""
    first = _landing(rng, shop, visit, plan, campaign, t)
    if not shape:
        return
    views = 1 + (shape >> 2 & 3)
    t, viewed = _look(rng, shop, visit, first, t, bool(shape & SEARCHED), views)
    if shape & CART:
        t += 1000 * _between(rng, 10, 90)
        visit.events.append(_view(visit, shop, "add_to_cart", t, viewed[-1]))
        if shape & CHECKOUT:
            t += 1000 * _between(rng, 20, 120)
            visit.events.append(_event(visit, "begin_checkout", t, {}))


def _landing(
    rng: random.Random, shop: Shop, visit: Visit, plan: ChannelPlan, campaign: str, t: int
) -> int:
    """The landing page view; returns the SKU the visitor came for."""
    first = pick_sku(rng, shop, visit.persona)
    product = shop.sku_product[first]
    path = "/" if rng.random() < 0.35 else f"/products/{product}"
    url = landing_url(plan, path, campaign)
    event = _event(visit, "page_view", t, {"url": url, "channel_hint": plan.code})
    if plan.referrer:
        event["properties"]["referrer"] = plan.referrer
    visit.events.append(event)
    return first


def _look(
    rng: random.Random, shop: Shop, visit: Visit, first: int, t: int, search: bool, views: int
) -> tuple[int, list[int]]:
    """A search (when `search`) and `views` product views in `first`'s category."""
    events = visit.events
    category = shop.sku_category[first]
    if search:
        t += 1000 * _between(rng, 5, 40)
        events.append(_event(visit, "search", t, {"query": rng.choice(SEARCH_TERMS[category])}))
    viewed = [first] + [pick_sku(rng, shop, visit.persona, category) for _ in range(views - 1)]
    for sku in viewed:
        t += 1000 * _between(rng, 15, 120)
        events.append(_view(visit, shop, "product_view", t, sku))
    return t, viewed


def _view(visit: Visit, shop: Shop, name: str, t: int, sku: int) -> dict[str, Any]:
    product = shop.sku_product[sku]
    return _event(
        visit,
        name,
        t,
        {
            "url": f"https://shop.example.com/products/{product}",
            "sku_id": sku,
            "product_id": product,
        },
    )


def _event(visit: Visit, name: str, t: int, props: dict[str, Any]) -> dict[str, Any]:
    """A tracking event at `t` (epoch ms)."""
    event: dict[str, Any] = {
        "event": name,
        "distinct_id": visit.distinct_id,
        "timestamp": t,
        "properties": props,
    }
    if visit.customer_id is not None:
        event["customer_id"] = visit.customer_id
    return event


def order_events(
    visit: Visit, order_id: int, amount: int, placed: dt.datetime, paid: dt.datetime | None
) -> list[dict[str, Any]]:
    """The place_order and (when it went through) pay events of the visit's order."""
    props = {"order_id": order_id, "amount": amount}
    out = [_event(visit, "place_order", epoch_ms(placed), props)]
    if paid is not None:
        out.append(_event(visit, "pay", epoch_ms(paid), dict(props)))
    return out
