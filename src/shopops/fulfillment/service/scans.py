"""Carrier scans in bulk: a carrier's scan feed, or a sorting centre scanning many parcels.

`record_scans` applies each scan exactly as `record_tracking_event` does (same state machine,
same events, same order moves), at the scan's own time, but locks every parcel of the feed in
one query and writes the rows in one flush. A scan the state machine refuses is reported in
its result and changes nothing; the others still apply (a carrier feed is not all-or-nothing).
Any other error (one the order's move raises) propagates, as from `record_tracking_event`:
the caller's unit of work is then undone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.fulfillment.errors import (
    IllegalTrackingTransition,
    ShipmentNotFound,
    UnknownTrackingStatus,
)
from shopops.fulfillment.models import Shipment, TrackingEvent
from shopops.fulfillment.service.tracking import apply_scan, parse_status

Refused = UnknownTrackingStatus | ShipmentNotFound | IllegalTrackingTransition


@dataclass(frozen=True, slots=True)
class Scan:
    shipment_id: int
    status: str
    at: dt.datetime  # when the carrier scanned it (timezone-aware)
    location: str = ""
    description: str = ""


def record_scans(session: Session, *, scans: Sequence[Scan]) -> list[TrackingEvent | Refused]:
    """Apply `scans` in the given order (a parcel's scans in time order); per scan, the event
    recorded or the error that refused it (unknown status, no such shipment, an illegal move).
    The session's clock is back where it was afterwards."""
    for scan in scans:
        if scan.at.tzinfo is None:
            raise ValueError("a scan time needs a timezone-aware datetime")
    ids = sorted({scan.shipment_id for scan in scans})
    # One lock for the feed's parcels; ids in order, so two feeds cannot deadlock.
    stmt = (
        select(Shipment)
        .where(Shipment.id.in_(ids))
        .order_by(Shipment.id)
        .with_for_update(of=Shipment)
        .execution_options(populate_existing=True)
    )
    found = {shipment.id: shipment for shipment in session.scalars(stmt)} if ids else {}
    clock = session.info.get("now")
    out: list[TrackingEvent | Refused] = []
    try:
        for scan in scans:
            shipment = found.get(scan.shipment_id)
            try:
                new = parse_status(scan.status)
                if shipment is None:
                    raise ShipmentNotFound(
                        f"no shipment {scan.shipment_id}",
                        details={"shipment_id": scan.shipment_id},
                    )
                set_clock(session, scan.at)
                out.append(apply_scan(session, shipment, new, scan.location, scan.description))
            except (UnknownTrackingStatus, ShipmentNotFound, IllegalTrackingTransition) as exc:
                out.append(exc)
        session.flush()
    finally:
        session.info["now"] = clock
    return out


__all__ = ["Refused", "Scan", "record_scans"]
