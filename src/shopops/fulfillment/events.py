"""Events the fulfillment domain emits, and their payloads (plain JSON: ints, ISO times)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shopops.fulfillment.models import Shipment
from shopops.fulfillment.rules import delivery_hours

SHIPMENT_CREATED = "shipment.created"
SHIPMENT_DELIVERED = "shipment.delivered"
SHIPMENT_EXCEPTION = "shipment.exception"

AGGREGATE = "shipment"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _base(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": shipment.id,
        "order_id": shipment.order_id,
        "direction": shipment.direction,
        "carrier": shipment.carrier.code,
        "tracking_number": shipment.tracking_number,
        "region": shipment.region,
        "warehouse_id": shipment.warehouse_id,
        "fee": shipment.fee,
        "weight_grams": shipment.weight_grams,
        "promised_hours": shipment.promised_hours,
        "shipped_at": _iso(shipment.shipped_at),
    }


def created_payload(shipment: Shipment, *, order_number: str) -> dict[str, Any]:
    return {**_base(shipment), "order_number": order_number}


def delivered_payload(shipment: Shipment) -> dict[str, Any]:
    """Everything a delivery fact needs: times, hours against the promise, fee, region."""
    if shipment.delivered_at is None:
        raise ValueError("the shipment is not delivered")
    hours = delivery_hours(shipment.shipped_at, shipment.delivered_at)
    return {
        **_base(shipment),
        "delivered_at": _iso(shipment.delivered_at),
        "hours": round(hours, 2),
        "on_time": hours <= shipment.promised_hours,
        "exception_count": shipment.exception_count,
    }


def exception_payload(
    shipment: Shipment, *, previous_status: str, location: str, description: str, at: dt.datetime
) -> dict[str, Any]:
    return {
        **_base(shipment),
        "previous_status": previous_status,
        "location": location,
        "description": description,
        "occurred_at": _iso(at),
    }
