"""Reading payments: the attempt list and the completion rate per channel (支付成功率)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shopops.errors import InvalidInput
from shopops.payments import rules
from shopops.payments.errors import PaymentNotFound
from shopops.payments.models import Payment, PaymentChannel, PaymentStatus
from shopops.payments.service.common import MAX_PAGE, parse_channel


def get_payment(session: Session, *, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_id}", details={"payment_id": payment_id})
    return payment


def list_payments(
    session: Session,
    *,
    channel: str | None = None,
    status: str | None = None,
    order_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Payment]:
    """Attempts, newest first, filtered by channel, status and order."""
    stmt = select(Payment)
    if channel is not None:
        stmt = stmt.where(Payment.channel == parse_channel(channel).value)
    if status is not None:
        stmt = stmt.where(Payment.status == status)
    if order_id is not None:
        stmt = stmt.where(Payment.order_id == order_id)
    stmt = stmt.order_by(Payment.created_at.desc(), Payment.id.desc())
    return list(session.scalars(stmt.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))))


@dataclass(frozen=True, slots=True)
class ChannelCompletion:
    channel: str
    attempts: int
    successes: int

    @property
    def rate(self) -> float | None:
        return rules.completion_rate(self.attempts, self.successes)


def _day_start(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def completion_by_channel(
    session: Session,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    timezone: str = "Asia/Shanghai",
) -> list[ChannelCompletion]:
    """Attempts and successes per channel (支付成功率) for attempts started on the days
    `date_from`..`date_to` (inclusive, in the shop's time zone); every channel is listed."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise InvalidInput(
            "the range ends before it starts",
            details={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
    succeeded = func.sum(case((Payment.status == PaymentStatus.SUCCEEDED, 1), else_=0))
    stmt = select(Payment.channel, func.count(), succeeded).group_by(Payment.channel)
    if date_from is not None:
        stmt = stmt.where(Payment.created_at >= _day_start(date_from, timezone))
    if date_to is not None:
        end = _day_start(date_to + dt.timedelta(days=1), timezone)
        stmt = stmt.where(Payment.created_at < end)
    counts = {row[0]: (int(row[1]), int(row[2] or 0)) for row in session.execute(stmt)}
    return [ChannelCompletion(c.value, *counts.get(c.value, (0, 0))) for c in PaymentChannel]
