"""Customer tables: customers and their saved addresses (the customer part of F-12)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    gender: Mapped[str] = mapped_column(String(10), default=Gender.UNKNOWN)
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    # Age band such as "18-24", "25-34"; kept when the birthday is unknown.
    age_band: Mapped[str] = mapped_column(String(10), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    acquisition_channel: Mapped[str] = mapped_column(String(32), default="direct", index=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    recipient: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    district: Mapped[str] = mapped_column(String(50), default="")
    detail: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    is_default: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_address_customer", "customer_id", "is_default"),
        # At most one default per customer, even when two requests change it at once.
        Index(
            "uq_address_one_default",
            "customer_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )
