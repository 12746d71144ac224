"""Pure payment rules: callback signatures, refund arithmetic, completion rate, the gateway."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shopops.payments import rules
from shopops.payments.errors import (
    NothingToRefund,
    RefundExceedsPaid,
    RefundExceedsQuantity,
    UnknownOrderLine,
)
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.rules import LineBalance, plan_refund, units_refund_amount

SECRET = "test-secret"
FIELDS = {"gateway_txn_id": "wx123", "status": "succeeded", "failure_code": "", "amount": 19900}


# --- signatures ---------------------------------------------------------------------------


def test_signature_round_trip():
    signature = rules.sign(FIELDS, SECRET)
    assert len(signature) == 64
    assert rules.verify(FIELDS, signature, SECRET)
    assert rules.verify({**FIELDS, "signature": signature}, signature, SECRET)


@pytest.mark.parametrize(
    "changed",
    [
        {"status": "failed"},
        {"amount": 19901},
        {"gateway_txn_id": "wx124"},
        {"failure_code": "bank_declined"},
        {"extra": "1"},
    ],
)
def test_any_changed_field_breaks_the_signature(changed):
    signature = rules.sign(FIELDS, SECRET)
    assert not rules.verify({**FIELDS, **changed}, signature, SECRET)


def test_wrong_secret_and_garbage_signatures_fail():
    assert not rules.verify(FIELDS, rules.sign(FIELDS, "other"), SECRET)
    assert not rules.verify(FIELDS, "", SECRET)
    assert not rules.verify(FIELDS, "zz" * 32, SECRET)


def test_canonical_string_is_sorted_and_unambiguous():
    assert rules.canonical_string({"b": 2, "a": True, "c": None}) == "a=true&b=2"
    # A value cannot forge another field: separators are encoded.
    smuggled = rules.canonical_string({"a": "1&b=2"})
    assert smuggled != rules.canonical_string({"a": "1", "b": "2"})


@given(st.text(max_size=20) | st.sampled_from(["wx0af9", "a-b_c.d~e", "a b", "é", "x\n", "%41"]))
def test_the_quoting_shortcut_encodes_as_quote(text):
    # Unreserved text skips `quote`: the canonical string (and so every signature) is the same.
    assert rules._quote(text) == quote(text, safe="")


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=5))
def test_signature_verifies_any_payload(fields):
    assume("signature" not in fields)
    assert rules.verify(fields, rules.sign(fields, SECRET), SECRET)


# --- refund arithmetic ----------------------------------------------------------------------


def test_units_take_their_share_of_the_line_total_earliest_first():
    line = LineBalance(line_id=1, quantity=3, total=1000)
    assert units_refund_amount(line, 1) == 334
    assert units_refund_amount(line, 2) == 667
    assert units_refund_amount(line, 3) == 1000
    after_one = LineBalance(1, 3, 1000, refunded_quantity=1, refunded_amount=334)
    assert units_refund_amount(after_one, 1) == 333
    assert units_refund_amount(after_one, 2) == 666


def test_units_beyond_what_is_left_are_refused():
    line = LineBalance(1, 2, 500, refunded_quantity=1, refunded_amount=250)
    with pytest.raises(RefundExceedsQuantity) as err:
        units_refund_amount(line, 2)
    assert err.value.details == {"order_line_id": 1, "requested": 2, "refundable": 1}


def test_a_discounted_line_refunds_what_was_paid_not_the_list_price():
    # 3 × 999 with a 100 discount share: paid 2897; three single refunds give back exactly that.
    line = LineBalance(1, 3, 2897)
    paid_back = 0
    for _ in range(3):
        part = units_refund_amount(line, 1)
        paid_back += part
        line = LineBalance(1, 3, 2897, line.refunded_quantity + 1, line.refunded_amount + part)
    assert paid_back == 2897


@st.composite
def line_and_steps(draw):
    quantity = draw(st.integers(1, 50))
    total = draw(st.integers(0, 10_000_000))
    steps = []
    left = quantity
    while left:
        q = draw(st.integers(1, left))
        steps.append(q)
        left -= q
    return LineBalance(1, quantity, total), steps


@given(line_and_steps())
def test_partial_refunds_never_exceed_the_line_and_all_of_them_sum_to_it(case):
    line, steps = case
    refunded = 0
    for q in steps:
        part = units_refund_amount(line, q)
        assert part >= 0
        refunded += part
        assert refunded <= line.total
        line = LineBalance(
            1, line.quantity, line.total, line.refunded_quantity + q, line.refunded_amount + part
        )
    assert refunded == line.total


@given(
    line_and_steps(),
    st.lists(st.integers(1, 1_000_000), max_size=3),
    st.randoms(use_true_random=False),
)
def test_goodwill_between_unit_refunds_still_adds_up_exactly(case, goodwill, rnd):
    line, steps = case
    balances = [line]
    events = [("units", q) for q in steps] + [("amount", a) for a in goodwill]
    rnd.shuffle(events)
    refunded = 0
    for kind, value in events:
        current = balances[-1]
        try:
            if kind == "units":
                plan = plan_refund([current], units={1: value})
            else:
                plan = plan_refund([current], units={}, amount=value)
        except (RefundExceedsPaid, NothingToRefund):
            continue
        q, part = plan.lines.get(1, (0, 0))
        refunded += part
        assert refunded <= line.total
        balances.append(
            LineBalance(
                1,
                current.quantity,
                current.total,
                current.refunded_quantity + q,
                current.refunded_amount + part,
            )
        )
    final = balances[-1]
    if final.refunded_quantity == final.quantity:
        assert refunded == line.total


@st.composite
def order_lines(draw):
    n = draw(st.integers(1, 6))
    lines = []
    for i in range(n):
        quantity = draw(st.integers(1, 20))
        total = draw(st.integers(0, 1_000_000))
        rq = draw(st.integers(0, quantity))
        ra = draw(st.integers(0, total))
        lines.append(LineBalance(i + 1, quantity, total, rq, ra))
    return lines


@given(order_lines(), st.integers(1, 3_000_000), st.integers(0, 2000), st.booleans())
def test_a_goodwill_amount_is_spread_within_each_lines_remaining(lines, amount, ship, incl):
    room = sum(line.remaining_amount for line in lines) + (ship if incl else 0)
    if amount > room:
        with pytest.raises(RefundExceedsPaid):
            plan_refund(
                lines, units={}, amount=amount, shipping_remaining=ship, include_shipping=incl
            )
        return
    plan = plan_refund(
        lines, units={}, amount=amount, shipping_remaining=ship, include_shipping=incl
    )
    assert plan.total == amount
    by_id = {line.line_id: line for line in lines}
    for lid, (q, part) in plan.lines.items():
        assert q == 0
        assert 0 <= part <= by_id[lid].remaining_amount
    assert 0 <= plan.shipping <= (ship if incl else 0)


def test_units_plan_adds_shipping_when_asked():
    lines = [LineBalance(1, 2, 1000), LineBalance(2, 1, 500)]
    plan = plan_refund(lines, units={1: 1}, shipping_remaining=800, include_shipping=True)
    assert plan.lines == {1: (1, 500)}
    assert plan.shipping == 800
    assert plan.total == 1300


def test_units_with_an_amount_bring_the_units_back_for_less():
    lines = [LineBalance(1, 2, 1000), LineBalance(2, 1, 500)]
    plan = plan_refund(lines, units={1: 1, 2: 1}, amount=300)
    assert plan.lines == {1: (1, 150), 2: (1, 150)}
    with pytest.raises(RefundExceedsPaid) as err:
        plan_refund(lines, units={1: 1}, amount=501)
    assert err.value.details == {"requested": 501, "refundable": 500}


def test_shipping_alone_and_nothing_at_all():
    lines = [LineBalance(1, 1, 1000)]
    assert plan_refund(lines, units={}, shipping_remaining=800, include_shipping=True).total == 800
    with pytest.raises(NothingToRefund):
        plan_refund(lines, units={})
    with pytest.raises(NothingToRefund):
        plan_refund(lines, units={}, shipping_remaining=0, include_shipping=True)
    with pytest.raises(NothingToRefund):
        plan_refund(lines, units={}, amount=0)


def test_unknown_lines_and_the_order_wide_cap():
    lines = [LineBalance(1, 1, 1000)]
    with pytest.raises(UnknownOrderLine) as err:
        plan_refund(lines, units={9: 1})
    assert err.value.details == {"order_line_ids": [9]}
    with pytest.raises(RefundExceedsPaid):
        plan_refund(lines, units={1: 1}, refundable=999)


def test_merge_units_adds_repeats_and_refuses_non_positive():
    assert rules.merge_units([(1, 1), (2, 3), (1, 2)]) == {1: 3, 2: 3}
    with pytest.raises(ValueError):
        rules.merge_units([(1, 0)])


# --- completion rate and the simulated gateway ------------------------------------------------


def test_completion_rate():
    assert rules.completion_rate(0, 0) is None
    assert rules.completion_rate(4, 3) == 0.75


def _gateway(seed: int, rate: float = 0.5) -> SimulatedGateway:
    return SimulatedGateway(
        secret=SECRET,
        success_rate={"wechat_pay": rate, "alipay": 1.0, "unionpay": 0.0},
        rng=random.Random(seed),
    )


def test_gateway_outcomes_replay_with_the_same_seed():
    runs = []
    for _ in range(2):
        gw = _gateway(7)
        runs.append(
            [
                (r.succeeded, r.failure_code)
                for r in (
                    gw.charge(channel="wechat_pay", amount=1, gateway_txn_id="x") for _ in range(50)
                )
            ]
        )
    assert runs[0] == runs[1]
    assert {ok for ok, _ in runs[0]} == {True, False}
    assert {code for ok, code in runs[0] if not ok} <= {
        "user_cancelled",
        "insufficient_funds",
        "bank_declined",
    }


def test_gateway_success_rate_per_channel_and_latency():
    slept = []
    gw = SimulatedGateway(
        secret=SECRET,
        success_rate={"wechat_pay": 0.92, "alipay": 1.0, "unionpay": 0.0},
        latency_ms={"wechat_pay": 250},
        rng=random.Random(1),
        sleep=slept.append,
    )
    wins = sum(
        gw.charge(channel="wechat_pay", amount=1, gateway_txn_id="t").succeeded for _ in range(2000)
    )
    assert 0.89 < wins / 2000 < 0.95
    assert slept[0] == 0.25
    assert gw.charge(channel="alipay", amount=1, gateway_txn_id="t").succeeded
    failed = gw.charge(channel="unionpay", amount=1, gateway_txn_id="t")
    assert not failed.succeeded and failed.failure_code


def test_gateway_txn_ids_are_unique_and_callbacks_are_signed():
    gw = _gateway(1)
    ids = {gw.new_txn_id("alipay") for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("ali") for i in ids)
    result = gw.charge(channel="alipay", amount=500, gateway_txn_id="ali1")
    payload = gw.callback_payload(result)
    assert payload["status"] == "succeeded" and payload["amount"] == 500
    assert rules.verify(payload, str(payload["signature"]), SECRET)
