"""Pure rules of membership, points and referral (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from shopops.members import rules
from shopops.members.rules import DEFAULT_TIERS, Privileges, Tier

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 31, 12, tzinfo=UTC)


def test_default_tiers_are_valid_and_ordered():
    assert rules.tier_problems(DEFAULT_TIERS) == []
    thresholds = [t.threshold for t in DEFAULT_TIERS]
    assert thresholds == sorted(thresholds) and len(set(thresholds)) == len(thresholds)


def test_tier_problems_name_each_broken_rule():
    bad = [
        Tier("gold", "金", "Gold", 100, Privileges(discount_bp=300)),
        Tier("silver", "银", "Silver", 100, Privileges(discount_bp=100)),
        Tier("gold", "金2", "Gold2", 0, Privileges(discount_bp=9_000)),
        Tier("Bad Code", "x", "x", 50, Privileges(birthday_points=-1, points_multiplier_pct=50)),
    ]
    text = " | ".join(rules.tier_problems(bad))
    for fragment in (
        "unique",
        "strictly increase",
        "threshold must be > 0",
        "discount_bp must be within",
        "lowercase",
        "birthday_points",
        "points_multiplier_pct",
    ):
        assert fragment in text
    shrinking = [
        Tier("a", "a", "a", 10, Privileges(discount_bp=300)),
        Tier("b", "b", "b", 20, Privileges(discount_bp=100)),
    ]
    assert any("smaller discount" in p for p in rules.tier_problems(shrinking))


def test_tier_for_and_rank():
    assert rules.tier_for(0, DEFAULT_TIERS) == ""
    assert rules.tier_for(999, DEFAULT_TIERS) == ""
    assert rules.tier_for(1_000, DEFAULT_TIERS) == "silver"
    assert rules.tier_for(3_500, DEFAULT_TIERS) == "gold"
    assert rules.tier_for(10**9, DEFAULT_TIERS) == "diamond"
    assert rules.tier_rank("", DEFAULT_TIERS) == 0
    assert rules.tier_rank("gold", DEFAULT_TIERS) == 2
    assert rules.tier_rank("deleted", DEFAULT_TIERS) == 0


@given(st.integers(0, 50_000), st.integers(0, 50_000))
def test_tier_evaluation_is_monotonic_in_growth(a, b):
    low, high = sorted((a, b))
    for downgrade in (True, False):
        for current in ("", "silver", "platinum"):
            t_low = rules.evaluate_tier(current, low, DEFAULT_TIERS, downgrade=downgrade)
            t_high = rules.evaluate_tier(current, high, DEFAULT_TIERS, downgrade=downgrade)
            assert rules.tier_rank(t_low, DEFAULT_TIERS) <= rules.tier_rank(t_high, DEFAULT_TIERS)


def test_events_never_downgrade_but_the_evaluation_does():
    assert rules.evaluate_tier("gold", 10, DEFAULT_TIERS, downgrade=False) == "gold"
    assert rules.evaluate_tier("gold", 10, DEFAULT_TIERS, downgrade=True) == ""
    assert rules.evaluate_tier("gold", 9_000, DEFAULT_TIERS, downgrade=False) == "platinum"


def test_growth_and_points_of_an_order():
    assert rules.order_growth(29_990, per_yuan=1, per_order=10) == 299 + 10
    assert rules.points_earned(29_990, per_yuan=1) == 299
    assert rules.points_earned(29_990, per_yuan=1, multiplier_pct=150) == 448
    assert rules.points_earned(99, per_yuan=1) == 0


def test_redemption_value_and_cap():
    assert rules.points_value(1_000, points_per_yuan=100) == 1_000
    assert rules.points_value(1_000, points_per_yuan=200) == 500
    # 50% of ¥59.99 = 2999 fen = 2999 points at 100 points a yuan.
    assert rules.max_redeemable_points(5_999, cap_bp=5_000, points_per_yuan=100) == 2_999
    assert rules.max_redeemable_points(0, cap_bp=5_000, points_per_yuan=100) == 0


@given(st.integers(0, 10**6), st.integers(0, 10**7), st.integers(1, 10**7))
def test_proportional_stays_within_bounds(total, part, whole):
    got = rules.proportional(total, part, whole)
    assert 0 <= got <= total
    if part >= whole:
        assert got == total


def test_add_months_clamps_to_the_month_end():
    assert rules.add_months(T0, 1) == dt.datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert rules.add_months(T0, 12) == dt.datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert rules.add_months(T0, -2) == dt.datetime(2025, 11, 30, 12, tzinfo=UTC)
    assert rules.add_months(dt.datetime(2024, 1, 31, tzinfo=UTC), 1).day == 29


def test_fifo_expiry_uses_the_oldest_lots_first():
    lots = [(T0, 100), (rules.add_months(T0, 1), 50)]
    # 120 spent: the first lot is used up, 30 of the second is left.
    assert rules.expired_due(lots, 120, T0) == 0
    assert rules.expired_due(lots, 120, rules.add_months(T0, 1)) == 30
    assert rules.expired_due(lots, 60, T0) == 40
    assert rules.expired_due(lots, 0, T0 - dt.timedelta(days=1)) == 0


# A pure model of the ledger driven by the same rules as the service: the balance is always
# the sum of the entries and never negative, whatever the sequence.
ops = st.lists(
    st.tuples(
        st.sampled_from(["earn", "redeem", "cancel", "refund", "expire", "adjust"]),
        st.integers(0, 5_000),
        st.integers(0, 40),
    ),
    max_size=40,
)


@settings(max_examples=200)
@given(ops)
def test_the_ledger_balances_after_any_sequence(sequence):
    entries: list[tuple[str, int, dt.datetime | None]] = []  # kind, amount, expires_at
    orders: dict[int, dict[str, int]] = {}
    clock = T0

    def bal() -> int:
        return sum(a for _, a, _ in entries)

    def post(kind: str, amount: int) -> None:
        assert bal() + amount >= 0, "a debit may never pass the balance"
        entries.append((kind, amount, rules.add_months(clock, 12) if amount > 0 else None))

    for step, (op, n, days) in enumerate(sequence):
        clock += dt.timedelta(days=days * 10)
        if op == "earn":
            paid = n * 100
            earned = rules.points_earned(paid, per_yuan=1)
            orders[step] = {"paid": paid, "earned": earned, "redeemed": 0, "refunded": 0,
                            "reversed": 0, "returned": 0}  # fmt: skip
            post("earn", earned)
        elif op == "redeem" and bal() > 0:
            spend = min(n, bal())
            orders[step] = {"paid": 0, "earned": 0, "redeemed": spend, "refunded": 0,
                            "reversed": 0, "returned": 0}  # fmt: skip
            post("redeem", -spend)
        elif op == "cancel":
            for o in orders.values():
                if o["paid"] == 0 and o["redeemed"] > o["returned"]:
                    post("return", o["redeemed"] - o["returned"])
                    o["returned"] = o["redeemed"]
                    break
        elif op == "refund":
            for o in orders.values():
                if o["paid"] > o["refunded"]:
                    o["refunded"] = min(o["paid"], o["refunded"] + n * 37)
                    take = rules.proportional(o["earned"], o["refunded"], o["paid"]) - o["reversed"]
                    took = min(max(take, 0), bal())
                    post("reverse", -took)
                    o["reversed"] += took
                    break
        elif op == "expire":
            lots = [(e, a) for _, a, e in entries if a > 0 and e is not None]
            debits = -sum(a for _, a, _ in entries if a < 0)
            due = rules.expired_due(lots, debits, clock)
            assert due <= bal()
            if due:
                post("expire", -due)
                again = rules.expired_due(
                    lots, debits + due, clock
                )  # running it twice expires nothing more
                assert again == 0
        elif op == "adjust":
            post("adjust", n if step % 2 else -min(n, bal()))
        assert bal() >= 0


def test_referral_codes_round_trip_and_reject_garbage():
    seen = set()
    for customer_id in (1, 2, 3, 99, 123_456, 2**31 - 1):
        code = rules.referral_code(customer_id)
        assert len(code) == rules.REFERRAL_CODE_LENGTH and code not in seen
        seen.add(code)
        assert rules.decode_referral_code(code) == customer_id
        assert rules.decode_referral_code(f" {code.lower()} ") == customer_id
    assert rules.decode_referral_code("SHORT") is None
    assert rules.decode_referral_code("ABCDEFG0") is None  # 0 is not in the alphabet
    assert rules.referral_chain_has([5, 7], 7) and not rules.referral_chain_has([5], 7)
