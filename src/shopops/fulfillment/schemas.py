"""API schemas of fulfillment: carriers and rates, quotes, shipments, tracking, scorecards."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shopops.fulfillment.models import Carrier, Shipment, ShipmentDirection
from shopops.fulfillment.rules import CarrierScore, Quote, TrackingStatus

# Fees are fen; ¥100,000 for one parcel is beyond any real rate and catches unit mistakes.
MAX_FEE = 10_000_000
MAX_TRANSIT_HOURS = 24 * 60
TRACKING_NUMBER = r"^[A-Za-z0-9-]{6,40}$"


class CarrierRateWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(default="*", min_length=1, max_length=50, description='province or "*"')
    first_kg_fee: int = Field(ge=0, le=MAX_FEE, description="fen for the first kilogram")
    extra_kg_fee: int = Field(ge=0, le=MAX_FEE, description="fen per further started kilogram")
    transit_hours: int = Field(ge=1, le=MAX_TRANSIT_HOURS)


class CarrierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,19}$")
    name: str = Field(min_length=1, max_length=50)
    active: bool = True
    rates: list[CarrierRateWrite] = Field(default_factory=list, max_length=100)


class CarrierUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = None


class CarrierRateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    region: str
    first_kg_fee: int
    extra_kg_fee: int
    transit_hours: int


class CarrierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    active: bool
    rates: list[CarrierRateRead]

    @classmethod
    def of(cls, carrier: Carrier) -> CarrierRead:
        return cls.model_validate(carrier)


class QuoteRead(BaseModel):
    carrier_code: str
    province: str
    region: str = Field(description='the rate row that applied ("*" for the fallback)')
    weight_grams: int
    billable_kg: int
    fee: int
    promised_hours: int

    @classmethod
    def of(cls, q: Quote, *, carrier_code: str, province: str) -> QuoteRead:
        return cls(
            carrier_code=carrier_code,
            province=province,
            region=q.region,
            weight_grams=q.weight_grams,
            billable_kg=q.billable_kg,
            fee=q.fee,
            promised_hours=q.promised_hours,
        )


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier_code: str = Field(min_length=1, max_length=20)
    tracking_number: str | None = Field(default=None, pattern=TRACKING_NUMBER)


class TrackingEventCreate(BaseModel):
    """A carrier scan, as a carrier's webhook would report it."""

    model_config = ConfigDict(extra="forbid")

    status: TrackingStatus
    location: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=200)


class TrackingEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    location: str
    description: str
    occurred_at: dt.datetime


class _ShipmentBase(BaseModel):
    id: int
    order_id: int
    carrier_code: str
    carrier_name: str
    direction: ShipmentDirection
    tracking_number: str
    status: str
    region: str
    weight_grams: int
    promised_hours: int
    shipped_at: dt.datetime
    promised_by: dt.datetime
    delivered_at: dt.datetime | None

    @classmethod
    def _fields(cls, s: Shipment) -> dict[str, object]:
        return {
            "id": s.id,
            "order_id": s.order_id,
            "carrier_code": s.carrier.code,
            "carrier_name": s.carrier.name,
            "direction": s.direction,
            "tracking_number": s.tracking_number,
            "status": s.status,
            "region": s.region,
            "weight_grams": s.weight_grams,
            "promised_hours": s.promised_hours,
            "shipped_at": s.shipped_at,
            "promised_by": s.shipped_at + dt.timedelta(hours=s.promised_hours),
            "delivered_at": s.delivered_at,
        }


class ShipmentRead(_ShipmentBase):
    """A shipment as the back office sees it: with the fee the shop pays."""

    fee: int
    exception_count: int

    @classmethod
    def of(cls, s: Shipment) -> ShipmentRead:
        return cls(**cls._fields(s), fee=s.fee, exception_count=s.exception_count)


class ShipmentDetail(ShipmentRead):
    events: list[TrackingEventRead]

    @classmethod
    def of(cls, s: Shipment) -> ShipmentDetail:
        events = [TrackingEventRead.model_validate(e) for e in s.events]
        return cls(**cls._fields(s), fee=s.fee, exception_count=s.exception_count, events=events)


class OrderTrackingRead(BaseModel):
    order_number: str
    shipments: list[ShipmentDetail]


class StorefrontShipment(_ShipmentBase):
    """What a shopper sees of a parcel: no fee, no internal counters."""

    events: list[TrackingEventRead]

    @classmethod
    def of(cls, s: Shipment) -> StorefrontShipment:
        events = [TrackingEventRead.model_validate(e) for e in s.events]
        return cls(**cls._fields(s), events=events)


class StorefrontTracking(BaseModel):
    order_number: str
    shipments: list[StorefrontShipment]


class CarrierScoreRead(BaseModel):
    carrier_code: str
    shipments: int
    delivered: int
    on_time: int
    on_time_rate: float | None
    mean_delivery_hours: float | None
    mean_fee: int
    total_fee: int
    exceptions: int

    @classmethod
    def of(cls, score: CarrierScore) -> CarrierScoreRead:
        return cls(**dataclasses.asdict(score))


class ScorecardRead(BaseModel):
    since: dt.datetime
    until: dt.datetime
    carriers: list[CarrierScoreRead]
