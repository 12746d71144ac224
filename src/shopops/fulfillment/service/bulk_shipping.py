"""Shipping in bulk: a warehouse wave, many paid orders handed to carriers at once.

`ship_orders` ships each parcel exactly as `ship_order` does (the same checks, fee, weight,
origin warehouse, first scan, order move and events, through the same rule functions), at the
parcel's own time, but set-based: one read each for the orders (locked), their lines,
existing shipments, reservations, SKU weights, carriers, rates and warehouses; one multi-row
INSERT each for shipments and first scans; the orders moved by `orders.moves_bulk`; events
by `emit_many`. A parcel the checks refuse is reported in its result and changes nothing; the
others still ship.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog_service
from shopops.db import DriverInsertMany
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.fulfillment import events, rules
from shopops.fulfillment.models import Carrier, Shipment, ShipmentDirection, TrackingEvent
from shopops.fulfillment.service import reference
from shopops.fulfillment.service.carriers import pick_terms
from shopops.fulfillment.service.rows import SHIPMENT_COLUMNS, SHIPMENT_TABLE, ShipmentRow
from shopops.fulfillment.service.shipping import (
    _province,
    _tracking_number,
    check_shippable,
    lines_weight,
    origin_warehouse,
    shipment_rows,
)
from shopops.inventory.models import Reservation, ReservationStatus
from shopops.orders import service as orders_service
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import OrderLine
from shopops.orders.rules import OrderAction
from shopops.orders.service.moves_bulk import OrderMoves

_EVENTS = TrackingEvent.__table__


def _ids() -> Any:
    return bindparam("ids", expanding=True)


# Built once with bound values: building and keying the wave's statements per wave (the IN
# lists above all) cost more than their SQL.
_LINES = (
    select(OrderLine.order_id, OrderLine.sku_id, OrderLine.quantity, OrderLine.refunded_quantity)
    .where(OrderLine.order_id.in_(_ids()))
    .order_by(OrderLine.id)
)
_SHIPPED = select(Shipment.order_id, Shipment.id).where(
    Shipment.order_id.in_(_ids()), Shipment.direction == ShipmentDirection.FORWARD
)
_HELD = select(Reservation.ref_id, Reservation.warehouse_id, Reservation.quantity).where(
    Reservation.ref_type == orders_service.RESERVATION_REF,
    Reservation.ref_id.in_(_ids()),
    Reservation.status != ReservationStatus.RELEASED,
)
_TAKEN = select(Shipment.tracking_number).where(Shipment.tracking_number.in_(_ids()))
# The wave's rows in multi-row INSERTs on the driver's cursor (shopops.db): Core's per-row
# parameter processing cost more than the SQL. Every column is given (no Python defaults).
_SHIPMENT_COLUMNS = [c for c in SHIPMENT_COLUMNS if c not in ("id", "delivered_at")]
_INSERT_SHIPMENTS = DriverInsertMany(SHIPMENT_TABLE, _SHIPMENT_COLUMNS, ["tracking_number", "id"])
_SCAN_COLUMNS = ["shipment_id", "status", "location", "description", "occurred_at"]
_INSERT_SCANS = DriverInsertMany(_EVENTS, _SCAN_COLUMNS, ["id"])
_CHUNK = 200  # rows a statement (12 parameters each: well under SQLite's limit)


@dataclass(frozen=True, slots=True)
class Parcel:
    order_id: int
    carrier_code: str
    at: dt.datetime  # when it leaves the warehouse (timezone-aware)


def ship_orders(session: Session, *, parcels: Sequence[Parcel]) -> list[ShipmentRow | ShopOpsError]:
    """Ship `parcels` in the given order; per parcel, its shipment (a `ShipmentRow`) or the
    error that refused it (as `ship_order` would: order_not_found, order_not_shippable,
    order_already_shipped, unknown_carrier, carrier_inactive, no_carrier_rate). The session's
    clock is untouched. Several parcels of one order: the first ships, the rest are refused."""
    for parcel in parcels:
        if parcel.at.tzinfo is None:
            raise ValueError("a parcel's time needs a timezone-aware datetime")
    ids = sorted({p.order_id for p in parcels})
    if not ids:
        return []
    # Locks the wave's orders in id order (two waves cannot deadlock) and reads them.
    moves = OrderMoves(session, ids)
    orders = moves.states
    lines: dict[int, list[Any]] = {}
    for line in session.execute(_LINES, {"ids": ids}):
        lines.setdefault(line.order_id, []).append(line)
    shipped: dict[int, int] = dict(session.execute(_SHIPPED, {"ids": ids}).all())
    held = _held_units(session, ids)
    warehouses = reference.warehouses(session)
    skus = catalog_service.get_sellable_skus(
        session, sku_ids=[line.sku_id for rows in lines.values() for line in rows]
    )
    # Carriers, rates and warehouses as kept in the session (read once a unit of work).
    carriers = reference.active_carriers(session, {p.carrier_code for p in parcels})
    tables = reference.rate_tables(
        session, {c.id for c in carriers.values() if isinstance(c, Carrier)}
    )
    numbers = _free_numbers(session, parcels)
    out: list[ShipmentRow | ShopOpsError] = []
    new: list[tuple[int, Carrier, str, dict[str, Any], dict[str, Any]]] = []
    for parcel, number in zip(parcels, numbers, strict=True):
        try:
            order = orders.get(parcel.order_id)
            if order is None:
                raise OrderNotFound("no such order", details={"order_id": parcel.order_id})
            carrier = carriers[parcel.carrier_code]
            if isinstance(carrier, ShopOpsError):
                raise carrier
            check_shippable(order, shipped.get(order.id))
            terms = pick_terms(tables.get(carrier.id, {}), carrier, _province(order))
        except ShopOpsError as exc:
            out.append(exc)
            continue
        weight = lines_weight(lines.get(order.id, ()), skus, net_of_refunds=True)
        values, first = shipment_rows(
            order=order,
            carrier=carrier,
            direction=ShipmentDirection.FORWARD,
            tracking_number=number or _tracking_number(session, carrier, None),
            weight_grams=weight,
            warehouse=origin_warehouse(held.get(str(order.id), {}), warehouses),
            quote=rules.quote(terms, weight),
            at=parcel.at,
        )
        moves.move(order.id, OrderAction.SHIP, parcel.at)
        shipped[order.id] = 0  # a later parcel of this order is refused as the single path does
        new.append((len(out), carrier, order.number, values, first))
        out.append(None)  # type: ignore[arg-type]  # filled once the rows have ids
    if not new:
        return out
    conn = session.connection()
    # Matched by the unique tracking number (RETURNING promises no order).
    by_number: dict[str, int] = {}
    for chunk in _chunks([values for _, _, _, values, _ in new]):
        by_number.update(_INSERT_SHIPMENTS.execute(conn, chunk))
    new_ids = [by_number[values["tracking_number"]] for _, _, _, values, _ in new]
    created: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    scans: list[dict[str, Any]] = []
    for (slot, carrier, order_number, values, first), shipment_id in zip(new, new_ids, strict=True):
        row = ShipmentRow(id=shipment_id, delivered_at=None, carrier=carrier, **values)
        out[slot] = row
        scans.append({**first, "shipment_id": shipment_id})
        payload = events.created_payload(row, order_number=order_number)  # type: ignore[arg-type]
        created.append((events.AGGREGATE, shipment_id, payload, row.shipped_at))
    for chunk in _chunks(scans):
        _INSERT_SCANS.execute(conn, chunk)
    moves.write()
    emit_many(session, events.SHIPMENT_CREATED, created)
    return out


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK)]


def _held_units(session: Session, order_ids: list[int]) -> dict[str, dict[int, int]]:
    """Per order (ref id), units per warehouse of its reservations not released."""
    rows = session.execute(_HELD, {"ids": [str(i) for i in order_ids]})
    out: dict[str, dict[int, int]] = {}
    for ref_id, warehouse_id, quantity in rows:
        units = out.setdefault(ref_id, {})
        units[warehouse_id] = units.get(warehouse_id, 0) + quantity
    return out


def _free_numbers(session: Session, parcels: Sequence[Parcel]) -> list[str | None]:
    """A fresh tracking number per parcel in its carrier's format, checked free in one query
    (None where taken: that parcel draws again alone)."""
    drawn = []
    for parcel in parcels:
        _, digits = rules.tracking_format(parcel.carrier_code)
        drawn.append(
            rules.format_tracking_number(parcel.carrier_code, secrets.randbelow(10**digits))
        )
    taken = set(session.scalars(_TAKEN, {"ids": drawn}))
    seen: set[str] = set()
    out: list[str | None] = []
    for number in drawn:
        out.append(None if number in taken or number in seen else number)
        seen.add(number)
    return out
