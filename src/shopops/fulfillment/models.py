"""Fulfillment tables: carriers and their rates, shipments, tracking events."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
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


class CarrierRate(Base):
    """Fee and transit time of a carrier to a destination province ("*" = anywhere else)."""

    __tablename__ = "carrier_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carrier.id"))
    region: Mapped[str] = mapped_column(String(50), default="*")
    first_kg_fee: Mapped[int] = mapped_column(Integer)
    extra_kg_fee: Mapped[int] = mapped_column(Integer)
    transit_hours: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("carrier_id", "region"),)


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carrier.id"))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    direction: Mapped[str] = mapped_column(String(10), default=ShipmentDirection.FORWARD)
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.CREATED)
    fee: Mapped[int] = mapped_column(Integer, default=0)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    promised_hours: Mapped[int] = mapped_column(Integer, default=0)
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="shipment", order_by="TrackingEvent.occurred_at"
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
