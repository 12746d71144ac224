"""Pure rules of the automatic actions: which SKUs are slow, which products need a new main
image, how much to buy back. Numbers in, numbers out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ActionKind(StrEnum):
    DRAFT_PROMOTION = "draft_promotion"  # slow SKUs → a draft promotion (promotions service)
    IMAGE_REFRESH = "image_refresh"  # low conversion → flag products for a new main image
    PURCHASE_SUGGESTION = "purchase_suggestion"  # a hit SKU out of stock → buy it back


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"
    SKIPPED = "skipped"
    FAILED = "failed"


# An open action blocks a second one on the same target; a closed one does not.
PENDING = frozenset({ActionStatus.OPEN})
CLOSABLE = {ActionStatus.DONE, ActionStatus.DISMISSED}

SLOW_COVER_DAYS = 180  # stock covering more days of sales than this is not turning
SLOW_LIMIT = 20  # SKUs in one draft promotion (the largest stock values first)
SLOW_DISCOUNT_BP = 1500  # 15% off, for an operator to adjust before activating
PROMOTION_DAYS = 14
IMAGE_MIN_VIEWERS = 30  # fewer viewers than this cannot show a product converts badly
IMAGE_LIMIT = 3
PURCHASE_COVER_DAYS = 21  # buy three weeks of the SKU's recent sales
SALES_WINDOW_DAYS = 28


@dataclass(frozen=True)
class StockRow:
    sku_id: int
    on_hand: int
    available: int
    unit_cost: int  # 分
    listed: bool


def cover_days(on_hand: int, units_sold: int, window_days: int) -> float:
    """Days the stock lasts at the window's sales rate (infinite without sales)."""
    if on_hand <= 0:
        return 0.0
    if units_sold <= 0:
        return math.inf
    return on_hand / (units_sold / window_days)


def slow_skus(
    stock: Mapping[int, StockRow],
    sold: Mapping[int, int],
    window_days: int = SALES_WINDOW_DAYS,
    *,
    max_cover: float = SLOW_COVER_DAYS,
    limit: int = SLOW_LIMIT,
) -> list[int]:
    """Listed SKUs in stock whose stock covers more than `max_cover` days of sales, the
    largest stock values (on hand × unit cost) first."""
    slow = [
        r
        for r in stock.values()
        if r.listed
        and r.on_hand > 0
        and cover_days(r.on_hand, sold.get(r.sku_id, 0), window_days) > max_cover
    ]
    slow.sort(key=lambda r: (-r.on_hand * r.unit_cost, r.sku_id))
    return [r.sku_id for r in slow[:limit]]


def image_candidates(
    viewers: Mapping[int, int],
    buyers: Mapping[int, int],
    lead: set[int],
    *,
    min_viewers: int = IMAGE_MIN_VIEWERS,
    limit: int = IMAGE_LIMIT,
) -> list[tuple[int, int, int]]:
    """(product, viewers, buyers) of the lead products (hits, traffic drivers) seen by at
    least `min_viewers`, worst view-to-buy conversion first; every product when the shop
    marks none as lead."""
    pool = lead & set(viewers) or set(viewers)
    rows = [(p, viewers[p], buyers.get(p, 0)) for p in pool if viewers[p] >= min_viewers]
    rows.sort(key=lambda r: (r[2] / r[1], -r[1], r[0]))
    return rows[:limit]


def purchase_quantity(
    units_sold: int,
    available: int,
    window_days: int = SALES_WINDOW_DAYS,
    cover: int = PURCHASE_COVER_DAYS,
) -> int:
    """Units to order: `cover` days at the window's sales rate, less what is available, at
    least one."""
    need = math.ceil(units_sold * cover / window_days) - max(available, 0)
    return max(need, 1)
