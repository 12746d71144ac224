"""Reservations for a batch of refs (bulk checkout): the stock rows of every SKU of the batch
are read once and held for the transaction, each ref takes its units in memory, one after
the other, with the rules of `reserve`, and everything is written at the end.

Why it cannot oversell: on PostgreSQL the rows are read `FOR UPDATE` in lock order (SKU, then
warehouse: the order `reserve` takes them in), so nobody changes them before the commit; on
SQLite the writer holds the database's write lock (`BEGIN IMMEDIATE`). The final UPDATEs are
still conditional (`on_hand - reserved >= q`) and a row that does not take them is a bug, not
a refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from shopops.db import DriverStatement
from shopops.db import _run as run_on_cursor  # the DBAPI cursor, listeners still told
from shopops.errors import InvalidInput
from shopops.events import emit_many
from shopops.inventory import events
from shopops.inventory.errors import InvalidQuantity
from shopops.inventory.models import MovementReason, ReservationStatus
from shopops.inventory.rules import BadQuantity, LevelView, merge_lines, plan_reservation
from shopops.inventory.service._common import check_ref, movement_row
from shopops.inventory.service.reservations import (
    _INSERT_MOVEMENTS,
    _LEVEL,
    _RESERVATION,
    _RESERVATION_COLUMNS,
    _WAREHOUSE,
    _out_of_stock,
    _sync_level,
    _Taken,
)

_BOOK = (
    select(
        _LEVEL.c.id,
        _LEVEL.c.sku_id,
        _LEVEL.c.warehouse_id,
        _WAREHOUSE.c.priority,
        _LEVEL.c.on_hand,
        _LEVEL.c.reserved,
    )
    .join(_WAREHOUSE, _WAREHOUSE.c.id == _LEVEL.c.warehouse_id)
    .where(
        _LEVEL.c.sku_id.in_(bindparam("sku_ids", expanding=True)),
        _WAREHOUSE.c.active.is_(True),
        _LEVEL.c.on_hand > _LEVEL.c.reserved,
    )
    .order_by(_LEVEL.c.sku_id, _LEVEL.c.warehouse_id)
)
_BOOK_LOCKED = _BOOK.with_for_update(of=_LEVEL)
# Stock rows per UPDATE of `_take_rows` (5 parameters each: well under both drivers' limits).
_TAKE_CHUNK = 500
_TAKE_SQL: dict[tuple[str, int], str] = {}


def _take_rows(conn: Connection, takes: Sequence[tuple[int, int]]) -> list[Any]:
    """`_TAKE` for many (stock row id, quantity) in one statement: each row's `reserved` up
    by its quantity where that much is free; (id, on_hand, reserved) back for each row
    taken (a row missing from them had not that much free)."""
    dialect = conn.dialect
    key = (dialect.name, len(takes))
    sql = _TAKE_SQL.get(key)
    if sql is None:
        t = dialect.identifier_preparer.quote(_LEVEL.name)
        m = "?" if dialect.paramstyle == "qmark" else "%s"
        by_id = "CASE id " + " ".join([f"WHEN {m} THEN {m}"] * len(takes)) + " END"
        sql = _TAKE_SQL[key] = (
            f"UPDATE {t} SET reserved = reserved + {by_id} "
            f"WHERE id IN ({', '.join([m] * len(takes))}) AND on_hand - reserved >= {by_id} "
            "RETURNING id, on_hand, reserved"
        )
    whens = [v for take in takes for v in take]
    return run_on_cursor(conn, sql, [*whens, *(i for i, _ in takes), *whens], many=False, rows=True)


_INSERT_RESERVATIONS = DriverStatement(insert(_RESERVATION), keys=_RESERVATION_COLUMNS, rows=False)


@dataclass(slots=True)
class _Level:
    level_id: int
    sku_id: int
    warehouse_id: int
    priority: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def view(self) -> LevelView:
        return LevelView(
            self.level_id, self.sku_id, self.warehouse_id, self.priority, self.available
        )


@dataclass(frozen=True, slots=True)
class Held:
    """Units one ref holds on one stock row, and the row's counts right after the take."""

    level_id: int
    sku_id: int
    warehouse_id: int
    quantity: int
    on_hand: int
    reserved: int


@dataclass(frozen=True, slots=True)
class BookedReservation:
    """What `StockBook.write` records for one ref."""

    ref_type: str
    ref_id: str
    held: tuple[Held, ...]
    expires_at: dt.datetime
    at: dt.datetime


