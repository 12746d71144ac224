"""Simulated shoppers write reviews (评价) of their completed orders, through the reviews
service: the pre-check, moderation queue and 晒单有奖 points all run as for a real shopper.

About 30% of completed orders are reviewed (a little more for students and tech fans, less
for gift buyers); ratings are mostly 4–5 stars, lower after a return and much lower when the
goods came back faulty (a quality return); ~30% carry photos; the texts are Chinese, from a
small template set per category; a few carry an ad or a phone number and wait for moderation.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shopops.aftersales import service as aftersales
from shopops.catalog import service as catalog
from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.orders import service as orders
from shopops.reviews import service as reviews
from shopops.reviews import service_bulk as reviews_bulk
from shopops.reviews.models import Review

REVIEW_CHANCE = {"tech_enthusiast": 0.33, "student": 0.34, "office_worker": 0.28}
DEFAULT_CHANCE = 0.26  # gift buyers and anyone else
PHOTO_CHANCE = 0.3
ANONYMOUS_CHANCE = 0.15
EMPTY_TEXT_CHANCE = 0.08  # stars only (the default 好评)
SPAM_CHANCE = 0.03  # an ad or a phone number: the pre-check holds it for moderation
STARS = (1, 2, 3, 4, 5)
# Star weights: a kept order, a no-reason return, a quality (faulty) return.
RATING_WEIGHTS = {
    "kept": (0.02, 0.02, 0.06, 0.25, 0.65),
    "returned": (0.1, 0.12, 0.3, 0.28, 0.2),
    "faulty": (0.45, 0.3, 0.15, 0.07, 0.03),
}
PHOTO_HOST = "https://img.shopops.example/reviews"
CACHE_KEY = "sim_review_category_slugs"

GOOD = {
    "chargers": [
        "充电速度很快，手机半小时就充到一半多",
        "体积小巧，出差带着很方便",
        "发热不明显，做工扎实",
    ],
    "cables": ["线材很结实，编织的手感好", "长度刚好，充电和传输都稳定", "接口插拔顺滑，不松动"],
    "power-banks": ["容量很足，能给手机充三次", "重量可以接受，放包里不占地方", "边充边放都没问题"],
    "earphones": [
        "音质清晰，低音有力度",
        "佩戴舒适，戴久了耳朵也不疼",
        "降噪效果超出预期，地铁上很安静",
    ],
    "phone-cases": ["手感细腻，不沾指纹", "开孔精准，按键灵敏", "边框有保护，摔了一次手机没事"],
    "screen-protectors": ["贴膜很顺利，没有气泡", "透光度高，触控灵敏", "边缘贴合好，不影响手感"],
    "keyboards-mice": ["键程舒服，打字很爽", "连接稳定，没有延迟", "做工精致，桌面颜值提升"],
    "wearables": ["续航很长，一周一充", "功能很全，心率和睡眠都准", "表带舒服，运动时也不勒"],
    "storage": [
        "读写速度快，拷贝大文件很省时间",
        "容量和标称一致，很放心",
        "小巧耐用，随身携带方便",
    ],
}
GENERIC_GOOD = ["物流很快，包装完好", "性价比很高，值得推荐", "和描述一致，很满意", "客服回复及时"]
MIDDLE = ["东西还行，中规中矩", "能用，但没有想象中好", "价格有点贵，质量一般", "包装有点简陋"]
BAD = ["用了两天就坏了，很失望", "和描述不符，质量太差", "做工粗糙，有明显瑕疵", "售后处理太慢"]
BY_PERSONA = {
    "student": ["学生党表示性价比可以", "宿舍用刚刚好"],
    "gift_buyer": ["买来送给家人，他们很喜欢", "送礼有面子，包装精美"],
    "office_worker": ["上班通勤用很方便", "办公室同事也问链接"],
    "tech_enthusiast": ["参数实测达标，没有虚标", "对比了几款，这款最稳"],
}
SPAM = ["好评返现，加微信领红包", "有需要的联系我 13912345678"]


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    """What one simulated shopper writes about one line."""

    rating: int
    content: str
    photos: int
    anonymous: bool


def review_chance(persona_code: str) -> float:
    return REVIEW_CHANCE.get(persona_code, DEFAULT_CHANCE)


def plan_review(
    rng: random.Random, *, persona_code: str, category: str, outcome: str = "kept"
) -> ReviewPlan:
    """Stars, text and photos of one review; `outcome` is kept, returned or faulty."""
    rating = rng.choices(STARS, weights=RATING_WEIGHTS[outcome])[0]
    if rng.random() < EMPTY_TEXT_CHANCE:
        content = ""
    elif rating >= 4:
        parts = rng.sample(GOOD.get(category, GENERIC_GOOD), k=rng.choice((1, 2)))
        parts.append(rng.choice(GENERIC_GOOD + BY_PERSONA.get(persona_code, [])))
        content = "，".join(parts) + "！"
    elif rating == 3:
        content = rng.choice(MIDDLE) + "。"
    else:
        content = "，".join(rng.sample(BAD, k=2)) + "。"
    if content and rng.random() < SPAM_CHANCE:
        content += rng.choice(SPAM)
    photos = rng.randint(1, 4) if rng.random() < PHOTO_CHANCE else 0
    return ReviewPlan(rating, content, photos, rng.random() < ANONYMOUS_CHANCE)


def _category_slugs(session: Session, category_ids: set[int]) -> dict[int, str]:
    # Categories do not change during a run: look each up once per session.
    known: dict[int, str] = session.info.setdefault(CACHE_KEY, {})
    missing = category_ids - known.keys()
    if len(missing) > 1:  # one read of them all (a few dozen) costs less than two lookups
        known.update((c.id, c.slug) for c in catalog.list_categories(session))
    for category_id in category_ids - known.keys():
        known[category_id] = catalog.get_category(session, category_id=category_id).slug
    return known


def _outcome(out: dict[int, str], line_id: int, no_reason: bool) -> None:
    # A quality return outweighs a no-reason one of the same line.
    if out.get(line_id) != "faulty":
        out[line_id] = "returned" if no_reason else "faulty"


def _outcomes(session: Session, order_id: int) -> dict[int, str]:
    """Line id → returned or faulty, for the lines of this order's return requests."""
    out: dict[int, str] = {}
    for request in aftersales.list_returns(session, order_id=order_id):
        if request.status == "rejected":
            continue
        for line in request.lines:
            _outcome(out, line.order_line_id, request.no_reason)
    return out


