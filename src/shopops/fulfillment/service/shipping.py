"""Shipping: a paid order handed to a carrier, and return parcels for after-sales."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog_service
from shopops.db import now
from shopops.events import emit
from shopops.fulfillment import events, rules
from shopops.fulfillment.errors import (
    DuplicateTrackingNumber,
    InvalidTrackingNumber,
    InvalidWeight,
    OrderAlreadyShipped,
    OrderNotShippable,
)
from shopops.fulfillment.models import (
    Carrier,
    Shipment,
    ShipmentDirection,
    ShipmentStatus,
    TrackingEvent,
)
from shopops.fulfillment.rules import TrackingStatus
from shopops.fulfillment.service.carriers import price_parcel, require_active_carrier
from shopops.inventory import service as inventory_service
from shopops.inventory.models import ReservationStatus, Warehouse
from shopops.orders import service as orders_service
from shopops.orders.models import Order
from shopops.orders.rules import IllegalOrderTransition, OrderAction, OrderStatus, next_status

# Orders past these statuses already left the warehouse.
_SHIPPED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})
# Orders that never were paid cannot send anything back either.
_NEVER_PAID = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED})


def _tracking_number(session: Session, carrier: Carrier, given: str | None) -> str:
    """The given number (checked and unique), or a fresh one in the carrier's format."""
    if given is not None:
        number = given.strip()
        if not rules.is_valid_tracking_number(number):
            raise InvalidTrackingNumber(
                "a tracking number is 6-40 letters, digits or dashes",
                details={"tracking_number": given},
            )
        if session.scalar(select(Shipment.id).where(Shipment.tracking_number == number)):
            raise DuplicateTrackingNumber(
                f"tracking number {number} is already used",
                details={"tracking_number": number},
            )
        return number
    _, digits = rules.tracking_format(carrier.code)
    # Collisions in a space of 10^11+ numbers are rare; a few draws always find a free one.
    for _ in range(8):
        number = rules.format_tracking_number(carrier.code, secrets.randbelow(10**digits))
        if session.scalar(select(Shipment.id).where(Shipment.tracking_number == number)) is None:
            return number
    raise DuplicateTrackingNumber(
        "no free tracking number found; retry", details={"carrier_code": carrier.code}
    )


def _order_weight(session: Session, order: Order, *, net_of_refunds: bool) -> int:
    """Grams of the order's goods; refunded units stay home when `net_of_refunds`."""
    skus = catalog_service.get_sellable_skus(session, sku_ids=[x.sku_id for x in order.lines])
    return lines_weight(order.lines, skus, net_of_refunds=net_of_refunds)


def lines_weight(lines: Iterable[Any], skus: Mapping[int, Any], *, net_of_refunds: bool) -> int:
    """Grams of order lines (anything with `sku_id`, `quantity`, `refunded_quantity`)."""
    units: dict[int, int] = {}
    for line in lines:
        qty = line.quantity - (line.refunded_quantity if net_of_refunds else 0)
        if qty > 0:
            units[line.sku_id] = units.get(line.sku_id, 0) + qty
    # An order line always has its SKU (foreign key); a missing snapshot weighs nothing.
    return rules.parcel_weight(
        (qty, skus[sku_id].weight_grams if sku_id in skus else 0) for sku_id, qty in units.items()
    )


def _origin_warehouse(session: Session, order: Order) -> Warehouse | None:
    held = inventory_service.list_reservations(
        session, ref_type=orders_service.RESERVATION_REF, ref_id=str(order.id), limit=500
    )
    units: dict[int, int] = {}
    for r in held.items:
        if r.status != ReservationStatus.RELEASED:
            units[r.warehouse_id] = units.get(r.warehouse_id, 0) + r.quantity
    return origin_warehouse(units, inventory_service.list_warehouses(session))


def origin_warehouse(units: Mapping[int, int], warehouses: Sequence[Warehouse]) -> Warehouse | None:
    """Where the parcel leaves from: the warehouse that gave most of the order's units
    (`units`: warehouse id → units held), else the first active warehouse, else none."""
    by_id = {w.id: w for w in warehouses}
    if units:
        best = max(units, key=lambda wid: (units[wid], -wid))
        if best in by_id:
            return by_id[best]
    return next((w for w in warehouses if w.active), None)


def _province(order: Any) -> str:
    address = order.shipping_address or {}
    return str(address.get("province", ""))


