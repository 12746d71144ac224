"""After-sales tables: return/exchange requests and their lines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.aftersales.rules import ReturnKind, ReturnStatus
from shopops.db import Base, UTCDateTime, utcnow

__all__ = ["ReturnKind", "ReturnLine", "ReturnRequest", "ReturnStatus"]


class ReturnRequest(Base):
    __tablename__ = "return_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=ReturnKind.RETURN)
    status: Mapped[str] = mapped_column(String(20), default=ReturnStatus.REQUESTED, index=True)
    # 7天无理由: a no-reason return, allowed only inside the window from delivery.
    no_reason: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    reverse_shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="return_request", order_by="ReturnLine.id", cascade="all, delete-orphan"
    )


class ReturnLine(Base):
    __tablename__ = "return_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_request.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    return_request: Mapped[ReturnRequest] = relationship(back_populates="lines")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
