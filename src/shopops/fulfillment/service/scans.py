"""Carrier scans in bulk: a carrier's scan feed, or a sorting centre scanning many parcels.

`record_scans` applies each scan exactly as `record_tracking_event` does (the same state
machine check, text, repeat rule, moves and events, through the same functions), at the
scan's own time, but set-based: the feed's parcels are locked and read in one query, the
scans written in one multi-row INSERT, the parcels in one UPDATE, delivered orders moved by
`orders.moves_bulk`, events by `emit_many`. A scan the state machine refuses is reported in
its result and changes nothing; the others still apply (a carrier feed is not all-or-nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from shopops.db import DriverInsertMany, DriverStatement
from shopops.events import emit_many
from shopops.fulfillment import events
from shopops.fulfillment.errors import (
    IllegalTrackingTransition,
    ShipmentNotFound,
    UnknownTrackingStatus,
)
from shopops.fulfillment.models import Shipment, ShipmentDirection, TrackingEvent
from shopops.fulfillment.rules import TrackingStatus, TrackingStep
from shopops.fulfillment.service import reference
from shopops.fulfillment.service.rows import SHIPMENT_COLUMNS, SHIPMENT_TABLE, ScanRow, ShipmentRow
from shopops.fulfillment.service.tracking import (
    advance,
    check_scan,
    is_silent_repeat,
    parse_status,
    scan_text,
)
from shopops.orders.errors import OrderTransitionRefused
from shopops.orders.rules import OrderAction
from shopops.orders.service.moves_bulk import OrderMoves, expire_loaded

Refused = UnknownTrackingStatus | ShipmentNotFound | IllegalTrackingTransition
Item = tuple[str, int | str, dict[str, Any], dt.datetime | None]
_EVENTS = TrackingEvent.__table__
_E = _EVENTS.c
_S = SHIPMENT_TABLE.c
# Built once with bound values: building and keying a feed's statements per feed cost more
# than their SQL.
_LOCK = (
    select(*(_S[name] for name in SHIPMENT_COLUMNS))
    .where(_S.id.in_(bindparam("ids", expanding=True)))
    .order_by(_S.id)
    .with_for_update()
)
_LAST = (
    select(_E.id, _E.shipment_id, _E.status, _E.location, _E.description, _E.occurred_at)
    .where(_E.shipment_id == bindparam("sid"))
    .order_by(_E.occurred_at.desc(), _E.id.desc())
    .limit(1)
)
# The feed's writes on the driver's cursor (shopops.db): SQLAlchemy's per-row parameter and
# result work cost more than the SQL itself.
_SCAN_COLUMNS = ["shipment_id", "status", "location", "description", "occurred_at"]
_INSERT = DriverInsertMany(_EVENTS, _SCAN_COLUMNS, ["id", *_SCAN_COLUMNS])
_CHUNK = 400  # rows a statement (5 parameters each: well under SQLite's limit)
_ADVANCE = DriverStatement(
    update(SHIPMENT_TABLE)
    .where(_S.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        exception_count=bindparam("b_exceptions"),
        delivered_at=bindparam("b_delivered_at"),
    ),
    rows=False,
)


def _stored_time(dialect: Any) -> Callable[[Any], Any]:
    """The stored form of a scan time on `dialect` (what the INSERT binds and returns)."""
    process = _E.occurred_at.type._cached_bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Scan:
    shipment_id: int
    status: str
    at: dt.datetime  # when the carrier scanned it (timezone-aware)
    location: str = ""
    description: str = ""


def record_scans(session: Session, *, scans: Sequence[Scan]) -> list[ScanRow | Refused]:
    """Apply `scans` in the given order (a parcel's scans in time order); per scan, the event
    recorded (a `ScanRow`; a silent repeat returns the parcel's last event) or the error that
    refused it (unknown status, no such shipment, an illegal move). The session's clock is
    untouched."""
    for scan in scans:
        if scan.at.tzinfo is None:
            raise ValueError("a scan time needs a timezone-aware datetime")
    parcels = _lock(session, sorted({scan.shipment_id for scan in scans}))
    # Only the orders a delivery scan may move are locked (as the single path locks them).
    moves = OrderMoves(
        session,
        {
            parcels[s.shipment_id].order_id
            for s in scans
            if s.status == TrackingStatus.DELIVERED
            and s.shipment_id in parcels
            and parcels[s.shipment_id].direction == ShipmentDirection.FORWARD
        },
    )
    stored: dict[int, ScanRow | None] = {}
    fresh: dict[int, list[ScanRow]] = {}
    new: list[ScanRow] = []
    changed: dict[int, ShipmentRow] = {}
    exceptions: list[Item] = []
    delivered: list[Item] = []
    out: list[ScanRow | Refused] = []
    for scan in scans:
        try:
            status = parse_status(scan.status)
            parcel = parcels.get(scan.shipment_id)
            if parcel is None:
                raise ShipmentNotFound(
                    f"no shipment {scan.shipment_id}", details={"shipment_id": scan.shipment_id}
                )
            step = check_scan(parcel, status)
        except (UnknownTrackingStatus, ShipmentNotFound, IllegalTrackingTransition) as exc:
            out.append(exc)
            continue
        text = scan_text(status, scan.description)
        if step is TrackingStep.REPEAT:
            latest = _latest(session, parcel.id, stored, fresh.get(parcel.id, []))
            if is_silent_repeat(status, latest, scan.location, text):
                assert latest is not None
                out.append(latest)
                continue
        row = ScanRow(0, parcel.id, status, scan.location, text, scan.at)
        fresh.setdefault(parcel.id, []).append(row)
        new.append(row)
        out.append(row)
        if step is not TrackingStep.ADVANCE:
            continue
        previous = advance(parcel, status, scan.at)
        changed[parcel.id] = parcel
        if status is TrackingStatus.EXCEPTION:
            payload = events.exception_payload(
                parcel,  # type: ignore[arg-type]  # a Shipment-like row
                previous_status=previous,
                location=row.location,
                description=row.description,
                at=scan.at,
            )
            exceptions.append((events.AGGREGATE, parcel.id, payload, scan.at))
        elif status is TrackingStatus.DELIVERED:
            if parcel.direction == ShipmentDirection.FORWARD:
                # A refund pending: the parcel is delivered, the order keeps its state.
                with suppress(OrderTransitionRefused):
                    moves.move(parcel.order_id, OrderAction.DELIVER, scan.at)
            payload = events.delivered_payload(parcel)  # type: ignore[arg-type]
            delivered.append((events.AGGREGATE, parcel.id, payload, scan.at))
    _write(session, new, changed)
    moves.write()
    emit_many(session, events.SHIPMENT_EXCEPTION, exceptions)
    emit_many(session, events.SHIPMENT_DELIVERED, delivered)
    return out


def _lock(session: Session, ids: list[int]) -> dict[int, ShipmentRow]:
    """The feed's parcels, locked in id order (two feeds cannot deadlock), with carriers."""
    if not ids:
        return {}
    session.flush()  # pending ORM changes first: the UPDATE below must not be overwritten
    rows = session.execute(_LOCK, {"ids": ids}).all()
    # The carriers as kept in the session (read once a unit of work: service/reference).
    carriers = reference.carriers_by_id(session, {r.carrier_id for r in rows})
    return {r.id: ShipmentRow(*r, carrier=carriers[r.carrier_id]) for r in rows}


def _latest(
    session: Session, shipment_id: int, stored: dict[int, ScanRow | None], fresh: list[ScanRow]
) -> ScanRow | None:
    """The parcel's latest event as its history orders them (by time, then id): the stored
    one, read only when a repeated status needs it, or one of this feed's."""
    if shipment_id not in stored:
        stored[shipment_id] = _last_stored(session, shipment_id)
    first = stored[shipment_id]
    candidates = ([first] if first is not None else []) + fresh
    if not candidates:
        return None
    return max(enumerate(candidates), key=lambda ic: (ic[1].occurred_at, ic[0]))[1]


def _last_stored(session: Session, shipment_id: int) -> ScanRow | None:
    row = session.execute(_LAST, {"sid": shipment_id}).first()
    return ScanRow(*row) if row is not None else None


def _write(session: Session, new: list[ScanRow], changed: dict[int, ShipmentRow]) -> None:
    conn = session.connection()
    if new:
        _insert_scans(conn, new)
    if changed:
        _ADVANCE.executemany(
            conn,
            [
                {
                    "b_id": p.id,
                    "b_status": str(p.status),
                    "b_exceptions": p.exception_count,
                    "b_delivered_at": p.delivered_at,
                }
                for p in changed.values()
            ],
        )
    # Loaded parcels are stale now (status, history): the next read fetches them again.
    expire_loaded(session, Shipment, {r.shipment_id for r in new} | set(changed))


def _insert_scans(conn: Connection, new: list[ScanRow]) -> None:
    """The scans in multi-row INSERTs on the driver's cursor; ids matched back by content
    (rows alike in every column are interchangeable, so any pairing among them is right)."""
    at = _stored_time(conn.dialect)
    for i in range(0, len(new), _CHUNK):
        chunk = new[i : i + _CHUNK]
        values = [
            {
                "shipment_id": r.shipment_id,
                "status": str(r.status),
                "location": r.location,
                "description": r.description,
                "occurred_at": r.occurred_at,
            }
            for r in chunk
        ]
        ids: dict[tuple[Any, ...], list[int]] = {}
        # The stored form of each column comes back (SQLite: the time's text, as bound).
        for ident, *key in sorted(_INSERT.execute(conn, values), key=lambda r: r[0]):
            ids.setdefault(tuple(key), []).append(ident)
        for row, v in zip(chunk, values, strict=True):
            key = (
                row.shipment_id,
                v["status"],
                row.location,
                row.description,
                at(v["occurred_at"]),
            )
            row.id = ids[key].pop(0)


__all__ = ["Refused", "Scan", "record_scans"]
