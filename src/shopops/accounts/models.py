"""Access tables: API keys (stored hashed) with a role; storefront keys act for one customer."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    ANALYST = "analyst"
    AGENT = "agent"
    # A signed-in shopper: may only see and act on their own cart and orders.
    STOREFRONT = "storefront"


STAFF_ROLES = (Role.ADMIN, Role.OPERATOR, Role.ANALYST, Role.AGENT)


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # The first characters, shown in lists so a person can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    # SHA-256 of the whole key: keys are long random strings, so a slow hash adds nothing.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ConsoleUser(Base):
    """A person who signs in to the web console; the role is one of the API's staff roles."""

    __tablename__ = "console_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    # argon2id encoded hash (salt and parameters inside): passwords are short, so a slow hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
