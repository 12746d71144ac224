"""Shipments and scans as plain values: what the bulk paths read, change and return instead of
ORM objects (the event payload builders read the same attributes from either)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shopops.fulfillment.models import Carrier, Shipment

SHIPMENT_COLUMNS = (
    "id",
    "order_id",
    "carrier_id",
    "warehouse_id",
    "direction",
    "tracking_number",
    "status",
    "region",
    "fee",
    "weight_grams",
    "promised_hours",
    "exception_count",
    "shipped_at",
    "delivered_at",
)
SHIPMENT_TABLE = Shipment.__table__


@dataclass(slots=True)
class ShipmentRow:
    """A shipment (`Shipment`-like): its columns and its carrier."""

    id: int
    order_id: int
    carrier_id: int
    warehouse_id: int | None
    direction: str
    tracking_number: str
    status: str
    region: str
    fee: int
    weight_grams: int
    promised_hours: int
    exception_count: int
    shipped_at: dt.datetime
    delivered_at: dt.datetime | None
    carrier: Carrier


@dataclass(slots=True)
class ScanRow:
    """A tracking event (`TrackingEvent`-like)."""

    id: int
    shipment_id: int
    status: str
    location: str
    description: str
    occurred_at: dt.datetime