def _outcomes_many(session: Session, order_ids: Sequence[int]) -> dict[int, str]:
    """`_outcomes` of many orders at once (line ids are unique across orders): one read."""
    out: dict[int, str] = {}
    for line_id, no_reason in aftersales.returned_lines(session, order_ids=order_ids):
        _outcome(out, line_id, no_reason)
    return out


def _draft(
    rng: random.Random, persona_code: str, category: str, outcome: str, line_id: int
) -> reviews.ReviewDraft:
    plan = plan_review(rng, persona_code=persona_code, category=category, outcome=outcome)
    photos = tuple(f"{PHOTO_HOST}/{line_id}-{k}.jpg" for k in range(1, plan.photos + 1))
    return reviews.ReviewDraft(line_id, plan.rating, plan.content, photos, plan.anonymous)


def write_reviews(
    session: Session,
    rng: random.Random,
    *,
    order_id: int,
    customer_id: int,
    persona_code: str,
    at: dt.datetime,
) -> list[Review]:
    """Maybe review the lines of a delivered order at `at` (about 3 orders in 10): one review
    per line, all through one `reviews.submit_reviews`. Returns the reviews written (none most
    times, or when the store refuses them, e.g. an order reviewed already)."""
    if rng.random() >= review_chance(persona_code):
        return []
    order = orders.get_order(session, order_id=order_id, details=True)
    if order.delivered_at is None or order.customer_id != customer_id:
        return []
    skus = catalog.get_sellable_skus(session, sku_ids=[line.sku_id for line in order.lines])
    slugs = _category_slugs(session, {s.category_id for s in skus.values()})
    outcomes = _outcomes(session, order_id)
    drafts = []
    for line in order.lines:
        snapshot = skus.get(line.sku_id)
        category = slugs.get(snapshot.category_id, "") if snapshot else ""
        drafts.append(_draft(rng, persona_code, category, outcomes.get(line.id, "kept"), line.id))
    before = session.info.get("now")
    set_clock(session, at)
    try:
        # The service checks everything before it writes: a refusal leaves nothing to undo.
        return reviews.submit_reviews(
            session, customer_id=customer_id, order_number=order.number, drafts=drafts
        )
    except ShopOpsError:
        return []
    finally:
        set_clock(session, before)


def write_reviews_many(
    session: Session,
    rng: random.Random,
    *,
    completed: Sequence[tuple[int, int, str, dt.datetime]],
) -> int:
    """`write_reviews` of each `(order id, customer id, persona code, at)` in turn (the same
    draws of `rng`, so the same decisions), through one `reviews.submit_reviews_many`: the
    orders, SKUs and returns are read once for the batch. Returns how many reviews were
    written."""
    if not completed:
        return 0
    found = reviews_bulk.orders_to_review(session, order_ids=[c[0] for c in completed])
    sku_ids = {sku for o in found.values() for _, sku in o.lines.values()}
    skus = catalog.get_sellable_skus(session, sku_ids=sorted(sku_ids))
    slugs = _category_slugs(session, {s.category_id for s in skus.values()})
    outcomes = _outcomes_many(session, list(found))
    items = []
    for order_id, customer_id, persona_code, at in completed:
        if rng.random() >= review_chance(persona_code):
            continue
        order = found.get(order_id)
        if order is None or order.delivered_at is None or order.customer_id != customer_id:
            continue
        drafts = []
        for line_id, (_, sku_id) in order.lines.items():
            snapshot = skus.get(sku_id)
            category = slugs.get(snapshot.category_id, "") if snapshot else ""
            outcome = outcomes.get(line_id, "kept")
            drafts.append(_draft(rng, persona_code, category, outcome, line_id))
        items.append(reviews_bulk.ReviewItem(customer_id, order_id, drafts, at))
    # The orders were read just above in this unit of work: the service need not read them.
    results = reviews_bulk.submit_reviews_many(session, items=items, orders_read=found)
    return sum(len(r) for r in results if isinstance(r, list))
