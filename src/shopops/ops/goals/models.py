"""The goal table: one target on a registry metric for every period of a kind."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db import Base, UTCDateTime, utcnow


class Goal(Base):
    __tablename__ = "ops_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    metric: Mapped[str] = mapped_column(String(80))
    # day | month | quarter | year: the target holds for every period of this kind.
    period: Mapped[str] = mapped_column(String(10))
    target: Mapped[float] = mapped_column(Float)
    dimension: Mapped[str | None] = mapped_column(String(40))
    member: Mapped[str | None] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
