"""Shipping in bulk: a warehouse wave, many paid orders handed to carriers at once.

`ship_orders` ships each parcel exactly as `ship_order` does (same checks, fee, weight, origin
warehouse, first scan, order move and events), at the parcel's own time, but reads what the
wave needs — the orders, their lines, existing shipments, reservations, SKU weights,
carriers, rates and warehouses — in a few queries for all of them. A parcel the checks refuse
is reported in its result and changes nothing; the others still ship.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopops.catalog import service as catalog_service
from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.events import emit
from shopops.fulfillment import events, rules
from shopops.fulfillment.models import Carrier, Shipment, ShipmentDirection
from shopops.fulfillment.service.carriers import rate_terms, require_active_carrier
from shopops.fulfillment.service.shipping import (
    _new_shipment,
    _province,
    _tracking_number,
    check_shippable,
    order_weight,
)
from shopops.inventory import service as inventory_service
from shopops.inventory.models import Reservation, ReservationStatus, Warehouse
from shopops.orders import service as orders_service
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order


@dataclass(frozen=True, slots=True)
class Parcel:
    order_id: int
    carrier_code: str
    at: dt.datetime  # when it leaves the warehouse (timezone-aware)


def ship_orders(session: Session, *, parcels: Sequence[Parcel]) -> list[Shipment | ShopOpsError]:
    """Ship `parcels` in the given order; per parcel, its shipment or the error that refused
    it (as `ship_order` would: order_not_found, order_not_shippable, order_already_shipped,
    unknown_carrier, carrier_inactive, no_carrier_rate). The session's clock is left as it
    was. An error past the checks (the order's move) propagates: the unit of work is undone."""
    for parcel in parcels:
        if parcel.at.tzinfo is None:
            raise ValueError("a parcel's time needs a timezone-aware datetime")
    ids = sorted({p.order_id for p in parcels})
    if not ids:
        return []
    # Lock the wave's orders in id order (two waves cannot deadlock), re-read under the lock.
    found = {
        o.id: o
        for o in session.scalars(
            select(Order)
            .where(Order.id.in_(ids))
            .order_by(Order.id)
            .options(selectinload(Order.lines))
            .with_for_update(of=Order)
            .execution_options(populate_existing=True)
        )
    }
    shipped: dict[int, int] = dict(
        session.execute(
            select(Shipment.order_id, Shipment.id).where(
                Shipment.order_id.in_(ids), Shipment.direction == ShipmentDirection.FORWARD
            )
        ).all()
    )
    held = _held_units(session, ids)
    warehouses = inventory_service.list_warehouses(session)
    skus = catalog_service.get_sellable_skus(
        session, sku_ids=[line.sku_id for o in found.values() for line in o.lines]
    )
    carriers: dict[str, Carrier | ShopOpsError] = {}
    terms: dict[tuple[int, str], rules.RateTerms | ShopOpsError] = {}
    numbers = _free_numbers(session, parcels, found)
    clock = session.info.get("now")
    out: list[Shipment | ShopOpsError] = []
    try:
        for parcel, number in zip(parcels, numbers, strict=True):
            try:
                order = found.get(parcel.order_id)
                if order is None:
                    raise OrderNotFound("no such order", details={"order_id": parcel.order_id})
                carrier = _cached(
                    carriers,
                    parcel.carrier_code,
                    require_active_carrier,
                    session,
                    parcel.carrier_code,
                )
                check_shippable(order, shipped.get(order.id))
                region = rules.normalize_province(_province(order))
                rate = _cached(terms, (carrier.id, region), _terms, session, carrier, order)
            except ShopOpsError as exc:
                out.append(exc)
                continue
            weight = order_weight(order, skus, net_of_refunds=True)
            set_clock(session, parcel.at)
            shipment = _new_shipment(
                session,
                order=order,
                carrier=carrier,
                direction=ShipmentDirection.FORWARD,
                tracking_number=number or _tracking_number(session, carrier, None),
                weight_grams=weight,
                warehouse=_origin(held.get(str(order.id), {}), warehouses),
                quote=rules.quote(rate, weight),
            )
            shipped[order.id] = shipment.id
            orders_service.mark_shipped(session, order_id=order.id)
            emit(
                session,
                events.SHIPMENT_CREATED,
                aggregate_type=events.AGGREGATE,
                aggregate_id=shipment.id,
                payload=events.created_payload(shipment, order_number=order.number),
            )
            out.append(shipment)
    finally:
        session.info["now"] = clock
    return out


def _cached(cache: dict[Any, Any], key: Any, load: Callable[..., Any], *args: Any) -> Any:
    """A per-wave lookup; a refusal is remembered and raised again for the next parcel."""
    if key not in cache:
        try:
            cache[key] = load(*args)
        except ShopOpsError as exc:
            cache[key] = exc
    value = cache[key]
    if isinstance(value, ShopOpsError):
        raise value
    return value


def _terms(session: Session, carrier: Carrier, order: Order) -> rules.RateTerms:
    return rate_terms(session, carrier, _province(order))


def _held_units(session: Session, order_ids: list[int]) -> dict[str, dict[int, int]]:
    """Per order (ref id), units per warehouse of its reservations not released."""
    rows = session.execute(
        select(Reservation.ref_id, Reservation.warehouse_id, Reservation.quantity).where(
            Reservation.ref_type == orders_service.RESERVATION_REF,
            Reservation.ref_id.in_([str(i) for i in order_ids]),
            Reservation.status != ReservationStatus.RELEASED,
        )
    )
    out: dict[str, dict[int, int]] = {}
    for ref_id, warehouse_id, quantity in rows:
        units = out.setdefault(ref_id, {})
        units[warehouse_id] = units.get(warehouse_id, 0) + quantity
    return out


def _origin(units: dict[int, int], warehouses: list[Warehouse]) -> Warehouse | None:
    """As `shipping._origin_warehouse`: most units, else the first active warehouse."""
    by_id = {w.id: w for w in warehouses}
    if units:
        best = max(units, key=lambda wid: (units[wid], -wid))
        if best in by_id:
            return by_id[best]
    return next((w for w in warehouses if w.active), None)


def _free_numbers(
    session: Session, parcels: Sequence[Parcel], found: dict[int, Order]
) -> list[str | None]:
    """A fresh tracking number per parcel in its carrier's format, checked free in one query
    (None where taken: that parcel draws again alone)."""
    drawn = []
    for parcel in parcels:
        _, digits = rules.tracking_format(parcel.carrier_code)
        drawn.append(
            rules.format_tracking_number(parcel.carrier_code, secrets.randbelow(10**digits))
        )
    taken = set(
        session.scalars(select(Shipment.tracking_number).where(Shipment.tracking_number.in_(drawn)))
    )
    seen: set[str] = set()
    out: list[str | None] = []
    for number in drawn:
        out.append(None if number in taken or number in seen else number)
        seen.add(number)
    return out
