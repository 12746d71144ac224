"""Payment tables: one row per payment attempt, refunds and their per-line allocation."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db import Base, UTCDateTime, utcnow


class PaymentChannel(StrEnum):
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundKind(StrEnum):
    # Money given back for (part of) what the order sold: lines and/or shipping.
    ORDER = "order"
    # A payment the order could not take (it was cancelled or already paid), returned whole.
    REVERSAL = "reversal"


class Payment(Base):
    """One payment attempt; completion rate per channel = succeeded / attempts."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    # The gateway's transaction id; callbacks are matched (and de-duplicated) on it.
    gateway_txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    failure_code: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_channel_created", "channel", "created_at"),
    )


class Refund(Base):
    __tablename__ = "refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING)
    kind: Mapped[str] = mapped_column(String(10), default=RefundKind.ORDER)
    reason: Mapped[str] = mapped_column(String(200), default="")
    return_id: Mapped[int | None] = mapped_column(Integer)
    gateway_refund_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class RefundLine(Base):
    """The part of a refund that belongs to one order line (shipping refunds have no line)."""

    __tablename__ = "refund_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer)

    refund: Mapped[Refund] = relationship(back_populates="lines")
