"""Settling many refs' reservations at once: `commit_reservations` (a batch of orders paid)
or `release_reservations` (a batch cancelled) on each ref in turn, at its own moment, in a
handful of statements for the whole batch.

One conditional UPDATE claims every active reservation of the batch (`… WHERE status =
'active' RETURNING …`, so a ref already settled claims nothing, as in the single call); one
read of the stock rows they hold (locked in lock order on PostgreSQL; SQLite's writer holds the
database) gives the counts each sale or release leaves for its `stock.changed`; one
`executemany` per batch takes the units off the stock rows (relative, so it composes with
anything else in the transaction); one of movements and one outbox INSERT of events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopops.db import DriverStatement
from shopops.events import emit_many
from shopops.inventory import events
from shopops.inventory.models import MovementReason, Reservation, ReservationStatus, StockLevel
from shopops.inventory.service._common import check_ref, movement_row
from shopops.inventory.service.reservations import _INSERT_MOVEMENTS, _sync_level

_RES = Reservation.__table__
_LEVEL = StockLevel.__table__

Ref = tuple[str, str, dt.datetime]  # (ref type, ref id, at)


def _claim(status: ReservationStatus) -> Any:
    # Built once with bound values: building and keying a statement per batch cost more.
    return (
        update(_RES)
        .where(
            _RES.c.ref_type == bindparam("b_ref_type"),
            _RES.c.ref_id.in_(bindparam("ids", expanding=True)),
            _RES.c.status == ReservationStatus.ACTIVE.value,
        )
        .values(status=status.value)
        .returning(_RES.c.id, _RES.c.ref_id, _RES.c.sku_id, _RES.c.warehouse_id, _RES.c.quantity)
    )


_CLAIMS = {True: _claim(ReservationStatus.COMMITTED), False: _claim(ReservationStatus.RELEASED)}
_LEVELS = (
    select(_LEVEL.c.id, _LEVEL.c.sku_id, _LEVEL.c.warehouse_id, _LEVEL.c.on_hand, _LEVEL.c.reserved)
    .where(tuple_(_LEVEL.c.sku_id, _LEVEL.c.warehouse_id).in_(bindparam("keys", expanding=True)))
    .order_by(_LEVEL.c.sku_id, _LEVEL.c.warehouse_id)
    .with_for_update()
)
# Run on the DBAPI cursor (compiled once per dialect): one executemany per batch.
_SELL_MANY = DriverStatement(
    update(_LEVEL)
    .where(_LEVEL.c.id == bindparam("lid"))
    .values(on_hand=_LEVEL.c.on_hand - bindparam("q"), reserved=_LEVEL.c.reserved - bindparam("q")),
    rows=False,
)
_UNRESERVE_MANY = DriverStatement(
    update(_LEVEL)
    .where(_LEVEL.c.id == bindparam("lid"))
    .values(reserved=_LEVEL.c.reserved - bindparam("q")),
    rows=False,
)


def commit_reservations_many(session: Session, *, refs: Sequence[Ref]) -> None:
    """`commit_reservations(ref_type, ref_id)` for each `(ref_type, ref_id, at)` in order, as
    if the clock were `at`: the same claimed reservations, stock rows, movements and
    `stock.changed` events (each with the counts right after its own sale)."""
    _settle_many(session, refs, sale=True)


def release_reservations_many(session: Session, *, refs: Sequence[Ref]) -> None:
    """`release_reservations(ref_type, ref_id)` for each `(ref_type, ref_id, at)` in order,
    as if the clock were `at`: the same released reservations, stock rows, movements and
    `stock.changed` events (each with the counts right after its own release)."""
    _settle_many(session, refs, sale=False)


def _claimed(
    session: Session, refs: Sequence[Ref], sale: bool
) -> dict[tuple[str, str], dict[tuple[int, int], int]]:
    """(ref type, ref id) → units claimed per (SKU, warehouse); loaded reservations synced."""
    claimed: dict[tuple[str, str], dict[tuple[int, int], int]] = {}
    status = (ReservationStatus.COMMITTED if sale else ReservationStatus.RELEASED).value
    for ref_type in sorted({r[0] for r in refs}):
        ids = sorted({r[1] for r in refs if r[0] == ref_type})
        rows = session.execute(
            _CLAIMS[sale],
            {"b_ref_type": ref_type, "ids": ids},
            execution_options={"synchronize_session": False},
        ).all()
        held = session.identity_map
        for rid, ref_id, sku_id, warehouse_id, quantity in rows:
            # A loaded reservation shows the claim (the key is `identity_key(Reservation, id)`).
            row = held.get((Reservation, (rid,), None)) if held else None
            if row is not None:
                set_committed_value(row, "status", status)
            units = claimed.setdefault((ref_type, ref_id), {})
            key = (sku_id, warehouse_id)
            units[key] = units.get(key, 0) + quantity
    return claimed


def _settle_many(session: Session, refs: Sequence[Ref], *, sale: bool) -> None:
    for ref_type, ref_id, _ in refs:
        check_ref(ref_type, ref_id)
    if not refs:
        return
    session.flush()
    claimed = _claimed(session, refs, sale)
    if not claimed:
        return
    keys = sorted({key for units in claimed.values() for key in units})
    levels = {
        (r.sku_id, r.warehouse_id): [r.id, r.on_hand, r.reserved]
        for r in session.execute(_LEVELS, {"keys": keys})
    }
    taken: dict[int, int] = {}
    moves, changes = [], []
    reason = MovementReason.SALE if sale else MovementReason.RELEASE
    seen: set[tuple[str, str]] = set()
    for ref_type, ref_id, at in refs:
        units = claimed.get((ref_type, ref_id))
        if units is None or (ref_type, ref_id) in seen:
            continue  # nothing active, or settled earlier in the batch
        seen.add((ref_type, ref_id))
        for (sku_id, warehouse_id), q in sorted(units.items()):
            level = levels[(sku_id, warehouse_id)]
            on_hand_delta = -q if sale else 0
            level[1] += on_hand_delta
            level[2] -= q
            taken[level[0]] = taken.get(level[0], 0) + q
            moves.append(
                movement_row(
                    sku_id=sku_id,
                    warehouse_id=warehouse_id,
                    reason=reason,
                    on_hand_delta=on_hand_delta,
                    reserved_delta=-q,
                    ref_type=ref_type,
                    ref_id=ref_id,
                    at=at,
                )
            )
            payload = events.stock_changed(
                sku_id=sku_id,
                warehouse_id=warehouse_id,
                reason=reason.value,
                on_hand_delta=on_hand_delta,
                reserved_delta=-q,
                on_hand=level[1],
                reserved=level[2],
                ref_type=ref_type,
                ref_id=ref_id,
                at=at,
            )
            changes.append((events.AGGREGATE, sku_id, payload, at))
    conn = session.connection()
    (_SELL_MANY if sale else _UNRESERVE_MANY).executemany(
        conn, [{"lid": lid, "q": q} for lid, q in sorted(taken.items())]
    )
    if session.identity_map:
        for level_id, on_hand, reserved in levels.values():
            _sync_level(session, level_id, on_hand, reserved)
    _INSERT_MOVEMENTS.executemany(conn, moves)
    emit_many(session, events.STOCK_CHANGED, changes)
