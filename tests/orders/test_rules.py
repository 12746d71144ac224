"""The order state machine: every legal move works, every other move is refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.orders.rules import (
    RESUMABLE,
    TERMINAL,
    TRANSITIONS,
    IllegalOrderTransition,
    OrderAction,
    OrderStatus,
    next_status,
)

S, A = OrderStatus, OrderAction


def test_happy_path():
    status = S.PENDING_PAYMENT
    for action in (A.PAY, A.SHIP, A.DELIVER, A.COMPLETE):
        status = next_status(status, action)
    assert status is S.COMPLETED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_pair_is_either_in_the_table_or_refused(status, action):
    if status is S.REFUND_REQUESTED and action is A.REJECT_REFUND:
        assert next_status(status, action, resume=S.SHIPPED) is S.SHIPPED
        with pytest.raises(IllegalOrderTransition):
            next_status(status, action, resume=None)
        return
    if action in TRANSITIONS[status]:
        assert next_status(status, action) is TRANSITIONS[status][action]
    else:
        with pytest.raises(IllegalOrderTransition):
            next_status(status, action)


def test_unpaid_cancel_and_no_cancel_after_payment():
    assert next_status(S.PENDING_PAYMENT, A.CANCEL) is S.CANCELLED
    with pytest.raises(IllegalOrderTransition):
        next_status(S.PAID, A.CANCEL)
    with pytest.raises(IllegalOrderTransition):
        next_status(S.CANCELLED, A.PAY)
    assert {S.CANCELLED, S.REFUNDED} == TERMINAL


@given(st.lists(st.sampled_from(list(A)), max_size=40))
def test_random_action_sequences_never_reach_an_illegal_state(actions):
    status, resume = S.PENDING_PAYMENT, None
    seen_paid = False
    for action in actions:
        try:
            new = next_status(status, action, resume=resume)
        except IllegalOrderTransition:
            continue
        if new is S.REFUND_REQUESTED:
            resume = status
        assert new in TRANSITIONS
        # Money never comes back into an order that was cancelled before payment.
        assert status is not S.CANCELLED
        seen_paid = seen_paid or new is S.PAID
        if new is S.REFUND_REQUESTED:
            assert seen_paid and resume in RESUMABLE
        status = new
