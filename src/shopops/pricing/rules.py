"""Price rules, pure: no database, no clock, no I/O. Money is integer fen; margins and steps
are basis points (1% = 100 bp).

- `cost_plus_price`, `price_for_margin`, `competitor_price`: the classic ways to set a price.
- `psychological_price`: the charm ending (¥199, ¥299, ¥19.9) at or below a price.
- `margin_band`: the prices whose gross margin lies inside a band (seed: 38–42%).
- `propose_reprice`: the dynamic repricing rule. From the current price, the cost, competitor
  prices and the stock cover (days of cover = available / daily sales) it proposes a price and
  says why. It never proposes a price outside the margin band; when the band holds no price at
  all (cost 0, or a band narrower than one fen) it proposes none and says so.
- `flash_sale_problems`: why a flash sale definition cannot be accepted (empty when it can).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

BP = 10_000
# Seed (000 §2.3, §3.1): gross margin kept in 38%–42% by a dynamic pricing model.
DEFAULT_MIN_MARGIN_BP = 3_800
DEFAULT_MAX_MARGIN_BP = 4_200
# Seed: turnover ≤ 18 days; below a week of cover a hit product is about to stock out.
DEFAULT_LOW_COVER_DAYS = 7.0
DEFAULT_HIGH_COVER_DAYS = 18.0
# One repricing moves the price by at most 5%: big jumps read as errors to shoppers.
DEFAULT_STEP_BP = 500


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def gross_margin_bp(price: int, cost: int) -> int | None:
    """(price − cost) / price in basis points, rounded down; None for a zero price."""
    if price <= 0:
        return None
    return (price - cost) * BP // price


def cost_plus_price(cost: int, markup_bp: int) -> int:
    """Cost plus a markup on cost, rounded up to the fen (cost ¥100, 60% → ¥160)."""
    if cost < 0 or markup_bp < 0:
        raise ValueError("cost and markup cannot be negative")
    return ceil_div(cost * (BP + markup_bp), BP)


def price_for_margin(cost: int, margin_bp: int) -> int:
    """The lowest price whose gross margin is at least `margin_bp` (0 ≤ margin < 100%)."""
    if cost < 0 or not 0 <= margin_bp < BP:
        raise ValueError("cost ≥ 0 and 0 ≤ margin < 100%")
    return ceil_div(cost * BP, BP - margin_bp)


class CompetitorStrategy(StrEnum):
    MATCH_MEDIAN = "match_median"  # sit in the middle of the market
    MATCH_LOWEST = "match_lowest"  # price war on a traffic driver (引流款)
    UNDERCUT_LOWEST = "undercut_lowest"  # a step below the cheapest


def competitor_price(
    prices: Sequence[int],
    strategy: CompetitorStrategy = CompetitorStrategy.MATCH_MEDIAN,
    *,
    undercut_bp: int = 100,
) -> int | None:
    """A price placed against competitors' prices (positive ones only); None without any."""
    seen = sorted(p for p in prices if p > 0)
    if not seen:
        return None
    if strategy is CompetitorStrategy.MATCH_MEDIAN:
        return int(statistics.median_low(seen))
    if strategy is CompetitorStrategy.MATCH_LOWEST:
        return seen[0]
    return max(1, seen[0] * (BP - undercut_bp) // BP)


@dataclass(frozen=True, slots=True)
class Ending:
    """A charm ending: prices `≡ ending (mod unit)`. Default: whole yuan ending in 9."""

    unit: int = 1_000
    ending: int = 900


YUAN_9 = Ending(1_000, 900)  # ¥199, ¥299, ¥49
YUAN_99 = Ending(10_000, 9_900)  # ¥199, ¥299 only (hundreds)
JIAO_9 = Ending(100, 90)  # ¥4.90, ¥19.90


def ending_for(price: int) -> Ending:
    """The usual charm ending for a price's size: ¥x9 from ¥10 up, ¥x.9 below."""
    return YUAN_9 if price >= 1_000 else JIAO_9


def psychological_price(price: int, ending: Ending | None = None) -> int | None:
    """The highest price ≤ `price` with the charm ending (¥205 → ¥199, ¥250 → ¥249);
    None when there is none (a price below the ending itself)."""
    ending = ending or ending_for(price)
    if price < ending.ending:
        return None
    return price - (price - ending.ending) % ending.unit


@dataclass(frozen=True, slots=True)
class Band:
    """Prices (fen, inclusive) whose gross margin lies in [min_bp, max_bp]; empty when
    `low > high`."""

    low: int
    high: int

    @property
    def empty(self) -> bool:
        return self.low > self.high

    def __contains__(self, price: object) -> bool:
        return isinstance(price, int) and self.low <= price <= self.high


def margin_band(
    cost: int, *, min_bp: int = DEFAULT_MIN_MARGIN_BP, max_bp: int = DEFAULT_MAX_MARGIN_BP
) -> Band:
    """The price interval giving a margin in [min_bp, max_bp]. A zero cost has no band
    (every positive price is a 100% margin)."""
    if not 0 <= min_bp <= max_bp < BP:
        raise ValueError("need 0 ≤ min margin ≤ max margin < 100%")
    if cost <= 0:
        return Band(1, 0)
    return Band(ceil_div(cost * BP, BP - min_bp), cost * BP // (BP - max_bp))


def in_margin_band(
    price: int,
    cost: int,
    *,
    min_bp: int = DEFAULT_MIN_MARGIN_BP,
    max_bp: int = DEFAULT_MAX_MARGIN_BP,
) -> bool:
    return price in margin_band(cost, min_bp=min_bp, max_bp=max_bp)


class ReasonCode(StrEnum):
    COMPETITOR_MEDIAN = "competitor_median"
    NO_COMPETITORS = "no_competitors"
    LOW_COVER = "low_cover"
    HIGH_COVER = "high_cover"
    NO_SALES = "no_sales"
    CAPPED_STEP = "capped_step"
    CHARM_ENDING = "charm_ending"
    RAISED_TO_BAND = "raised_to_margin_band"
    LOWERED_TO_BAND = "lowered_to_margin_band"
    BAND_EMPTY = "margin_band_empty"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    text: str


@dataclass(frozen=True, slots=True)
class RepriceInput:
    """What the rule looks at: prices in fen, `daily_sales` in units per day."""

    current_price: int
    cost: int
    competitor_prices: tuple[int, ...] = ()
    available: int = 0
    daily_sales: float = 0.0


@dataclass(frozen=True, slots=True)
class RepricePolicy:
    min_margin_bp: int = DEFAULT_MIN_MARGIN_BP
    max_margin_bp: int = DEFAULT_MAX_MARGIN_BP
    low_cover_days: float = DEFAULT_LOW_COVER_DAYS
    high_cover_days: float = DEFAULT_HIGH_COVER_DAYS
    step_bp: int = DEFAULT_STEP_BP
    charm: bool = True


@dataclass(frozen=True, slots=True)
class RepriceProposal:
    """The rule's answer: `proposed_price` is None only when the band is empty."""

    current_price: int
    proposed_price: int | None
    cost: int
    band: Band
    cover_days: float | None
    margin_bp: int | None
    reasons: tuple[Reason, ...]

    @property
    def changed(self) -> bool:
        return self.proposed_price is not None and self.proposed_price != self.current_price


def cover_days(available: int, daily_sales: float) -> float | None:
    """Days the stock lasts at the current pace; None when nothing sells (infinite cover)."""
    if daily_sales <= 0:
        return None
    return max(available, 0) / daily_sales


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _fit_band(target: int, band: Band, charm: bool, current: int) -> tuple[int, list[Reason]]:
    """The price in the band nearest `target`; with a charm ending when one lies in the band
    on the same side of the current price (a charm never turns a cut into a rise)."""
    reasons: list[Reason] = []
    price = min(max(target, band.low), band.high)
    if price > target:
        reasons.append(
            Reason(ReasonCode.RAISED_TO_BAND, f"raised to {band.low} fen: the margin floor")
        )
    elif price < target:
        reasons.append(
            Reason(ReasonCode.LOWERED_TO_BAND, f"lowered to {band.high} fen: the margin ceiling")
        )
    if charm:
        ending = ending_for(price)
        below = psychological_price(price, ending)
        above = (below + ending.unit) if below is not None else ending.ending
        for candidate in sorted((below, above), key=lambda c: abs((c or 0) - price)):
            if (
                candidate is not None
                and candidate in band
                and _sign(candidate - current) == _sign(price - current)
            ):
                if candidate != price:
                    reasons.append(
                        Reason(ReasonCode.CHARM_ENDING, f"charm ending: {price} → {candidate} fen")
                    )
                return candidate, reasons
    return price, reasons


def propose_reprice(data: RepriceInput, policy: RepricePolicy = RepricePolicy()) -> RepriceProposal:
    """Propose a price: follow the competitors' median, lean up when stock is short and down
    when it is slow, move at most `step_bp` from the current price, prefer a charm ending —
    and always land inside the margin band (or propose nothing when the band is empty)."""
    band = margin_band(data.cost, min_bp=policy.min_margin_bp, max_bp=policy.max_margin_bp)
    cover = cover_days(data.available, data.daily_sales)
    if band.empty:
        return RepriceProposal(
            data.current_price,
            None,
            data.cost,
            band,
            cover,
            None,
            (
                Reason(
                    ReasonCode.BAND_EMPTY,
                    f"no price gives a margin of {policy.min_margin_bp / 100:g}–"
                    f"{policy.max_margin_bp / 100:g}% at cost {data.cost} fen",
                ),
            ),
        )
    reasons: list[Reason] = []
    current = data.current_price
    market = competitor_price(data.competitor_prices)
    if market is None:
        target = current
        reasons.append(Reason(ReasonCode.NO_COMPETITORS, "no competitor prices: keep the price"))
    else:
        target = market
        reasons.append(Reason(ReasonCode.COMPETITOR_MEDIAN, f"competitors' median is {market} fen"))
    step = max(current, 1) * policy.step_bp // BP
    if cover is None:
        if data.available > 0:
            target = min(target, current - step)
            reasons.append(Reason(ReasonCode.NO_SALES, "stock but no sales: lower the price"))
    elif cover < policy.low_cover_days:
        target = max(target, current + step)
        reasons.append(
            Reason(ReasonCode.LOW_COVER, f"{cover:.1f} days of cover: stock is short, raise")
        )
    elif cover > policy.high_cover_days:
        target = min(target, current - step)
        reasons.append(
            Reason(ReasonCode.HIGH_COVER, f"{cover:.1f} days of cover: stock is slow, lower")
        )
    capped = min(max(target, current - step), current + step)
    if capped != target:
        reasons.append(
            Reason(ReasonCode.CAPPED_STEP, f"one move is at most {policy.step_bp / 100:g}%")
        )
    price, fit = _fit_band(max(capped, 1), band, policy.charm, current)
    reasons.extend(fit)
    if price == current:
        reasons.append(Reason(ReasonCode.UNCHANGED, "the current price already fits"))
    return RepriceProposal(
        current, price, data.cost, band, cover, gross_margin_bp(price, data.cost), tuple(reasons)
    )


# ---- flash sales ------------------------------------------------------------------------------


class FlashProblem(StrEnum):
    WINDOW_INVALID = "window_invalid"  # ends at or before it starts
    WINDOW_PAST = "window_in_past"  # already over
    LIMIT_INVALID = "limit_invalid"  # per-customer limit below 1
    NO_ITEMS = "no_items"
    DUPLICATE_SKU = "duplicate_sku"
    PRICE_INVALID = "flash_price_invalid"  # ≤ 0 or not below the list price
    POOL_INVALID = "pool_invalid"  # ≤ 0


@dataclass(frozen=True, slots=True)
class FlashItemFacts:
    sku_id: int
    list_price: int
    flash_price: int
    pool: int


@dataclass(frozen=True, slots=True)
class Problem:
    code: FlashProblem
    message: str
    sku_id: int | None = None


def flash_sale_problems(
    *,
    starts_at: object,
    ends_at: object,
    now: object,
    per_customer_limit: int,
    items: Sequence[FlashItemFacts],
) -> list[Problem]:
    """Every reason the flash sale cannot be created, in a stable order (empty: it can).
    Times are any mutually comparable values (aware datetimes in practice)."""
    problems: list[Problem] = []
    if not ends_at > starts_at:  # type: ignore[operator]
        problems.append(Problem(FlashProblem.WINDOW_INVALID, "the window ends before it starts"))
    elif not ends_at > now:  # type: ignore[operator]
        problems.append(Problem(FlashProblem.WINDOW_PAST, "the window is already over"))
    if per_customer_limit < 1:
        problems.append(Problem(FlashProblem.LIMIT_INVALID, "the per-customer limit is at least 1"))
    if not items:
        problems.append(Problem(FlashProblem.NO_ITEMS, "a flash sale needs at least one SKU"))
    seen: set[int] = set()
    for item in items:
        if item.sku_id in seen:
            problems.append(Problem(FlashProblem.DUPLICATE_SKU, "a SKU appears twice", item.sku_id))
        seen.add(item.sku_id)
        if not 0 < item.flash_price < item.list_price:
            problems.append(
                Problem(
                    FlashProblem.PRICE_INVALID,
                    f"the flash price must be above 0 and below the list price "
                    f"({item.list_price} fen)",
                    item.sku_id,
                )
            )
        if item.pool <= 0:
            problems.append(
                Problem(FlashProblem.POOL_INVALID, "the pool needs at least 1 unit", item.sku_id)
            )
    return problems


def flash_units(quantity: int, *, pool_left: int, limit_left: int) -> int:
    """How many of `quantity` units can go at the flash price now."""
    return max(0, min(quantity, pool_left, limit_left))
