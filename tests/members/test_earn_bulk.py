"""earn_points_many leaves the entries, balances and events earn_points leaves one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import session_scope, set_clock
from shopops.members.errors import CustomerNotFound, InvalidPoints
from shopops.members.service import points

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("points_entry", "customer")


def _store(s: Session) -> dict[str, int]:
    set_clock(s, T0)
    a, b = f.customer(s), f.customer(s)
    points.earn_points(s, customer_id=a.id, amount=5, reason="before", ref="review:0")
    return {"a": a.id, "b": b.id}


def _items(c: dict[str, int]) -> list[tuple[int, int, str, str, dt.datetime]]:
    at = [T0 + dt.timedelta(hours=h) for h in range(1, 9)]
    a, b = c["a"], c["b"]
    return [
        (a, 20, "晒单有奖 #1", "review:1", at[0]),
        (b, 20, "晒单有奖 #2", "review:2", at[1]),
        (a, 5, "already earned", "review:0", at[2]),  # the ref was credited before
        (a, 30, "晒单有奖 #3", "review:3", at[3]),
        (b, 20, "again in the batch", "review:2", at[4]),  # the same ref twice
        (b, 7, "晒单有奖 #4", "review:4", at[5]),
    ]


def test_earn_points_many_equals_earn_points_one_by_one(twins):  # noqa: F811
    one, many, built = twins(_store)
    items = _items(built)
    with session_scope(one) as s:
        single = []
        for customer_id, amount, reason, ref, at in items:
            set_clock(s, at)
            entry = points.earn_points(
                s, customer_id=customer_id, amount=amount, reason=reason, ref=ref
            )
            single.append((entry.id, entry.amount, entry.balance_after))
    with session_scope(many) as s:
        set_clock(s, T0)
        got = points.earn_points_many(s, items=items)
        bulk = [(e.id, e.amount, e.balance_after) for e in got]
    assert bulk == single
    assert snapshot(one, TABLES) == snapshot(many, TABLES)


def test_a_refused_batch_writes_nothing(twins):  # noqa: F811
    _one, many, built = twins(_store)
    before = snapshot(many, TABLES)
    bad = [
        [(built["a"], 0, "none", "review:9", T0)],
        [(built["a"], 5, "no ref", "", T0)],
        [(built["a"], 5, "ok", "review:8", T0), (10**6, 5, "nobody", "review:7", T0)],
    ]
    for items, error in zip(bad, (InvalidPoints, InvalidPoints, CustomerNotFound), strict=True):
        with pytest.raises(error), session_scope(many) as s:
            points.earn_points_many(s, items=items)
    assert snapshot(many, TABLES) == before
    with session_scope(many) as s:
        assert points.earn_points_many(s, items=[]) == []
