"""release_reservations_many: a batch's orders cancelled give their held units back once, as
release_reservations on each ref at its moment; a committed ref is never released."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import session_scope, set_clock
from shopops.inventory.errors import InvalidRef
from shopops.inventory.models import Reservation
from shopops.inventory.service import release_reservations
from shopops.inventory.service.settle_bulk import (
    commit_reservations_many,
    release_reservations_many,
)
from shopops.orders import service as orders

AT = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)


TABLES = ("reservation", "stock_level", "stock_movement")


def _store(s: Session) -> list[str]:
    # Orders sharing SKUs: each event carries the counts right after its own release.
    set_clock(s, AT - dt.timedelta(hours=1))
    prod = f.product(s, stock=20, skus=2)
    cust = f.customer(s)
    refs = []
    for q in (1, 2, 3):
        lines = [(sku.id, q) for sku in prod.skus[: 1 + q % 2]]
        refs.append(str(orders.place_order(s, customer_id=cust.id, lines=lines).id))
    return refs


def test_release_many_equals_release_one_by_one(twins):  # noqa: F811
    a, b, refs = twins(_store)
    times = [AT + dt.timedelta(minutes=k) for k in range(len(refs))]
    with session_scope(a) as s:
        for ref_id, at in zip([*refs, refs[0]], [*times, times[0]], strict=True):
            set_clock(s, at)
            release_reservations(s, ref_type="order", ref_id=ref_id)
    with session_scope(b) as s:
        set_clock(s, AT)
        refs_at = [("order", r, at) for r, at in zip(refs, times, strict=True)]
        release_reservations_many(s, refs=[*refs_at, refs_at[0]])  # the repeat: nothing more
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    assert [e[0] for e in sb["outbox_event"]].count("stock.changed") >= 3 + 5


def test_a_ref_released_twice_or_already_sold_gives_back_nothing_more(session: Session):
    released = f.placed_order(session, quantity=2, skus=2)
    sold = f.placed_order(session, quantity=1, skus=1)
    rel, sale = ("order", str(released.id), AT), ("order", str(sold.id), AT)
    commit_reservations_many(session, refs=[sale])
    before = f.stock_levels(session)
    release_reservations_many(session, refs=[rel, rel, sale])
    release_reservations_many(session, refs=[rel])
    after = f.stock_levels(session)
    changed = {k: (before[k][0] - v[0], before[k][1] - v[1]) for k, v in after.items()}
    assert sorted(d for d in changed.values() if d != (0, 0)) == [(0, 2), (0, 2)]
    statuses = dict(session.execute(select(Reservation.ref_id, Reservation.status)).all())
    assert statuses[rel[1]] == "released" and statuses[sale[1]] == "committed"
    f.assert_stock_ledger(session)


def test_a_bad_ref_is_refused_before_anything_is_written(session: Session):
    order = f.placed_order(session)
    before = f.stock_levels(session)
    with pytest.raises(InvalidRef):
        release_reservations_many(session, refs=[("order", str(order.id), AT), ("", "1", AT)])
    assert f.stock_levels(session) == before
