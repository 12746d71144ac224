"""Alert tables: rules (stored as data), alerts with their life cycle, their history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db import Base, UTCDateTime, utcnow


class AlertRule(Base):
    __tablename__ = "ops_alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    # The validated RuleSpec as JSON: the rule is data, editable and exportable as YAML.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    __tablename__ = "ops_alert"
    __table_args__ = (Index("ix_ops_alert_key_day", "key", "day", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # rule code or "anomaly:<metric>": with the day, what makes a rerun idempotent.
    key: Mapped[str] = mapped_column(String(80))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("ops_alert_rule.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    day: Mapped[dt.date] = mapped_column(Date())
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(14), index=True)
    metric: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    value: Mapped[float | None] = mapped_column(Float)
    base: Mapped[float | None] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    message_zh: Mapped[str] = mapped_column(String(500))
    message_en: Mapped[str] = mapped_column(String(500))
    playbook_zh: Mapped[str] = mapped_column(String(500))
    playbook_en: Mapped[str] = mapped_column(String(500))
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    history: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", cascade="all, delete-orphan"
    )
    actions: Mapped[list[OpsAction]] = relationship(
        back_populates="alert", order_by="OpsAction.id", cascade="all, delete-orphan"
    )


class AlertEvent(Base):
    __tablename__ = "ops_alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("ops_alert.id"), index=True)
    status: Mapped[str] = mapped_column(String(14))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    alert: Mapped[Alert] = relationship(back_populates="history")


class OpsAction(Base):
    """An automatic action a rule's alert took through the store services (a draft promotion)
    or, where the store has no such service, a task for an operator in ops' own table (a SKU
    flagged for a new main image, a purchase suggestion). `target` is what it acts on
    (e.g. "sku:12"): an open action on the same kind and target is never made twice."""

    __tablename__ = "ops_action"
    __table_args__ = (Index("ix_ops_action_kind_target", "kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("ops_alert.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    target: Mapped[str] = mapped_column(String(80))
    # open (waiting for an operator) | done | dismissed | skipped (nothing to do) | failed
    status: Mapped[str] = mapped_column(String(12), index=True)
    ref_type: Mapped[str | None] = mapped_column(String(24))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    summary_zh: Mapped[str] = mapped_column(String(500))
    summary_en: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    alert: Mapped[Alert] = relationship(back_populates="actions")
