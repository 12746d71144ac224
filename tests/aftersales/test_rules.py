"""Pure after-sales rules: the return state machine, return windows, returnable quantities."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.aftersales.errors import (
    IllegalReturnTransition,
    ReturnQuantityExceeded,
    ReturnWindowClosed,
    UnknownOrderLine,
)
from shopops.aftersales.rules import (
    KIND_ONLY,
    TRANSITIONS,
    ReturnAction,
    ReturnKind,
    ReturnStatus,
    check_return_quantities,
    check_return_window,
    next_status,
    return_deadline,
)

S, A, K = ReturnStatus, ReturnAction, ReturnKind
CST = dt.timezone(dt.timedelta(hours=8))


def test_return_and_exchange_paths():
    status = S.REQUESTED
    for action in (A.APPROVE, A.SHIP, A.RECEIVE, A.REFUND):
        status = next_status(status, action, kind=K.RETURN)
    assert status is S.REFUNDED
    status = S.REQUESTED
    for action in (A.APPROVE, A.SHIP, A.RECEIVE, A.EXCHANGE):
        status = next_status(status, action, kind=K.EXCHANGE)
    assert status is S.EXCHANGED
    assert next_status(S.REQUESTED, A.REJECT, kind=K.RETURN) is S.REJECTED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
@pytest.mark.parametrize("kind", list(K))
def test_every_move_is_in_the_table_or_refused(status, action, kind):
    allowed = action in TRANSITIONS[status] and KIND_ONLY.get(action, kind) is kind
    if allowed:
        assert next_status(status, action, kind=kind) is TRANSITIONS[status][action]
    else:
        with pytest.raises(IllegalReturnTransition) as err:
            next_status(status, action, kind=kind)
        assert err.value.status_code == 409
        assert err.value.details == {"status": status, "action": action, "kind": kind}


def test_an_exchange_is_never_refunded_and_a_return_never_exchanged():
    with pytest.raises(IllegalReturnTransition):
        next_status(S.RECEIVED, A.REFUND, kind=K.EXCHANGE)
    with pytest.raises(IllegalReturnTransition):
        next_status(S.RECEIVED, A.EXCHANGE, kind=K.RETURN)


def test_the_seven_days_start_the_day_after_delivery_in_shop_time():
    # Delivered 1 March, 23:30 Beijing time: open until the end of 8 March (Beijing).
    delivered = dt.datetime(2026, 3, 1, 23, 30, tzinfo=CST)
    deadline = return_deadline(delivered, window_days=7)
    assert deadline == dt.datetime(2026, 3, 9, 0, 0, tzinfo=CST)
    assert deadline.tzinfo is dt.UTC


def test_window_inside_and_outside():
    delivered = dt.datetime(2026, 3, 1, 10, 0, tzinfo=CST)
    last_minute = dt.datetime(2026, 3, 8, 23, 59, tzinfo=CST)
    kwargs = {"return_window_days": 7, "quality_window_days": 15}
    assert check_return_window(delivered, last_minute, no_reason=True, **kwargs) == (
        dt.datetime(2026, 3, 9, tzinfo=CST)
    )
    too_late = dt.datetime(2026, 3, 9, 0, 0, tzinfo=CST)
    with pytest.raises(ReturnWindowClosed) as err:
        check_return_window(delivered, too_late, no_reason=True, **kwargs)
    assert err.value.status_code == 409
    assert err.value.details["deadline"] == "2026-03-08T16:00:00+00:00"
    assert err.value.details["window_days"] == 7
    # A quality problem has the longer window.
    assert check_return_window(delivered, too_late, no_reason=False, **kwargs)
    with pytest.raises(ReturnWindowClosed):
        check_return_window(
            delivered, dt.datetime(2026, 3, 17, tzinfo=CST), no_reason=False, **kwargs
        )


@given(
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2030, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    st.integers(0, 30),
)
def test_deadline_is_a_local_midnight_between_window_and_window_plus_one_days(delivered, days):
    deadline = return_deadline(delivered, window_days=days)
    assert dt.timedelta(days=days) < deadline - delivered <= dt.timedelta(days=days + 1)
    local = deadline.astimezone(CST)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_returnable_quantities():
    bought = {1: 3, 2: 1}
    check_return_quantities({1: 2}, bought=bought, taken={1: 1})
    with pytest.raises(ReturnQuantityExceeded) as err:
        check_return_quantities({1: 3}, bought=bought, taken={1: 1})
    assert err.value.status_code == 422
    assert err.value.details == {"order_line_id": 1, "requested": 3, "returnable": 2}
    with pytest.raises(UnknownOrderLine):
        check_return_quantities({7: 1}, bought=bought, taken={})
