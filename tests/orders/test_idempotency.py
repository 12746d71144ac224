"""Idempotency-Key: the same request under the same key places one order, however often and
however concurrently it is sent; another request under the same key is refused."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session
from tests.orders.shop import new_customer, order_count, stock

from shopops.db import session_scope
from shopops.errors import InvalidInput
from shopops.orders import service
from shopops.orders.errors import IdempotencyKeyReused
from shopops.orders.rules import request_fingerprint


def test_fingerprint_is_normal_form():
    a = request_fingerprint(address_id=1, lines=[(1, 2), (3, 1)], channel="storefront", note="x")
    b = request_fingerprint(
        address_id=1, lines=[(3, 1), (1, 1), (1, 1)], channel="storefront", note=" x "
    )
    assert a == b
    assert a != request_fingerprint(address_id=1, lines=[(1, 3)], channel="storefront", note="x")
    assert a != request_fingerprint(
        address_id=2, lines=[(1, 2), (3, 1)], channel="storefront", note="x"
    )
    assert request_fingerprint(
        address_id=None, lines=None, channel="storefront", note=""
    ) != request_fingerprint(address_id=None, lines=[], channel="storefront", note="")


def test_same_key_same_cart_request_returns_the_same_order(uow, engine, shop):
    with uow() as s:
        service.add_to_cart(s, customer_id=shop.customer_id, sku_id=shop.skus[0], quantity=2)
    with uow() as s:
        first = service.place_order(s, customer_id=shop.customer_id, idempotency_key="k-1")
    # The cart is empty now; the retry still gets the order instead of "cart empty".
    with uow() as s:
        again = service.place_order(s, customer_id=shop.customer_id, idempotency_key="k-1")
        assert [ln.sku_id for ln in again.lines] == [shop.skus[0]]
    assert again.id == first.id and again.number == first.number
    assert order_count(engine) == 1
    assert stock(engine, shop.skus[0]) == (10, 2)


def test_same_key_other_body_is_refused(uow, engine, shop):
    lines = [(shop.skus[0], 1)]
    with uow() as s:
        first = service.place_order(
            s, customer_id=shop.customer_id, lines=lines, idempotency_key="k"
        )
    with uow() as s, pytest.raises(IdempotencyKeyReused) as err:
        service.place_order(
            s, customer_id=shop.customer_id, lines=[(shop.skus[0], 2)], idempotency_key="k"
        )
    assert err.value.status_code == 409 and err.value.details["order_id"] == first.id
    with uow() as s, pytest.raises(IdempotencyKeyReused):
        service.place_order(
            s, customer_id=shop.customer_id, lines=lines, idempotency_key="k", note="gift"
        )
    assert order_count(engine) == 1


def test_keys_are_per_customer(uow, engine, shop):
    other = new_customer(engine)
    lines = [(shop.skus[0], 1)]
    with uow() as s:
        a = service.place_order(s, customer_id=shop.customer_id, lines=lines, idempotency_key="k")
        b = service.place_order(s, customer_id=other, lines=lines, idempotency_key="k")
    assert a.id != b.id and order_count(engine) == 2


@pytest.mark.parametrize("key", ["", "x" * 129])
def test_key_length(session, shop, key):
    with pytest.raises(InvalidInput):
        service.place_order(
            session, customer_id=shop.customer_id, lines=[(shop.skus[0], 1)], idempotency_key=key
        )


def test_concurrent_requests_with_one_key_place_one_order(engine, shop):
    threads_n = 4
    barrier = threading.Barrier(threads_n)
    results: list[int] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                order = service.place_order(
                    s,
                    customer_id=shop.customer_id,
                    lines=[(shop.skus[0], 1)],
                    idempotency_key="same-click",
                )
                results.append(order.id)
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == threads_n and len(set(results)) == 1
    assert order_count(engine) == 1
    assert stock(engine, shop.skus[0]) == (10, 1)


def test_the_loser_of_a_race_returns_the_winners_order(engine, shop):
    lines = [(shop.skus[0], 1)]
    first = Session(engine, expire_on_commit=False, autoflush=False)
    winner = service.place_order(
        first, customer_id=shop.customer_id, lines=lines, idempotency_key="race"
    )
    outcome: dict[str, object] = {}

    def loser() -> None:
        try:
            with session_scope(engine) as s:
                outcome["id"] = service.place_order(
                    s, customer_id=shop.customer_id, lines=lines, idempotency_key="race"
                ).id
        except BaseException as exc:  # collected: a thread's failure must fail the test
            outcome["error"] = exc

    thread = threading.Thread(target=loser)
    thread.start()
    # The loser now waits: on the key's unique index (PostgreSQL) or the write lock (SQLite).
    time.sleep(0.5)
    assert thread.is_alive()
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert outcome == {"id": winner.id}
    assert order_count(engine) == 1
    assert stock(engine, shop.skus[0]) == (10, 1)
