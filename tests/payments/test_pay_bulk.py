"""Bulk payment (`pay_orders`): the same rows and events as `pay_order` on each attempt in turn
(at its own moment), refused attempts writing nothing, and every `order.paid` subscriber's
effect (stock, membership counters, points, tiers, first-order coupons) the same."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, make_url, select, text, update
from sqlalchemy.orm import Session
from tests import factories as f
from tests.conftest import PG_URL

from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.members.models import Customer
from shopops.members.service import adjust_points
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.payments.models import Payment
from shopops.promotions import service as promotions
from shopops.promotions.schemas import PromotionCreate, TemplateCreate

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
# Differs per copy by nature: gateway transaction ids, coupon codes, event ids.
RANDOM_KEYS = {"gateway_txn_id", "code", "gateway_refund_id"}


@dataclass
class Store:
    orders: dict[str, int]
    seq: int  # the last outbox event before the payments


def _build(engine: Engine) -> Store:
    """Customers in every situation a payment meets, and their pending orders."""
    f._seq = itertools.count(1)
    promotions.clear_cache()
    with session_scope(engine) as s:
        set_clock(s, T0 - dt.timedelta(days=1))
        wh = f.warehouse(s, code="W1")
        cheap = f.product(s, price=4000, cost=2000, stock=50, wh=wh)
        dear = f.product(s, price=50000, cost=30000, stock=20, wh=wh)
        two = f.product(s, price=1500, cost=900, stock=30, wh=wh, skus=2)
        first = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="首单返券", kind="first_order", params={"amount": 500}, requires_coupon=True
            ),
        )
        promotions.change_status(s, promotion_id=first.id, action="activate")
        promotions.create_template(
            s,
            spec=TemplateCreate(
                promotion_id=first.id, name="首单返券", trigger="first_order", per_customer=2
            ),
        )
        c1, c2, c3, c4, c5, c6 = (f.customer(s) for _ in range(6))
        adjust_points(s, customer_id=c2.id, amount=1000, reason="seed", ref="seed")
        # c5 is gold already (points at 120 %); c6 paid an order before the batch.
        s.execute(
            update(Customer).where(Customer.id == c5.id).values(tier_code="gold", growth_value=3000)
        )
        s.execute(
            update(Customer).where(Customer.id == c6.id).values(paid_orders=1, total_paid=100)
        )

        def place(cust: Customer, prod: Any, qty: int = 1, points: int = 0) -> int:
            lines = [(k.id, qty) for k in prod.skus]
            return orders.place_order(s, customer_id=cust.id, lines=lines, points=points).id

        ids = {"late": place(c4, cheap)}  # placed a day early: past its deadline
        set_clock(s, T0)
        ids |= {
            "c1a": place(c1, cheap),
            "c1b": place(c1, two, 2),
            "c2": place(c2, dear, points=300),  # a redemption, announced when paid
            "c3": place(c3, dear, 2),  # growth past silver
            "c4": place(c4, cheap),
            "c5": place(c5, two),
            "c6a": place(c6, cheap),
            "c6b": place(c6, cheap, 3),
            "gone": place(c4, cheap),
        }
        orders.cancel_order(s, order_id=ids["gone"], reason="test")
        s.flush()
        seq = int(s.scalar(select(func.max(OutboxEvent.seq))) or 0)
    return Store(ids, seq)


def _attempts(store: Store) -> list[payments.PayAttempt]:
    o = store.orders
    script = [
        (o["c1a"], "alipay"),
        (o["c1b"], "wechat_pay"),
        (o["c1a"], "alipay"),  # paid just before: order_not_payable
        (o["c2"], "wechat_pay"),
        (o["c3"], "unionpay"),  # the gateway declines unionpay
        (o["c3"], "alipay"),  # the retry pays
        (o["late"], "alipay"),  # order_not_payable: past its deadline
        (o["gone"], "alipay"),  # order_not_payable: cancelled
        (10**6, "alipay"),  # order_not_found
        (o["c4"], "paypal"),  # unknown_channel
        (o["c4"], "wechat_pay"),
        (o["c6a"], "alipay"),
        (o["c5"], "unionpay"),  # declined, and left pending
        (o["c6b"], "wechat_pay"),
        (o["c5"], "alipay"),
    ]
    return [
        payments.PayAttempt(order_id, channel, T0 + dt.timedelta(minutes=1 + i))
        for i, (order_id, channel) in enumerate(script)
    ]


def _gateway() -> Any:
    return f.gateway(seed=7, unionpay=0.0)


def _outcome(result: Payment | ShopOpsError) -> tuple[str, ...]:
    if isinstance(result, ShopOpsError):
        return ("refused", result.code)
    return (result.status, result.channel, str(result.amount), result.failure_code)


def _single(engine: Engine, attempts: list[payments.PayAttempt]) -> list[tuple[str, ...]]:
    """`pay_order` on each attempt in one unit of work, each at its time in a savepoint."""
    out = []
    gw = _gateway()
    with session_scope(engine) as s:
        for a in attempts:
            set_clock(s, a.at)
            try:
                with s.begin_nested():
                    payment = payments.pay_order(
                        s, order_id=a.order_id, channel=a.channel, gateway=gw
                    )
                out.append(_outcome(payment))
            except ShopOpsError as exc:
                out.append(_outcome(exc))
    return out


def _bulk(engine: Engine, attempts: list[payments.PayAttempt], size: int) -> list[tuple[str, ...]]:
    out = []
    gw = _gateway()
    with session_scope(engine) as s:
        set_clock(s, T0)
        for k in range(0, len(attempts), size):
            results = payments.pay_orders(s, attempts=attempts[k : k + size], gateway=gw)
            out += [_outcome(r) for r in results]
        assert s.info["now"] == T0  # the clock is left as it was
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<random>" if k in RANDOM_KEYS else _clean(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()
    return value


def _dump(engine: Engine, since_seq: int) -> dict[str, list[str]]:
    """Every table's rows (sorted, random values blanked) and the events after `since_seq`
    (without their sequence number and id)."""
    out: dict[str, list[str]] = {}
    with session_scope(engine, readonly=True) as s:
        for table in Base.metadata.sorted_tables:
            if table.name != "outbox_event":
                rows = s.execute(select(table)).mappings()
                out[table.name] = sorted(repr(_clean(dict(r))) for r in rows)
        events = s.scalars(select(OutboxEvent).where(OutboxEvent.seq > since_seq))
        out["events"] = sorted(
            repr(
                (e.name, e.aggregate_type, e.aggregate_id, _clean(e.occurred_at), _clean(e.payload))
            )
            for e in events
        )
    return out


@pytest.fixture
def twin(engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, Store]]:
    """The store built in `engine`, and an exact copy of it (the same ids) in a second
    database on the same backend."""
    store = _build(engine)
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(make_url(str(engine.url)).database)
        dst = sqlite3.connect(tmp_path / "twin.db")
        src.backup(dst)
        src.close()
        dst.close()
        other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    else:
        assert PG_URL is not None
        engine.dispose()  # a template database must have no other connection
        base = make_url(str(engine.url))
        name = f"{base.database}_paytwin"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"'))
        admin.dispose()
        other = make_engine(base.set(database=name).render_as_string(hide_password=False))
    yield other, store
    other.dispose()


@pytest.mark.parametrize("size", [1, 4, 100])
def test_bulk_pays_as_the_single_calls_do(engine: Engine, twin: tuple[Engine, Store], size: int):
    other, store = twin
    attempts = _attempts(store)
    single = _single(engine, attempts)
    bulk = _bulk(other, attempts, size)
    assert bulk == single
    assert [r[1] for r in single if r[0] == "refused"] == [
        "order_not_payable",
        "order_not_payable",
        "order_not_payable",
        "order_not_found",
        "unknown_channel",
    ]
    assert sum(r[0] == "succeeded" for r in single) == 8
    assert sum(r[0] == "failed" for r in single) == 2
    want, got = _dump(engine, store.seq), _dump(other, store.seq)
    assert got.keys() == want.keys()
    for name in want:
        assert got[name] == want[name], name
    names = {eval(e)[0] for e in got["events"]}
    assert {"payment.succeeded", "payment.failed", "order.paid", "stock.changed"} <= names
    assert {"points.earned", "points.redeemed", "tier.changed", "coupon.issued"} <= names


def test_a_refused_attempt_writes_nothing(session: Session):
    order = f.placed_order(session)
    session.flush()
    before = session.scalar(select(func.count()).select_from(OutboxEvent))
    at = dt.datetime.now(dt.UTC)
    results = payments.pay_orders(
        session,
        attempts=[
            payments.PayAttempt(order.id, "paypal", at),
            payments.PayAttempt(10**6, "alipay", at),
        ],
        gateway=f.gateway(),
    )
    assert [r.code for r in results] == ["unknown_channel", "order_not_found"]  # type: ignore[union-attr]
    session.flush()
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == before
    assert session.scalar(select(func.count()).select_from(Payment)) == 0
    assert order.status == "pending_payment"


def test_loaded_objects_see_the_bulk_writes(session: Session):
    cust = f.customer(session)
    order = f.placed_order(session, cust=cust, price=120000)
    at = dt.datetime.now(dt.UTC)
    [payment] = payments.pay_orders(
        session, attempts=[payments.PayAttempt(order.id, "alipay", at)], gateway=f.gateway()
    )
    assert isinstance(payment, Payment) and payment.status == "succeeded" and payment.id
    assert session.get(Payment, payment.id) is payment
    assert order.status == "paid" and order.paid_amount == order.total and order.paid_at == at
    assert cust.paid_orders == 1 and cust.total_paid == order.total
    assert cust.tier_code == "silver" and cust.points_balance == 1200
    assert payments.list_payments(session, order_id=order.id)[0].id == payment.id


def test_naive_times_are_refused(session: Session):
    with pytest.raises(ValueError):
        payments.pay_orders(
            session,
            attempts=[payments.PayAttempt(1, "alipay", dt.datetime(2026, 1, 1))],
            gateway=f.gateway(),
        )
