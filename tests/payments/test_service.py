"""Payment and refund use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests import factories as f

from shopops.db import set_clock
from shopops.events import OutboxEvent
from shopops.orders import service as orders
from shopops.orders.errors import OrderNotFound
from shopops.orders.pricing import AppliedDiscount, register_discount_hook, unregister_discount_hook
from shopops.payments import rules
from shopops.payments import service as payments
from shopops.payments.errors import (
    BadSignature,
    CallbackAmountMismatch,
    NothingToRefund,
    OrderNotPayable,
    OrderNotRefundable,
    PaymentNotFound,
    RefundExceedsPaid,
    RefundExceedsQuantity,
    UnknownChannel,
    UnknownOrderLine,
)
from shopops.payments.models import Payment, Refund, RefundLine
from shopops.verify import run_checks

SECRET = f.gateway().secret


def _events(session, name: str) -> list[OutboxEvent]:
    session.flush()
    return list(session.scalars(select(OutboxEvent).where(OutboxEvent.name == name)))


def _count(session, model) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(model))


# --- paying -------------------------------------------------------------------------------


def test_pay_success_marks_the_order_paid_and_commits_stock(session):
    order = f.placed_order(session, price=4000, quantity=2)
    payment = payments.pay_order(session, order_id=order.id, channel="alipay", gateway=f.gateway())
    assert payment.status == "succeeded" and payment.failure_code == ""
    assert payment.amount == order.total == 9000  # 2 × 40.00 + 10.00 shipping
    assert payment.gateway_txn_id.startswith("ali") and payment.completed_at is not None
    assert order.status == "paid" and order.paid_amount == order.total
    [event] = _events(session, "payment.succeeded")
    assert event.aggregate_type == "order" and event.aggregate_id == str(order.id)
    assert event.payload["channel"] == "alipay" and event.payload["amount"] == 9000
    assert event.payload["reversed"] is False
    assert len(_events(session, "order.paid")) == 1


def test_pay_failure_leaves_the_order_pending_then_another_channel_pays(session):
    order = f.placed_order(session)
    failed = payments.pay_order(
        session, order_id=order.id, channel="wechat_pay", gateway=f.gateway(wechat_pay=0.0)
    )
    assert failed.status == "failed"
    assert failed.failure_code in {"user_cancelled", "insufficient_funds", "bank_declined"}
    assert order.status == "pending_payment" and order.paid_amount == 0
    [event] = _events(session, "payment.failed")
    assert event.payload["channel"] == "wechat_pay"
    assert event.payload["failure_code"] == failed.failure_code

    paid = payments.pay_order(session, order_id=order.id, channel="alipay", gateway=f.gateway())
    assert paid.status == "succeeded" and order.status == "paid"
    attempts = payments.list_payments(session, order_id=order.id)
    assert [(p.channel, p.status) for p in attempts] == [
        ("alipay", "succeeded"),
        ("wechat_pay", "failed"),
    ]
    rates = {
        c.channel: (c.attempts, c.successes, c.rate)
        for c in payments.completion_by_channel(session)
    }
    assert rates == {
        "wechat_pay": (1, 0, 0.0),
        "alipay": (1, 1, 1.0),
        "unionpay": (0, 0, None),
    }


def test_paying_an_order_that_is_not_pending_or_with_an_unknown_channel_is_refused(session):
    order = f.paid_order(session)
    with pytest.raises(OrderNotPayable) as err:
        payments.pay_order(session, order_id=order.id, channel="alipay", gateway=f.gateway())
    assert err.value.status_code == 409 and err.value.details["status"] == "paid"
    fresh = f.placed_order(session)
    with pytest.raises(UnknownChannel):
        payments.pay_order(session, order_id=fresh.id, channel="paypal", gateway=f.gateway())
    with pytest.raises(OrderNotFound):
        payments.pay_order(session, order_id=99999, channel="alipay", gateway=f.gateway())
    set_clock(session, fresh.expires_at)
    with pytest.raises(OrderNotPayable) as late:
        payments.pay_order(session, order_id=fresh.id, channel="alipay", gateway=f.gateway())
    assert "expires_at" in late.value.details
    assert _count(session, Payment) == 1


def test_a_shopper_pays_only_their_own_order(session):
    order = f.placed_order(session)
    stranger = f.customer(session)
    with pytest.raises(OrderNotFound):
        payments.pay_customer_order(
            session,
            customer_id=stranger.id,
            order_number=order.number,
            channel="alipay",
            gateway=f.gateway(),
        )
    payment = payments.pay_customer_order(
        session,
        customer_id=order.customer_id,
        order_number=order.number,
        channel="unionpay",
        gateway=f.gateway(),
    )
    assert payment.status == "succeeded"


# --- callbacks ----------------------------------------------------------------------------


def _signed(txn: str, status: str, amount: int, failure_code: str = "") -> dict[str, object]:
    fields: dict[str, object] = {
        "gateway_txn_id": txn,
        "status": status,
        "failure_code": failure_code,
        "amount": amount,
    }
    return {**fields, "signature": rules.sign(fields, SECRET)}


def _receive(session, payload: dict[str, object]) -> Payment:
    fields = {k: v for k, v in payload.items() if k != "signature"}
    return payments.receive_callback(
        session, fields=fields, signature=str(payload["signature"]), secret=SECRET
    )


def test_duplicate_callbacks_change_nothing(session):
    order = f.placed_order(session)
    attempt = payments.start_payment(
        session, order_id=order.id, channel="wechat_pay", gateway=f.gateway()
    )
    assert attempt.status == "pending"
    first = _receive(session, _signed(attempt.gateway_txn_id, "succeeded", attempt.amount))
    assert first.status == "succeeded" and order.status == "paid"
    completed_at, outbox = first.completed_at, _count(session, OutboxEvent)
    for status in ("succeeded", "failed"):
        again = _receive(session, _signed(attempt.gateway_txn_id, status, attempt.amount))
        assert again.id == first.id and again.status == "succeeded"
        assert again.completed_at == completed_at
    assert _count(session, OutboxEvent) == outbox
    assert order.paid_amount == order.total


def test_a_failure_then_a_success_for_the_same_attempt_stays_failed(session):
    order = f.placed_order(session)
    attempt = payments.start_payment(session, order_id=order.id, channel="alipay")
    payments.handle_callback(
        session,
        gateway_txn_id=attempt.gateway_txn_id,
        succeeded=False,
        failure_code="bank_declined",
    )
    again = payments.handle_callback(session, gateway_txn_id=attempt.gateway_txn_id, succeeded=True)
    assert again.status == "failed" and again.failure_code == "bank_declined"
    assert order.status == "pending_payment"


def test_bad_signatures_unknown_transactions_and_wrong_amounts_are_refused(session):
    order = f.placed_order(session)
    attempt = payments.start_payment(session, order_id=order.id, channel="alipay")
    forged = _signed(attempt.gateway_txn_id, "failed", attempt.amount)
    forged["status"] = "succeeded"
    with pytest.raises(BadSignature) as err:
        _receive(session, forged)
    assert err.value.status_code == 401
    with pytest.raises(PaymentNotFound) as missing:
        _receive(session, _signed("wx-nope", "succeeded", 1))
    assert missing.value.status_code == 404
    with pytest.raises(CallbackAmountMismatch):
        _receive(session, _signed(attempt.gateway_txn_id, "succeeded", attempt.amount - 1))
    assert attempt.status == "pending" and order.status == "pending_payment"


def test_a_success_after_the_order_was_cancelled_is_refunded_at_once(session):
    order = f.placed_order(session)
    attempt = payments.start_payment(session, order_id=order.id, channel="wechat_pay")
    # The shopper dawdles: the unpaid-order job cancels the order before the gateway answers.
    set_clock(session, order.expires_at + dt.timedelta(seconds=1))
    assert orders.expire_unpaid_orders(session) == 1
    late = payments.handle_callback(
        session, gateway_txn_id=attempt.gateway_txn_id, succeeded=True, gateway=f.gateway()
    )
    assert late.status == "succeeded"
    assert order.status == "cancelled" and order.paid_amount == 0
    [refund] = session.scalars(select(Refund).where(Refund.order_id == order.id)).all()
    assert (refund.kind, refund.amount, refund.status) == ("reversal", late.amount, "succeeded")
    assert refund.payment_id == late.id
    assert [(p.order_line_id, p.amount) for p in refund.lines] == [(None, late.amount)]
    [paid_event] = _events(session, "payment.succeeded")
    assert paid_event.payload["reversed"] is True
    [refund_event] = _events(session, "refund.succeeded")
    assert refund_event.payload["kind"] == "reversal"
    assert refund_event.payload["shipping_amount"] == 0
    assert _events(session, "order.paid") == []
    # Once more: nothing new.
    payments.handle_callback(session, gateway_txn_id=attempt.gateway_txn_id, succeeded=True)
    assert _count(session, Refund) == 1


def test_a_second_success_for_a_paid_order_is_given_back(session):
    order = f.placed_order(session)
    one = payments.start_payment(session, order_id=order.id, channel="wechat_pay")
    two = payments.start_payment(session, order_id=order.id, channel="alipay")
    payments.handle_callback(session, gateway_txn_id=one.gateway_txn_id, succeeded=True)
    payments.handle_callback(session, gateway_txn_id=two.gateway_txn_id, succeeded=True)
    assert order.status == "paid" and order.paid_amount == order.total
    [refund] = session.scalars(select(Refund)).all()
    assert refund.kind == "reversal" and refund.payment_id == two.id
    assert "duplicate" in refund.reason
    # Later refunds go through the payment that the order kept.
    kept = payments.refund_order(session, order_id=order.id, amount=100, gateway=f.gateway())
    assert kept.payment_id == one.id


# --- refunds ------------------------------------------------------------------------------


@pytest.fixture
def discount_100():
    """Every order gets 1.00 off, so line totals differ from price × quantity."""

    def hook(session, snapshot, customer, offers, earlier):
        return [AppliedDiscount(source="test", reference="T", description="1元", amount=100)]

    register_discount_hook(hook)
    yield
    unregister_discount_hook(hook)


def test_partial_then_full_refunds_add_up_to_what_was_paid(session, discount_100):
    order = f.paid_order(session, price=3333, quantity=3, skus=2)
    a, b = order.lines
    assert (a.total, b.total) == (3333 * 3 - 50, 3333 * 3 - 50)
    assert order.shipping_fee == 0
    first = payments.refund_order(
        session, order_id=order.id, lines=[(a.id, 1)], reason="broken", gateway=f.gateway()
    )
    assert first.amount == 3317  # 9949 over 3 units, the first unit takes the extra fen
    assert order.status == "partially_refunded" and a.refunded_quantity == 1
    second = payments.refund_order(
        session, order_id=order.id, lines=[(a.id, 2), (b.id, 3)], gateway=f.gateway()
    )
    assert {p.order_line_id: (p.quantity, p.amount) for p in second.lines} == {
        a.id: (2, 6632),
        b.id: (3, 9949),
    }
    assert first.amount + second.amount == order.paid_amount
    assert order.status == "refunded" and order.refunded_amount == order.paid_amount
    [event, _] = _events(session, "refund.succeeded")
    assert event.payload["lines"] == [
        {"order_line_id": a.id, "sku_id": a.sku_id, "quantity": 1, "amount": 3317}
    ]
    assert event.payload["kind"] == "order" and event.payload["reason"] == "broken"
    with pytest.raises(RefundExceedsPaid):
        payments.refund_order(session, order_id=order.id, amount=1, gateway=f.gateway())


def test_refunds_over_what_is_left_are_refused_and_write_nothing(session):
    order = f.paid_order(session, price=4000, quantity=2)  # 8000 + 1000 shipping
    line = order.lines[0]
    payments.refund_order(session, order_id=order.id, amount=4000, gateway=f.gateway())
    refunds, events_before = _count(session, Refund), _count(session, OutboxEvent)
    cases = [
        ({"amount": 5001, "include_shipping": True}, RefundExceedsPaid),
        ({"amount": 4001}, RefundExceedsPaid),
        ({"lines": [(line.id, 3)]}, RefundExceedsQuantity),
        ({"lines": [(line.id + 100, 1)]}, UnknownOrderLine),
        ({}, NothingToRefund),
    ]
    for kwargs, error in cases:
        with pytest.raises(error):
            payments.refund_order(session, order_id=order.id, gateway=f.gateway(), **kwargs)
    assert _count(session, Refund) == refunds and _count(session, OutboxEvent) == events_before
    assert order.refunded_amount == 4000 and line.refunded_quantity == 0


def test_goodwill_and_shipping_then_units_refund_exactly_the_rest(session):
    order = f.paid_order(session, price=4000, quantity=2)  # lines 8000, shipping 1000
    line = order.lines[0]
    goodwill = payments.refund_order(
        session, order_id=order.id, amount=999, reason="late", gateway=f.gateway()
    )
    assert [(p.order_line_id, p.quantity, p.amount) for p in goodwill.lines] == [(line.id, 0, 999)]
    shipping = payments.refund_order(
        session, order_id=order.id, include_shipping=True, gateway=f.gateway()
    )
    assert [(p.order_line_id, p.amount) for p in shipping.lines] == [(None, 1000)]
    with pytest.raises(NothingToRefund):
        payments.refund_order(
            session, order_id=order.id, include_shipping=True, gateway=f.gateway()
        )
    units = payments.refund_order(
        session, order_id=order.id, lines=[(line.id, 2)], gateway=f.gateway()
    )
    assert units.amount == 8000 - 999
    assert order.refunded_amount == order.paid_amount and order.status == "refunded"


def test_unpaid_and_cancelled_orders_cannot_be_refunded(session):
    order = f.placed_order(session)
    with pytest.raises(OrderNotRefundable):
        payments.refund_order(session, order_id=order.id, amount=1, gateway=f.gateway())
    orders.cancel_order(session, order_id=order.id, reason="changed_mind")
    with pytest.raises(OrderNotRefundable):
        payments.refund_order(session, order_id=order.id, amount=1, gateway=f.gateway())


def test_refunded_units_and_listing_refunds(session):
    order = f.paid_order(session, quantity=3)
    line = order.lines[0]
    payments.refund_order(session, order_id=order.id, lines=[(line.id, 1)], gateway=f.gateway())
    payments.refund_order(
        session, order_id=order.id, lines=[(line.id, 1)], return_id=7, gateway=f.gateway()
    )
    assert payments.refunded_units(session, order_id=order.id) == {line.id: 2}
    assert payments.refunded_units(session, order_id=order.id, outside_returns=True) == {line.id: 1}
    listed = payments.list_refunds(session, order_id=order.id)
    assert [r.return_id for r in listed] == [None, 7]
    with pytest.raises(OrderNotFound):
        payments.list_refunds(session, order_id=424242)


def test_completion_rate_counts_attempts_by_day_in_shop_time(session):
    beijing = dt.timezone(dt.timedelta(hours=8))
    set_clock(session, dt.datetime(2026, 5, 1, 23, 30, tzinfo=beijing))
    one = f.placed_order(session)
    payments.pay_order(session, order_id=one.id, channel="unionpay", gateway=f.gateway(unionpay=0))
    set_clock(session, dt.datetime(2026, 5, 2, 0, 30, tzinfo=beijing))
    two = f.placed_order(session)
    payments.pay_order(session, order_id=two.id, channel="unionpay", gateway=f.gateway())
    day = dt.date(2026, 5, 2)
    rows = payments.completion_by_channel(session, date_from=day, date_to=day)
    assert {r.channel: (r.attempts, r.successes) for r in rows}["unionpay"] == (1, 1)
    rows = payments.completion_by_channel(session, date_to=day)
    assert {r.channel: r.rate for r in rows}["unionpay"] == 0.5


def test_the_store_invariants_hold_after_payments_and_refunds(engine, uow):
    with uow() as s:
        order = f.placed_order(s, price=2999, quantity=3)
        payments.pay_order(
            s, order_id=order.id, channel="wechat_pay", gateway=f.gateway(wechat_pay=0)
        )
        payments.pay_order(s, order_id=order.id, channel="alipay", gateway=f.gateway())
        line = order.lines[0]
        payments.refund_order(s, order_id=order.id, lines=[(line.id, 1)], gateway=f.gateway())
        payments.refund_order(
            s, order_id=order.id, amount=1234, include_shipping=True, gateway=f.gateway()
        )
        payments.refund_order(s, order_id=order.id, lines=[(line.id, 2)], gateway=f.gateway())
        payments.refund_order(s, order_id=order.id, include_shipping=True, gateway=f.gateway())
        assert order.status == "refunded"
    failing = [(r.check.name, r.examples) for r in run_checks(engine) if not r.ok]
    assert failing == []
    with uow(readonly=True) as s:
        assert s.scalar(select(func.sum(RefundLine.amount))) == order.total
