"""Reserve, commit and release stock for a ref (an order): the concurrency-critical part.

See the package docstring for how it stays correct under concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shopops.db import DriverInsertMany, DriverStatement, now
from shopops.errors import InvalidInput
from shopops.inventory.errors import InvalidQuantity, OutOfStock
from shopops.inventory.models import (
    MovementReason,
    Reservation,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)
from shopops.inventory.rules import (
    BadQuantity,
    LevelView,
    Shortage,
    merge_lines,
    plan_reservation,
)
from shopops.inventory.service._common import SYNC, Page, check_ref, emit_change, movement_row

# Lost races a reservation retries before it gives up with OutOfStock.
MAX_ATTEMPTS = 4


# The hot path of checkout runs Core statements on the tables, built once, on the session's
# connection: no ORM bookkeeping per statement (rows the session holds are synced by hand).
_LEVEL = StockLevel.__table__
_WAREHOUSE = Warehouse.__table__
_RESERVATION = Reservation.__table__
_MOVEMENT = StockMovement.__table__

_LEVELS = (
    select(
        _LEVEL.c.id,
        _LEVEL.c.sku_id,
        _LEVEL.c.warehouse_id,
        _WAREHOUSE.c.priority,
        (_LEVEL.c.on_hand - _LEVEL.c.reserved).label("available"),
    )
    .join(_WAREHOUSE, _WAREHOUSE.c.id == _LEVEL.c.warehouse_id)
    .where(
        _LEVEL.c.sku_id.in_(bindparam("sku_ids", expanding=True)),
        _WAREHOUSE.c.active.is_(True),
        _LEVEL.c.on_hand > _LEVEL.c.reserved,
    )
)

# Take :q units of a stock row only if they are still free; no row back = a lost race.
_TAKE = (
    update(_LEVEL)
    .where(
        _LEVEL.c.id == bindparam("lid"),
        _LEVEL.c.on_hand - _LEVEL.c.reserved >= bindparam("q"),
    )
    .values(reserved=_LEVEL.c.reserved + bindparam("q"))
    .returning(_LEVEL.c.on_hand, _LEVEL.c.reserved)
)


# The common case in one statement: a SKU's whole quantity from the first warehouse (by
# priority, as `plan_reservation` orders them) that has any stock free, if it fits there; that
# is exactly the plan's allocation then. No row back (it does not fit, or a race): plan it.
_FIRST_FREE = (
    select(_LEVEL.c.id)
    .select_from(_LEVEL.join(_WAREHOUSE, _WAREHOUSE.c.id == _LEVEL.c.warehouse_id))
    .where(
        _LEVEL.c.sku_id == bindparam("sku"),
        _WAREHOUSE.c.active.is_(True),
        _LEVEL.c.on_hand > _LEVEL.c.reserved,
    )
    .order_by(_WAREHOUSE.c.priority, _LEVEL.c.warehouse_id)
    .limit(1)
    .scalar_subquery()
)
# Run on the DBAPI cursor (compiled once per dialect): it is one statement per SKU of every order.
_TAKE_WHOLE = DriverStatement(
    update(_LEVEL)
    .where(
        _LEVEL.c.id == _FIRST_FREE,
        _LEVEL.c.on_hand - _LEVEL.c.reserved >= bindparam("q"),
    )
    .values(reserved=_LEVEL.c.reserved + bindparam("q"))
    .returning(_LEVEL.c.id, _LEVEL.c.warehouse_id, _LEVEL.c.on_hand, _LEVEL.c.reserved)
)


# The same, for a row behind the lock order: skip it if another transaction holds it.
_TRY_TAKE = (
    update(_LEVEL)
    .where(
        _LEVEL.c.id
        == select(_LEVEL.c.id)
        .where(
            _LEVEL.c.id == bindparam("lid"),
            _LEVEL.c.on_hand - _LEVEL.c.reserved >= bindparam("q"),
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
        _LEVEL.c.on_hand - _LEVEL.c.reserved >= bindparam("q"),
    )
    .values(reserved=_LEVEL.c.reserved + bindparam("q"))
    .returning(_LEVEL.c.on_hand, _LEVEL.c.reserved)
)

# One multi-row INSERT on the DBAPI cursor; RETURNING is matched by (sku, warehouse), unique
# per ref. The ledger rows need nothing back: one `executemany`.
_RESERVATION_COLUMNS = [
    "ref_type",
    "ref_id",
    "sku_id",
    "warehouse_id",
    "quantity",
    "status",
    "expires_at",
    "created_at",
]
_INSERT_RESERVATIONS = DriverInsertMany(
    _RESERVATION, _RESERVATION_COLUMNS, ["id", "sku_id", "warehouse_id"]
)
_MOVEMENT_COLUMNS = [
    "sku_id",
    "warehouse_id",
    "reason",
    "on_hand_delta",
    "reserved_delta",
    "ref_type",
    "ref_id",
    "note",
    "created_at",
]
_INSERT_MOVEMENTS = DriverStatement(insert(_MOVEMENT), keys=_MOVEMENT_COLUMNS, rows=False)
_RESERVATION_MANAGER = inspect(Reservation).class_manager


def _sync_level(session: Session, level_id: int, on_hand: int, reserved: int) -> None:
    """A stock row the session already holds shows what the database now has (no SQL)."""
    held = session.identity_map.get(identity_key(StockLevel, level_id))
    if held is not None:
        set_committed_value(held, "on_hand", on_hand)
        set_committed_value(held, "reserved", reserved)


_PUT_BACK = (
    update(StockLevel)
    .where(StockLevel.id == bindparam("lid"))
    .values(reserved=StockLevel.reserved - bindparam("q"))
)


_SELL = (
    update(StockLevel)
    .where(StockLevel.sku_id == bindparam("s"), StockLevel.warehouse_id == bindparam("w"))
    .values(
        on_hand=StockLevel.on_hand - bindparam("q"), reserved=StockLevel.reserved - bindparam("q")
    )
    .returning(StockLevel.on_hand, StockLevel.reserved)
)


_UNRESERVE = (
    update(StockLevel)
    .where(StockLevel.sku_id == bindparam("s"), StockLevel.warehouse_id == bindparam("w"))
    .values(reserved=StockLevel.reserved - bindparam("q"))
    .returning(StockLevel.on_hand, StockLevel.reserved)
)


def _claim(status: ReservationStatus) -> Any:
    return (
        update(Reservation)
        .where(
            Reservation.ref_type == bindparam("rt"),
            Reservation.ref_id == bindparam("ri"),
            Reservation.status == ReservationStatus.ACTIVE.value,
        )
        .values(status=status.value)
        .returning(Reservation.sku_id, Reservation.warehouse_id, Reservation.quantity)
    )


_CLAIM_COMMIT = _claim(ReservationStatus.COMMITTED)


_CLAIM_RELEASE = _claim(ReservationStatus.RELEASED)


@dataclass
class _Taken:
    level: LevelView
    quantity: int
    on_hand: int
    reserved: int


def _read_levels(conn: Connection, sku_ids: Sequence[int]) -> list[LevelView]:
    rows = conn.execute(_LEVELS, {"sku_ids": list(sku_ids)})
    return [LevelView(r.id, r.sku_id, r.warehouse_id, r.priority, r.available) for r in rows]


def _put_back(session: Session, taken: dict[int, _Taken]) -> None:
    for level_id, t in sorted(taken.items(), key=lambda kv: kv[1].level.lock_key):
        session.execute(_PUT_BACK, {"lid": level_id, "q": t.quantity}, execution_options=SYNC)


def _out_of_stock(
    shortages: Sequence[Shortage],
    requested: dict[int, int],
    levels: Sequence[LevelView],
    taken: dict[int, _Taken],
) -> OutOfStock:
    report = []
    for s in shortages:
        mine = sum(t.quantity for t in taken.values() if t.level.sku_id == s.sku_id)
        free = sum(lv.available for lv in levels if lv.sku_id == s.sku_id)
        report.append(
            {"sku_id": s.sku_id, "requested": requested[s.sku_id], "available": free + mine}
        )
    first = report[0]
    return OutOfStock(
        f"SKU {first['sku_id']}: {first['requested']} requested, {first['available']} available",
        details={**first, "shortages": report},
    )


def reserve(
    session: Session,
    *,
    ref_type: str,
    ref_id: str,
    items: Sequence[tuple[int, int]],
    expires_at: dt.datetime,
) -> list[Reservation]:
    """Hold stock for `items` ((sku_id, quantity); duplicates are summed) until `expires_at`.

    All or nothing: either every line is reserved (split over warehouses by priority when one
    cannot fill it; one `Reservation` per SKU and warehouse) or `OutOfStock` is raised and
    nothing is held. Never oversells, whatever runs concurrently.
    """
    check_ref(ref_type, ref_id)
    if expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone", details={"field": "expires_at"})
    try:
        lines = merge_lines(items)
    except BadQuantity as exc:
        raise InvalidQuantity(
            str(exc), details={"sku_id": exc.sku_id, "quantity": exc.quantity}
        ) from exc
    if not lines:
        return []
    requested = dict(lines)
    needed = dict(lines)
    taken: dict[int, _Taken] = {}
    highest: tuple[int, int] | None = None  # the last lock key taken, in lock order
    levels: list[LevelView] = []
    conn = session.connection()
    # SKUs in lock order, each from one warehouse in one statement, until one does not fit.
    for sku_id, quantity in sorted(lines):
        took = _TAKE_WHOLE.execute(conn, {"sku": sku_id, "q": quantity})
        if not took:
            break
        level_id, warehouse_id, on_hand, reserved = took[0]
        _sync_level(session, level_id, on_hand, reserved)
        level = LevelView(level_id, sku_id, warehouse_id, 0, on_hand - reserved)
        taken[level_id] = _Taken(level, quantity, on_hand, reserved)
        needed[sku_id] = 0
        highest = level.lock_key
    if any(needed.values()):  # a line one warehouse cannot fill, or a lost race: plan it
        for _attempt in range(MAX_ATTEMPTS):
            levels = _read_levels(conn, [s for s, q in needed.items() if q > 0])
            plan = plan_reservation(needed, levels)
            if not plan.ok:
                _put_back(session, taken)
                raise _out_of_stock(plan.shortages, requested, levels, taken)
            lost = False
            for a in plan.allocations:
                key = a.level.lock_key
                # Wait for a row only in lock order (or one already held); else try without waiting.
                in_order = highest is None or key > highest or a.level.level_id in taken
                row = conn.execute(
                    _TAKE if in_order else _TRY_TAKE, {"lid": a.level.level_id, "q": a.quantity}
                ).first()
                if row is None:
                    lost = True
                    break
                _sync_level(session, a.level.level_id, row.on_hand, row.reserved)
                prior = taken.get(a.level.level_id)
                taken[a.level.level_id] = _Taken(
                    a.level,
                    a.quantity + (prior.quantity if prior else 0),
                    row.on_hand,
                    row.reserved,
                )
                needed[a.level.sku_id] -= a.quantity
                highest = key if highest is None else max(highest, key)
            if not lost:
                break
        else:
            _put_back(session, taken)
            short = [Shortage(s, q, 0) for s, q in needed.items() if q > 0]
            raise _out_of_stock(short, requested, levels, taken)

    at = now(session)
    held = sorted(taken.values(), key=lambda t: t.level.lock_key)
    rows = [
        {
            "ref_type": ref_type,
            "ref_id": ref_id,
            "sku_id": t.level.sku_id,
            "warehouse_id": t.level.warehouse_id,
            "quantity": t.quantity,
            "status": ReservationStatus.ACTIVE.value,
            "expires_at": expires_at,
            "created_at": at,
        }
        for t in held
    ]
    ids = {(s, w): i for i, s, w in _INSERT_RESERVATIONS.execute(conn, rows)}
    reservations = [
        _attach(session, {"id": ids[(row["sku_id"], row["warehouse_id"])], **row}) for row in rows
    ]
    reservations.sort(key=lambda r: (r.sku_id, r.warehouse_id))
    _INSERT_MOVEMENTS.executemany(
        conn,
        [
            movement_row(
                sku_id=t.level.sku_id,
                warehouse_id=t.level.warehouse_id,
                reason=MovementReason.RESERVATION,
                reserved_delta=t.quantity,
                ref_type=ref_type,
                ref_id=ref_id,
                at=at,
            )
            for t in held
        ],
    )
    for t in held:
        emit_change(
            session,
            sku_id=t.level.sku_id,
            warehouse_id=t.level.warehouse_id,
            reason=MovementReason.RESERVATION,
            on_hand_delta=0,
            reserved_delta=t.quantity,
            on_hand=t.on_hand,
            reserved=t.reserved,
            ref_type=ref_type,
            ref_id=ref_id,
            at=at,
        )
    return reservations


def _attach(session: Session, values: dict[str, Any]) -> Reservation:
    """A row just inserted with Core (every column given) becomes a persistent object of the
    session (no SQL), built without `__init__`: the values go straight into the instance's
    state as a load would put them, with no attribute event or history per column."""
    row: Reservation = _RESERVATION_MANAGER.new_instance()
    row.__dict__.update(values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def _settle(session: Session, *, ref_type: str, ref_id: str, sale: bool) -> None:
    check_ref(ref_type, ref_id)
    claimed = session.execute(
        _CLAIM_COMMIT if sale else _CLAIM_RELEASE,
        {"rt": ref_type, "ri": ref_id},
        execution_options=SYNC,
    ).all()
    if not claimed:
        return
    per_row: dict[tuple[int, int], int] = {}
    for r in claimed:
        key = (r.sku_id, r.warehouse_id)
        per_row[key] = per_row.get(key, 0) + r.quantity
    at = now(session)
    reason = MovementReason.SALE if sale else MovementReason.RELEASE
    moves = []
    for (sku_id, warehouse_id), q in sorted(per_row.items()):
        row = session.execute(
            _SELL if sale else _UNRESERVE,
            {"s": sku_id, "w": warehouse_id, "q": q},
            execution_options=SYNC,
        ).one()
        on_hand_delta = -q if sale else 0
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
        emit_change(
            session,
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            reason=reason,
            on_hand_delta=on_hand_delta,
            reserved_delta=-q,
            on_hand=row.on_hand,
            reserved=row.reserved,
            ref_type=ref_type,
            ref_id=ref_id,
            at=at,
        )
    session.execute(insert(StockMovement), moves)


def commit_reservations(session: Session, *, ref_type: str, ref_id: str) -> None:
    """The sale: active reservations of the ref leave stock (on_hand and reserved drop).

    Idempotent: reservations already committed or released are left alone, so a second call
    (a duplicate payment callback) is a no-op. An expired but still active reservation is
    committed: its units were still held.
    """
    _settle(session, ref_type=ref_type, ref_id=ref_id, sale=True)


def release_reservations(session: Session, *, ref_type: str, ref_id: str) -> None:
    """Give the ref's active reservations back to available stock (cancel, expiry).

    Idempotent like `commit_reservations`; committed reservations are never released.
    """
    _settle(session, ref_type=ref_type, ref_id=ref_id, sale=False)


def list_reservations(
    session: Session,
    *,
    ref_type: str | None = None,
    ref_id: str | None = None,
    sku_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Reservation]:
    filters = []
    if ref_type is not None:
        filters.append(Reservation.ref_type == ref_type)
    if ref_id is not None:
        filters.append(Reservation.ref_id == ref_id)
    if sku_id is not None:
        filters.append(Reservation.sku_id == sku_id)
    if status is not None:
        filters.append(Reservation.status == status)
    total = session.scalar(select(func.count()).select_from(Reservation).where(*filters)) or 0
    items = session.scalars(
        select(Reservation)
        .where(*filters)
        .order_by(Reservation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page(list(items), total, limit, offset)
