"""The pure price rules.

Properties (hypothesis):
- a charm price is never above its input, has the ending, and is less than one unit below;
- a repricing proposal is inside the margin band whenever the band holds a price, and the
  rule proposes nothing (saying why) exactly when the band is empty;
- without charm endings, a proposal moves at most one step from a current price in the band;
- the rule is deterministic and does not depend on the order of the competitor prices.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.pricing import rules
from shopops.pricing.rules import (
    JIAO_9,
    YUAN_9,
    YUAN_99,
    FlashItemFacts,
    FlashProblem,
    ReasonCode,
    RepriceInput,
    RepricePolicy,
)

prices = st.integers(min_value=1, max_value=10_000_000)
costs = st.integers(min_value=0, max_value=5_000_000)
endings = st.sampled_from([YUAN_9, YUAN_99, JIAO_9])


def test_cost_plus_and_margin_prices():
    assert rules.cost_plus_price(10_000, 6_000) == 16_000
    assert rules.cost_plus_price(333, 1) == 334  # rounded up to the fen
    assert rules.price_for_margin(10_000, 4_000) == 16_667
    assert rules.gross_margin_bp(16_667, 10_000) == 4_000
    assert rules.gross_margin_bp(0, 10) is None
    with pytest.raises(ValueError):
        rules.price_for_margin(100, 10_000)


def test_competitor_price_strategies():
    seen = [25_900, 0, 27_900, 26_900]
    assert rules.competitor_price(seen) == 26_900
    assert rules.competitor_price(seen, rules.CompetitorStrategy.MATCH_LOWEST) == 25_900
    assert rules.competitor_price(seen, rules.CompetitorStrategy.UNDERCUT_LOWEST) == 25_641
    assert rules.competitor_price([0, -5]) is None


@pytest.mark.parametrize(
    ("price", "ending", "expected"),
    [
        (20_500, None, 19_900),  # ¥205 → ¥199
        (30_000, None, 29_900),  # ¥300 → ¥299
        (25_000, None, 24_900),
        (19_900, None, 19_900),  # already charming
        (550, None, 490),  # ¥5.50 → ¥4.90
        (25_000, YUAN_99, 19_900),
        (800, YUAN_9, None),  # nothing ending in ¥9 at or below ¥8
    ],
)
def test_psychological_price_examples(price, ending, expected):
    assert rules.psychological_price(price, ending) == expected


@given(prices, endings)
def test_psychological_price_never_raises_and_has_the_ending(price, ending):
    charm = rules.psychological_price(price, ending)
    if charm is None:
        assert price < ending.ending
    else:
        assert charm <= price
        assert charm % ending.unit == ending.ending
        assert price - charm < ending.unit


def test_margin_band_of_the_seed():
    band = rules.margin_band(10_000)
    assert (band.low, band.high) == (16_130, 17_241)
    assert rules.gross_margin_bp(band.low, 10_000) >= 3_800
    assert rules.gross_margin_bp(band.high, 10_000) <= 4_200
    assert rules.gross_margin_bp(band.low - 1, 10_000) < 3_800
    assert not rules.in_margin_band(band.high + 1, 10_000)
    assert rules.margin_band(0).empty


@given(costs, st.integers(0, 9_000), st.integers(0, 900))
def test_margin_band_is_exactly_the_prices_in_the_band(cost, low_bp, width):
    band = rules.margin_band(cost, min_bp=low_bp, max_bp=min(low_bp + width, 9_999))
    high_bp = min(low_bp + width, 9_999)
    for price in (band.low - 1, band.low, band.high, band.high + 1):
        if price <= 0 or cost <= 0:
            continue
        margin = (price - cost) / price
        inside = low_bp / 10_000 <= margin <= high_bp / 10_000
        assert (price in band) == inside, (price, margin)


inputs = st.builds(
    RepriceInput,
    current_price=prices,
    cost=costs,
    competitor_prices=st.lists(prices, max_size=6).map(tuple),
    available=st.integers(0, 100_000),
    daily_sales=st.floats(0, 1_000, allow_nan=False),
)
policies = st.builds(
    RepricePolicy,
    min_margin_bp=st.integers(0, 6_000),
    max_margin_bp=st.integers(6_000, 9_000),
    step_bp=st.integers(0, 3_000),
    charm=st.booleans(),
)


@given(inputs, policies)
def test_a_proposal_never_leaves_the_margin_band(data, policy):
    proposal = rules.propose_reprice(data, policy)
    band = rules.margin_band(data.cost, min_bp=policy.min_margin_bp, max_bp=policy.max_margin_bp)
    if band.empty:
        assert proposal.proposed_price is None
        assert [r.code for r in proposal.reasons] == [ReasonCode.BAND_EMPTY]
    else:
        assert proposal.proposed_price in band
        margin = rules.gross_margin_bp(proposal.proposed_price, data.cost)
        assert margin is not None
        assert policy.min_margin_bp <= margin <= policy.max_margin_bp
        assert proposal.reasons


@given(inputs, policies, st.randoms())
def test_the_rule_is_deterministic_and_order_free(data, policy, rnd):
    shuffled = list(data.competitor_prices)
    rnd.shuffle(shuffled)
    again = RepriceInput(
        data.current_price, data.cost, tuple(shuffled), data.available, data.daily_sales
    )
    assert rules.propose_reprice(data, policy) == rules.propose_reprice(again, policy)


@given(inputs, policies)
def test_without_charm_a_price_in_the_band_moves_at_most_one_step(data, policy):
    policy = RepricePolicy(
        policy.min_margin_bp, policy.max_margin_bp, step_bp=policy.step_bp, charm=False
    )
    band = rules.margin_band(data.cost, min_bp=policy.min_margin_bp, max_bp=policy.max_margin_bp)
    if data.current_price not in band:
        return
    proposal = rules.propose_reprice(data, policy)
    step = data.current_price * policy.step_bp // rules.BP
    assert proposal.proposed_price is not None
    assert abs(proposal.proposed_price - data.current_price) <= step


def _propose(**kw):  # type: ignore[no-untyped-def]
    base = {"current_price": 29_900, "cost": 17_940, "available": 300, "daily_sales": 20.0}
    return rules.propose_reprice(RepriceInput(**{**base, **kw}))


def test_short_stock_raises_slow_stock_lowers_inside_the_band():
    # cost ¥179.40: band ¥289.36–¥309.31; the price is ¥299 (40%).
    short = _propose(available=30)  # 1.5 days of cover
    slow = _propose(available=2_000)  # 100 days
    steady = _propose(competitor_prices=(29_900, 30_500, 29_500))
    # +5% is ¥313.95, above the ceiling: ¥309.31, then the charm ending ¥309.
    assert short.proposed_price == 30_900 and ReasonCode.LOW_COVER in _codes(short)
    # −5% is ¥284.05, below the floor: ¥289.36 (¥289 would leave the band).
    assert slow.proposed_price == 28_936 and ReasonCode.HIGH_COVER in _codes(slow)
    assert ReasonCode.RAISED_TO_BAND in _codes(slow)
    assert steady.proposed_price == 29_900 and ReasonCode.UNCHANGED in _codes(steady)


def test_a_competitor_price_war_stops_at_the_margin_floor():
    war = _propose(competitor_prices=(19_900, 21_900), available=300, daily_sales=20.0)
    band = rules.margin_band(17_940)
    assert war.proposed_price == band.low
    assert {ReasonCode.CAPPED_STEP, ReasonCode.RAISED_TO_BAND} <= set(_codes(war))


def test_stock_without_sales_lowers_the_price():
    idle = _propose(daily_sales=0.0, available=100)
    assert idle.cover_days is None and ReasonCode.NO_SALES in _codes(idle)
    assert idle.proposed_price is not None and idle.proposed_price < 29_900


def _codes(proposal: rules.RepriceProposal) -> list[ReasonCode]:
    return [r.code for r in proposal.reasons]


T0 = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _problems(**kw):  # type: ignore[no-untyped-def]
    base = {
        "starts_at": T0,
        "ends_at": T0 + HOUR,
        "now": T0 - HOUR,
        "per_customer_limit": 1,
        "items": [FlashItemFacts(1, 29_900, 9_900, 100)],
    }
    return [p.code for p in rules.flash_sale_problems(**{**base, **kw})]


def test_a_good_flash_sale_has_no_problems():
    assert _problems() == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ends_at": T0 - HOUR}, FlashProblem.WINDOW_INVALID),
        ({"ends_at": T0}, FlashProblem.WINDOW_INVALID),
        ({"now": T0 + 2 * HOUR}, FlashProblem.WINDOW_PAST),
        ({"per_customer_limit": 0}, FlashProblem.LIMIT_INVALID),
        ({"items": []}, FlashProblem.NO_ITEMS),
        ({"items": [FlashItemFacts(1, 29_900, 29_900, 1)]}, FlashProblem.PRICE_INVALID),
        ({"items": [FlashItemFacts(1, 29_900, 39_900, 1)]}, FlashProblem.PRICE_INVALID),
        ({"items": [FlashItemFacts(1, 29_900, 0, 1)]}, FlashProblem.PRICE_INVALID),
        ({"items": [FlashItemFacts(1, 29_900, 9_900, 0)]}, FlashProblem.POOL_INVALID),
        (
            {"items": [FlashItemFacts(1, 29_900, 9_900, 1), FlashItemFacts(1, 29_900, 9_900, 1)]},
            FlashProblem.DUPLICATE_SKU,
        ),
    ],
)
def test_each_flash_sale_problem(change, code):
    assert _problems(**change) == [code]


@given(st.integers(0, 50), st.integers(-5, 50), st.integers(-5, 50))
def test_flash_units_never_exceed_quantity_pool_or_limit(quantity, pool_left, limit_left):
    units = rules.flash_units(quantity, pool_left=pool_left, limit_left=limit_left)
    assert 0 <= units <= quantity
    assert units <= max(pool_left, 0) and units <= max(limit_left, 0)
