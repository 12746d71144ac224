"""Carrier scans along the tracking state machine, shipment reads and the carrier scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from shopops.db import now
from shopops.events import emit
from shopops.fulfillment import events, rules
from shopops.fulfillment.errors import (
    IllegalTrackingTransition,
    InvalidWindow,
    OrderNotVisible,
    ShipmentNotFound,
    UnknownTrackingStatus,
)
from shopops.fulfillment.models import (
    Carrier,
    Shipment,
    ShipmentDirection,
    TrackingEvent,
)
from shopops.fulfillment.rules import TrackingStatus, TrackingStep
from shopops.orders import service as orders_service
from shopops.orders.rules import IllegalOrderTransition, OrderAction, next_status

DEFAULT_SCORECARD_DAYS = 30


def get_shipment(session: Session, *, shipment_id: int, for_update: bool = False) -> Shipment:
    stmt = select(Shipment).where(Shipment.id == shipment_id)
    if for_update:
        # Re-read under the lock, even if this session loaded the row before.
        stmt = stmt.with_for_update(of=Shipment).execution_options(populate_existing=True)
    shipment = session.scalar(stmt)
    if shipment is None:
        raise ShipmentNotFound(f"no shipment {shipment_id}", details={"shipment_id": shipment_id})
    return shipment


def record_tracking_event(
    session: Session,
    *,
    shipment_id: int,
    status: str,
    location: str = "",
    description: str = "",
) -> TrackingEvent:
    """Record a carrier scan and move the shipment along the tracking state machine.

    A scan repeating the current status is recorded only if it says something new (another
    location or text); an identical repeat returns the latest event and changes nothing.
    Delivery stamps `delivered_at`, marks a forward order delivered and emits
    `shipment.delivered`; an exception emits `shipment.exception`.
    409 `illegal_tracking_transition`; 422 `unknown_tracking_status`.
    """
    new = parse_status(status)
    # Row lock: two webhooks for one parcel apply one after the other.
    shipment = get_shipment(session, shipment_id=shipment_id, for_update=True)
    event = apply_scan(session, shipment, new, location, description)
    session.flush()
    return event


def parse_status(status: str) -> TrackingStatus:
    try:
        return TrackingStatus(status)
    except ValueError as exc:
        raise UnknownTrackingStatus(
            f"unknown tracking status {status!r}",
            details={"status": status, "allowed": [s.value for s in TrackingStatus]},
        ) from exc


def check_scan(shipment: Any, new: TrackingStatus) -> TrackingStep:
    """Where the scan takes the parcel (`shipment`: a Shipment or a bulk row), or 409
    `illegal_tracking_transition` naming the moves allowed."""
    current = shipment.status
    try:
        return rules.tracking_step(current, new)
    except rules.IllegalTrackingMove as exc:
        raise IllegalTrackingTransition(
            f"shipment {shipment.tracking_number} is {current} and cannot become {new}",
            details={
                "shipment_id": shipment.id,
                "current": current,
                "requested": new.value,
                "allowed": sorted(s.value for s in rules.allowed_next(current)),
            },
        ) from exc


def scan_text(new: TrackingStatus, description: str) -> str:
    """The scan's text: the carrier's own, else the status's label."""
    return description or rules.STATUS_LABELS[new]


def is_silent_repeat(
    new: TrackingStatus, last: TrackingEvent | Any | None, location: str, text: str
) -> bool:
    """A repeat that records nothing (the last event stands): a second delivery, or the same
    place and text again."""
    return last is not None and (
        new is TrackingStatus.DELIVERED or (last.location == location and last.description == text)
    )


def advance(shipment: Any, new: TrackingStatus, at: dt.datetime) -> str:
    """Move the parcel (a Shipment or a bulk row) to `new` at `at`; its previous status."""
    previous = shipment.status
    shipment.status = new
    if new is TrackingStatus.EXCEPTION:
        shipment.exception_count += 1
    elif new is TrackingStatus.DELIVERED:
        shipment.delivered_at = at
    return str(previous)


def apply_scan(
    session: Session, shipment: Shipment, new: TrackingStatus, location: str, description: str
) -> TrackingEvent:
    """One scan on a locked shipment at the session's clock (not flushed): the state machine
    check, the event, and the moves it causes. Refuses before changing anything."""
    step = check_scan(shipment, new)
    text = scan_text(new, description)
    if step is TrackingStep.REPEAT:
        last = shipment.events[-1] if shipment.events else None
        if is_silent_repeat(new, last, location, text):
            assert last is not None
            return last
    at = now(session)
    event = TrackingEvent(status=new, location=location, description=text, occurred_at=at)
    if "events" in inspect(shipment).unloaded:
        # Not loaded: add the row without reading the parcel's whole history first.
        event.shipment_id = shipment.id
        session.add(event)
    else:
        shipment.events.append(event)
    if step is TrackingStep.ADVANCE:
        _advance(session, shipment, new, event)
    return event