class StockBook:
    """The free stock of a batch's SKUs, held for the transaction (see the module docstring)."""

    def __init__(self, session: Session, *, sku_ids: Sequence[int]) -> None:
        conn = session.connection()
        stmt = _BOOK_LOCKED if conn.dialect.name == "postgresql" else _BOOK
        ids = sorted(set(sku_ids))
        rows = conn.execute(stmt, {"sku_ids": ids}).all() if ids else []
        self._by_sku: dict[int, list[_Level]] = {}
        for r in rows:
            level = _Level(r.id, r.sku_id, r.warehouse_id, r.priority, r.on_hand, r.reserved)
            self._by_sku.setdefault(r.sku_id, []).append(level)
        for levels in self._by_sku.values():
            levels.sort(key=lambda lv: (lv.priority, lv.warehouse_id))

    def _level(self, level_id: int, sku_id: int) -> _Level:
        return next(lv for lv in self._by_sku[sku_id] if lv.level_id == level_id)

    def take(self, items: Sequence[tuple[int, int]]) -> tuple[Held, ...]:
        """Hold stock for `items` as `reserve` would at this point of the batch: each SKU
        whole from the first warehouse with free stock if it fits there, else planned over
        warehouses by priority. All or nothing (`OutOfStock`, `InvalidQuantity`)."""
        try:
            lines = merge_lines(items)
        except BadQuantity as exc:
            raise InvalidQuantity(
                str(exc), details={"sku_id": exc.sku_id, "quantity": exc.quantity}
            ) from exc
        requested = dict(lines)
        needed = dict(lines)
        taken: dict[int, tuple[_Level, int]] = {}
        for sku_id, quantity in sorted(lines):
            first = next((lv for lv in self._by_sku.get(sku_id, ()) if lv.available > 0), None)
            if first is None or first.available < quantity:
                break
            taken[first.level_id] = (first, quantity)
            needed[sku_id] = 0
        rest = {s: q for s, q in needed.items() if q > 0}
        if rest:
            # What `reserve` reads after its whole-warehouse takes (other SKUs): rows still free.
            levels = [
                lv.view()
                for s in sorted(rest)
                for lv in self._by_sku.get(s, ())
                if lv.available > 0
            ]
            plan = plan_reservation(rest, levels)
            if not plan.ok:
                mine = {
                    lid: _Taken(lv.view(), q, lv.on_hand, lv.reserved)
                    for lid, (lv, q) in taken.items()
                }
                raise _out_of_stock(plan.shortages, requested, levels, mine)
            for a in plan.allocations:
                level = self._level(a.level.level_id, a.level.sku_id)
                taken[level.level_id] = (level, a.quantity)
        if not taken:
            return ()
        held = []
        for level, quantity in sorted(
            taken.values(), key=lambda t: (t[0].sku_id, t[0].warehouse_id)
        ):
            level.reserved += quantity
            held.append(
                Held(
                    level.level_id,
                    level.sku_id,
                    level.warehouse_id,
                    quantity,
                    level.on_hand,
                    level.reserved,
                )
            )
        return tuple(held)

    def write(self, session: Session, booked: Sequence[BookedReservation]) -> None:
        """Write what the refs took: one conditional UPDATE of all their stock rows (held
        since the read), the reservations and ledger rows (one `executemany` each) and the
        `stock.changed` events (one INSERT), in the refs' order."""
        for b in booked:
            check_ref(b.ref_type, b.ref_id)
            if b.expires_at.tzinfo is None:
                raise InvalidInput("expires_at needs a time zone", details={"field": "expires_at"})
        conn = session.connection()
        totals: dict[tuple[int, int], tuple[int, int]] = {}
        for b in booked:
            for h in b.held:
                key = (h.sku_id, h.warehouse_id)
                q = totals.get(key, (h.level_id, 0))[1]
                totals[key] = (h.level_id, q + h.quantity)
        takes = [totals[key] for key in sorted(totals)]
        for start in range(0, len(takes), _TAKE_CHUNK):
            chunk = takes[start : start + _TAKE_CHUNK]
            got = {r[0]: (r[1], r[2]) for r in _take_rows(conn, chunk)}
            for level_id, _q in chunk:
                if level_id not in got:
                    raise RuntimeError(f"stock row {level_id} moved under a held batch")
                _sync_level(session, level_id, *got[level_id])
        reservations, moves, changes = [], [], []
        for b in booked:
            for h in b.held:
                reservations.append(
                    {
                        "ref_type": b.ref_type,
                        "ref_id": b.ref_id,
                        "sku_id": h.sku_id,
                        "warehouse_id": h.warehouse_id,
                        "quantity": h.quantity,
                        "status": ReservationStatus.ACTIVE.value,
                        "expires_at": b.expires_at,
                        "created_at": b.at,
                    }
                )
                moves.append(
                    movement_row(
                        sku_id=h.sku_id,
                        warehouse_id=h.warehouse_id,
                        reason=MovementReason.RESERVATION,
                        reserved_delta=h.quantity,
                        ref_type=b.ref_type,
                        ref_id=b.ref_id,
                        at=b.at,
                    )
                )
                payload = events.stock_changed(
                    sku_id=h.sku_id,
                    warehouse_id=h.warehouse_id,
                    reason=MovementReason.RESERVATION.value,
                    on_hand_delta=0,
                    reserved_delta=h.quantity,
                    on_hand=h.on_hand,
                    reserved=h.reserved,
                    ref_type=b.ref_type,
                    ref_id=b.ref_id,
                    at=b.at,
                )
                changes.append((events.AGGREGATE, h.sku_id, payload, b.at))
        if not reservations:
            return
        _INSERT_RESERVATIONS.executemany(conn, reservations)
        _INSERT_MOVEMENTS.executemany(conn, moves)
        emit_many(session, events.STOCK_CHANGED, changes)
