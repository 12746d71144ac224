"""Fulfillment tables: carriers and their rates, shipments, tracking events."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db import Base, UTCDateTime, utcnow


class ShipmentStatus(StrEnum):
    CREATED = "created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class ShipmentDirection(StrEnum):
    FORWARD = "forward"
    RETURN = "return"


class Carrier(Base):
    __tablename__ = "carrier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)

    rates: Mapped[list[CarrierRate]] = relationship(
        back_populates="carrier", order_by="CarrierRate.region"
    )


class CarrierRate(Base):
    """Fee and transit time of a carrier to a destination province ("*" = anywhere else)."""

    __tablename__ = "carrier_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carrier.id"))
    region: Mapped[str] = mapped_column(String(50), default="*")
    first_kg_fee: Mapped[int] = mapped_column(Integer)
    extra_kg_fee: Mapped[int] = mapped_column(Integer)
    transit_hours: Mapped[int] = mapped_column(Integer)

    carrier: Mapped[Carrier] = relationship(back_populates="rates")

    __table_args__ = (
        UniqueConstraint("carrier_id", "region"),
        CheckConstraint("first_kg_fee >= 0", name="first_kg_fee_not_negative"),
        CheckConstraint("extra_kg_fee >= 0", name="extra_kg_fee_not_negative"),
        CheckConstraint("transit_hours > 0", name="transit_hours_positive"),
    )


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carrier.id"))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    direction: Mapped[str] = mapped_column(String(10), default=ShipmentDirection.FORWARD)
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.CREATED, index=True)
    # Destination province as the rate table names it (上海, 新疆…); "" when unknown.
    region: Mapped[str] = mapped_column(String(50), default="")
    fee: Mapped[int] = mapped_column(Integer, default=0)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    promised_hours: Mapped[int] = mapped_column(Integer, default=0)
    # Kept on the row so the scorecard counts exceptions without reading every event.
    exception_count: Mapped[int] = mapped_column(Integer, default=0)
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # A small table: joined on every load so reads never fetch carriers one by one.
    carrier: Mapped[Carrier] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="(TrackingEvent.occurred_at, TrackingEvent.id)"
    )

    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
        CheckConstraint("promised_hours >= 0", name="promised_hours_not_negative"),
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"))
    status: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")

    __table_args__ = (Index("ix_tracking_event_shipment", "shipment_id", "occurred_at"),)
