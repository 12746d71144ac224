"""StockBook.write: every stock row a batch took from moved by one conditional UPDATE; a row
changed under the held batch (a bug, not a refusal) stops the write."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.db import set_clock
from shopops.inventory.models import Reservation, StockLevel
from shopops.inventory.service.reservations_bulk import BookedReservation, StockBook

AT = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)


def _book(s: Session) -> tuple[StockBook, list[BookedReservation], list[int]]:
    set_clock(s, AT)
    w1, w2 = f.warehouse(s, priority=1), f.warehouse(s, priority=2)
    prod = f.product(s, stock=3, skus=3, wh=w1)
    for sku in prod.skus:
        f.receive(s, sku, w2, 5)
    s.flush()
    ids = [sku.id for sku in prod.skus]
    book = StockBook(s, sku_ids=ids)
    booked = []
    for n, lines in enumerate([[(ids[0], 2), (ids[1], 1)], [(ids[0], 2), (ids[2], 3)]]):
        held = book.take(lines)
        booked.append(BookedReservation("order", str(n + 1), held, AT + dt.timedelta(hours=1), AT))
    return book, booked, ids


def test_a_batch_moves_all_its_stock_rows_at_once(session: Session) -> None:
    book, booked, ids = _book(session)
    book.write(session, booked)
    rows = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand, StockLevel.reserved).order_by(
            StockLevel.sku_id, StockLevel.warehouse_id
        )
    ).all()
    # SKU 0: 2 from W1, then 1 left there and 1 from W2; SKU 2: 3 whole from W1.
    assert [tuple(r) for r in rows] == [
        (ids[0], 3, 3), (ids[0], 5, 1), (ids[1], 3, 1), (ids[1], 5, 0),
        (ids[2], 3, 3), (ids[2], 5, 0),
    ]  # fmt: skip
    assert session.scalar(select(Reservation.quantity).where(Reservation.ref_id == "2")) == 1


def test_a_stock_row_changed_under_the_batch_stops_the_write(session: Session) -> None:
    book, booked, ids = _book(session)
    session.execute(update(StockLevel).where(StockLevel.sku_id == ids[2]).values(reserved=3))
    with pytest.raises(RuntimeError, match="moved under a held batch"):
        book.write(session, booked)
