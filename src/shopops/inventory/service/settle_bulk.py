"""Committing many refs' reservations at once (a batch of orders paid): `commit_reservations`
on each ref in turn, at its own moment, in a handful of statements for the whole batch.

One conditional UPDATE claims every active reservation of the batch (`… WHERE status =
'active' RETURNING …`, so a ref already settled claims nothing, as in the single call); one
read of the stock rows they hold (locked in lock order on PostgreSQL; SQLite's writer holds the
database) gives the counts each sale leaves for its `stock.changed`; one UPDATE per stock row
takes the batch's units off (relative, so it composes with anything else in the transaction);
one INSERT of movements and one of events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopops.events import emit_many
from shopops.inventory import events
from shopops.inventory.models import (
    MovementReason,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from shopops.inventory.service._common import check_ref, movement_row
from shopops.inventory.service.reservations import _sync_level

_RES = Reservation.__table__
_LEVEL = StockLevel.__table__

# Built once with bound values: building and keying a statement per batch cost more than its SQL.
_CLAIM = (
    update(_RES)
    .where(
        _RES.c.ref_type == bindparam("b_ref_type"),
        _RES.c.ref_id.in_(bindparam("ids", expanding=True)),
        _RES.c.status == ReservationStatus.ACTIVE.value,
    )
    .values(status=ReservationStatus.COMMITTED.value)
    .returning(_RES.c.id, _RES.c.ref_id, _RES.c.sku_id, _RES.c.warehouse_id, _RES.c.quantity)
)
_LEVELS = (
    select(_LEVEL.c.id, _LEVEL.c.sku_id, _LEVEL.c.warehouse_id, _LEVEL.c.on_hand, _LEVEL.c.reserved)
    .where(tuple_(_LEVEL.c.sku_id, _LEVEL.c.warehouse_id).in_(bindparam("keys", expanding=True)))
    .order_by(_LEVEL.c.sku_id, _LEVEL.c.warehouse_id)
    .with_for_update()
)
_INSERT_MOVES = insert(StockMovement.__table__)
_SELL_MANY = (
    update(_LEVEL)
    .where(_LEVEL.c.id == bindparam("lid"))
    .values(on_hand=_LEVEL.c.on_hand - bindparam("q"), reserved=_LEVEL.c.reserved - bindparam("q"))
)


def commit_reservations_many(
    session: Session, *, refs: Sequence[tuple[str, str, dt.datetime]]
) -> None:
    """`commit_reservations(ref_type, ref_id)` for each `(ref_type, ref_id, at)` in order, as
    if the clock were `at`: the same claimed reservations, stock rows, movements and
    `stock.changed` events (each with the counts right after its own sale)."""
    for ref_type, ref_id, _ in refs:
        check_ref(ref_type, ref_id)
    if not refs:
        return
    session.flush()
    claimed: dict[tuple[str, str], dict[tuple[int, int], int]] = {}
    for ref_type in sorted({r[0] for r in refs}):
        ids = sorted({r[1] for r in refs if r[0] == ref_type})
        rows = session.execute(
            _CLAIM,
            {"b_ref_type": ref_type, "ids": ids},
            execution_options={"synchronize_session": False},
        ).all()
        held = session.identity_map
        for r in rows:
            # A loaded reservation shows the claim (the key is `identity_key(Reservation, id)`).
            row = held.get((Reservation, (r.id,), None)) if held else None
            if row is not None:
                set_committed_value(row, "status", ReservationStatus.COMMITTED.value)
            units = claimed.setdefault((ref_type, r.ref_id), {})
            units[(r.sku_id, r.warehouse_id)] = (
                units.get((r.sku_id, r.warehouse_id), 0) + r.quantity
            )
    if not claimed:
        return
    keys = sorted({key for units in claimed.values() for key in units})
    levels = {
        (r.sku_id, r.warehouse_id): [r.id, r.on_hand, r.reserved]
        for r in session.execute(_LEVELS, {"keys": keys})
    }
    sold: dict[int, int] = {}
    moves, changes = [], []
    reason = MovementReason.SALE
    seen: set[tuple[str, str]] = set()
    for ref_type, ref_id, at in refs:
        units = claimed.get((ref_type, ref_id))
        if units is None or (ref_type, ref_id) in seen:
            continue  # nothing active, or settled earlier in the batch
        seen.add((ref_type, ref_id))
        for (sku_id, warehouse_id), q in sorted(units.items()):
            level = levels[(sku_id, warehouse_id)]
            level[1] -= q
            level[2] -= q
            sold[level[0]] = sold.get(level[0], 0) + q
            moves.append(
                movement_row(
                    sku_id=sku_id,
                    warehouse_id=warehouse_id,
                    reason=reason,
                    on_hand_delta=-q,
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
                on_hand_delta=-q,
                reserved_delta=-q,
                on_hand=level[1],
                reserved=level[2],
                ref_type=ref_type,
                ref_id=ref_id,
                at=at,
            )
            changes.append((events.AGGREGATE, sku_id, payload, at))
    session.execute(
        _SELL_MANY,
        [{"lid": lid, "q": q} for lid, q in sorted(sold.items())],
        execution_options={"synchronize_session": False},
    )
    if session.identity_map:
        for level_id, on_hand, reserved in levels.values():
            _sync_level(session, level_id, on_hand, reserved)
    session.execute(_INSERT_MOVES, moves)
    emit_many(session, events.STOCK_CHANGED, changes)