def shipment_rows(
    *,
    order: Any,
    carrier: Carrier,
    direction: ShipmentDirection,
    tracking_number: str,
    weight_grams: int,
    warehouse: Warehouse | None,
    quote: rules.Quote,
    at: dt.datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values of a new shipment (`order`: an Order or a bulk order state) and of
    its first scan (without `shipment_id`)."""
    province = _province(order)
    shipment = {
        "order_id": order.id,
        "carrier_id": carrier.id,
        "warehouse_id": warehouse.id if warehouse is not None else None,
        "direction": direction,
        "tracking_number": tracking_number,
        "status": ShipmentStatus.CREATED,
        "region": rules.normalize_province(province),
        "fee": quote.fee,
        "weight_grams": weight_grams,
        "promised_hours": quote.promised_hours,
        "exception_count": 0,
        "shipped_at": at,
    }
    # A return is picked up at the customer's; a forward parcel leaves the warehouse.
    if direction is ShipmentDirection.RETURN:
        origin = str((order.shipping_address or {}).get("city", ""))
    else:
        origin = (warehouse.city or warehouse.region) if warehouse is not None else ""
    first = {
        "status": ShipmentStatus.CREATED,
        "location": origin,
        "description": rules.STATUS_LABELS[TrackingStatus.CREATED],
        "occurred_at": at,
    }
    return shipment, first


def _new_shipment(
    session: Session,
    *,
    order: Order,
    carrier: Carrier,
    direction: ShipmentDirection,
    tracking_number: str,
    weight_grams: int,
    warehouse: Warehouse | None = None,
) -> Shipment:
    values, first = shipment_rows(
        order=order,
        carrier=carrier,
        direction=direction,
        tracking_number=tracking_number,
        weight_grams=weight_grams,
        warehouse=warehouse,
        quote=price_parcel(session, carrier, _province(order), weight_grams),
        at=now(session),
    )
    shipment = Shipment(**values, carrier=carrier)
    shipment.events = [TrackingEvent(**first)]
    session.add(shipment)
    session.flush()
    return shipment


def check_shippable(order: Any, shipped: int | None) -> None:
    """Refuse an order (an Order or a bulk order state) that cannot ship (`shipped`: its
    forward shipment's id, if any)."""
    if OrderStatus(order.status) in _SHIPPED_STATUSES:
        raise OrderAlreadyShipped(
            f"order {order.number} is already {order.status}",
            details={"order_id": order.id, "status": order.status},
        )
    try:
        next_status(order.status, OrderAction.SHIP)
    except IllegalOrderTransition as exc:
        raise OrderNotShippable(
            f"order {order.number} is {order.status} and cannot ship",
            details={"order_id": order.id, "status": order.status},
        ) from exc
    if shipped is not None:
        raise OrderAlreadyShipped(
            f"order {order.number} already has a shipment",
            details={"order_id": order.id, "shipment_id": shipped},
        )


def ship_order(
    session: Session, *, order_id: int, carrier_code: str, tracking_number: str | None = None
) -> Shipment:
    """Hand a paid order to a carrier: the shipment with its fee, weight and promise, its first
    scan (揽收), the order marked shipped and `shipment.created` emitted.

    409 `order_not_shippable` (unpaid, cancelled, refunded…), `order_already_shipped`,
    `duplicate_tracking_number`, `carrier_inactive`, `no_carrier_rate`; 404 `unknown_carrier`.
    """
    order = orders_service.get_order(session, order_id=order_id, for_update=True)
    carrier = require_active_carrier(session, carrier_code)
    check_shippable(order, None)
    shipped = session.scalar(
        select(Shipment.id).where(
            Shipment.order_id == order.id, Shipment.direction == ShipmentDirection.FORWARD
        )
    )
    check_shippable(order, shipped)
    number = _tracking_number(session, carrier, tracking_number)
    weight = _order_weight(session, order, net_of_refunds=True)
    shipment = _new_shipment(
        session,
        order=order,
        carrier=carrier,
        direction=ShipmentDirection.FORWARD,
        tracking_number=number,
        weight_grams=weight,
        warehouse=_origin_warehouse(session, order),
    )
    orders_service.mark_shipped(session, order_id=order.id)
    emit(
        session,
        events.SHIPMENT_CREATED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=shipment.id,
        payload=events.created_payload(shipment, order_number=order.number),
    )
    return shipment


def create_return_shipment(
    session: Session,
    *,
    order_id: int,
    carrier_code: str,
    tracking_number: str | None = None,
    weight_grams: int | None = None,
) -> Shipment:
    """A parcel coming back from the customer (after-sales); the order's status is untouched.

    Priced on the customer's province; `weight_grams` defaults to the whole order's weight.
    """
    order = orders_service.get_order(session, order_id=order_id)
    carrier = require_active_carrier(session, carrier_code)
    if OrderStatus(order.status) in _NEVER_PAID:
        raise OrderNotShippable(
            f"order {order.number} is {order.status}: nothing to send back",
            details={"order_id": order.id, "status": order.status},
        )
    if weight_grams is not None and weight_grams < 0:
        raise InvalidWeight("weight must not be negative", details={"weight_grams": weight_grams})
    number = _tracking_number(session, carrier, tracking_number)
    if weight_grams is None:
        weight_grams = _order_weight(session, order, net_of_refunds=False)
    shipment = _new_shipment(
        session,
        order=order,
        carrier=carrier,
        direction=ShipmentDirection.RETURN,
        tracking_number=number,
        weight_grams=weight_grams,
    )
    emit(
        session,
        events.SHIPMENT_CREATED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=shipment.id,
        payload=events.created_payload(shipment, order_number=order.number),
    )
    return shipment