def _advance(
    session: Session, shipment: Shipment, new: TrackingStatus, event: TrackingEvent
) -> None:
    previous = advance(shipment, new, event.occurred_at)
    if new is TrackingStatus.EXCEPTION:
        emit(
            session,
            events.SHIPMENT_EXCEPTION,
            aggregate_type=events.AGGREGATE,
            aggregate_id=shipment.id,
            payload=events.exception_payload(
                shipment,
                previous_status=previous,
                location=event.location,
                description=event.description,
                at=event.occurred_at,
            ),
        )
    elif new is TrackingStatus.DELIVERED:
        if shipment.direction == ShipmentDirection.FORWARD:
            _deliver_order(session, shipment.order_id)
        emit(
            session,
            events.SHIPMENT_DELIVERED,
            aggregate_type=events.AGGREGATE,
            aggregate_id=shipment.id,
            payload=events.delivered_payload(shipment),
        )


def _deliver_order(session: Session, order_id: int) -> None:
    """Mark the order delivered when its state allows; a parcel arriving while a refund is
    pending is still delivered, the order keeps its refund state."""
    order = orders_service.get_order(session, order_id=order_id, for_update=True)
    try:
        next_status(order.status, OrderAction.DELIVER)
    except IllegalOrderTransition:
        return
    orders_service.mark_delivered(session, order_id=order_id)


def list_shipments(
    session: Session,
    *,
    status: str | None = None,
    carrier_code: str | None = None,
    direction: str | None = None,
    order_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Shipment]:
    """Newest first, filtered; the carrier comes joined, events are not loaded."""
    stmt = select(Shipment)
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    if carrier_code is not None:
        stmt = stmt.where(Shipment.carrier.has(Carrier.code == carrier_code))
    if direction is not None:
        stmt = stmt.where(Shipment.direction == direction)
    if order_id is not None:
        stmt = stmt.where(Shipment.order_id == order_id)
    stmt = stmt.order_by(Shipment.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def shipments_for_order(session: Session, *, order_id: int) -> list[Shipment]:
    """The order's shipments (forward and return) in creation order, with their events."""
    stmt = (
        select(Shipment)
        .where(Shipment.order_id == order_id)
        .options(selectinload(Shipment.events))
        .order_by(Shipment.id)
    )
    return list(session.scalars(stmt))


def track_order(
    session: Session, *, order_number: str, customer_id: int | None = None
) -> list[Shipment]:
    """Shipments of the order with their scans, oldest first.

    With `customer_id` (a shopper asking), another customer's order is 404 like a missing one.
    """
    order = orders_service.get_order_by_number(session, number=order_number)
    if customer_id is not None and order.customer_id != customer_id:
        raise OrderNotVisible(f"no order {order_number}", details={"order_number": order_number})
    return shipments_for_order(session, order_id=order.id)


# --- scorecard -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scorecard:
    since: dt.datetime
    until: dt.datetime
    carriers: list[rules.CarrierScore]


def carrier_scorecard(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> Scorecard:
    """Per carrier, over forward shipments shipped in [since, until): volume, deliveries,
    on-time rate against each parcel's promise, mean delivery hours, mean fee, exceptions.

    Defaults to the last 30 days up to now.
    """
    until = until or now(session)
    since = since or until - dt.timedelta(days=DEFAULT_SCORECARD_DAYS)
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise InvalidWindow(
            "since and until must be timezone-aware and since before until",
            details={"since": since.isoformat(), "until": until.isoformat()},
        )
    rows = session.execute(
        select(
            Carrier.code,
            Shipment.fee,
            Shipment.promised_hours,
            Shipment.shipped_at,
            Shipment.delivered_at,
            Shipment.exception_count,
        )
        .join(Carrier, Carrier.id == Shipment.carrier_id)
        .where(
            Shipment.direction == ShipmentDirection.FORWARD,
            Shipment.shipped_at >= since,
            Shipment.shipped_at < until,
        )
    )
    facts: Iterable[rules.ShipmentFacts] = (rules.ShipmentFacts(*row) for row in rows)
    return Scorecard(since=since, until=until, carriers=rules.scorecard(facts))
