"""API schemas of payments: attempts, gateway callbacks, completion rates, refunds."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shopops.config import Settings
from shopops.payments.models import PaymentChannel

MAX_LINE_QUANTITY: int = Settings.model_fields["max_line_quantity"].default
# ¥10,000,000 in fen: beyond any single refund, catches unit mistakes (yuan sent as fen×100).
MAX_AMOUNT = 1_000_000_000


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: PaymentChannel


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    channel: str
    amount: int
    status: str
    failure_code: str
    gateway_txn_id: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


class GatewayCallback(BaseModel):
    """What the provider posts: the outcome of a transaction, signed with the shared secret."""

    model_config = ConfigDict(extra="forbid")

    gateway_txn_id: str = Field(min_length=1, max_length=64)
    status: Literal["succeeded", "failed"]
    failure_code: str = Field(default="", max_length=50)
    amount: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    signature: str = Field(min_length=1, max_length=128)


class ChannelCompletionRead(BaseModel):
    channel: str
    attempts: int
    successes: int
    rate: float | None = Field(description="successes / attempts; null without attempts")


class CompletionRead(BaseModel):
    date_from: dt.date | None
    date_to: dt.date | None
    attempts: int
    successes: int
    rate: float | None
    channels: list[ChannelCompletionRead]


class RefundLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class RefundCreate(BaseModel):
    """Units of lines, a goodwill amount (fen), the shipping fee — or a combination."""

    model_config = ConfigDict(extra="forbid")

    lines: list[RefundLineIn] = Field(default_factory=list, max_length=200)
    amount: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    include_shipping: bool = False
    reason: str = Field(default="", max_length=200)


class RefundLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: int | None = Field(description="null for the shipping fee or a reversal")
    quantity: int
    amount: int


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    payment_id: int
    kind: str
    amount: int
    status: str
    reason: str
    return_id: int | None
    gateway_refund_id: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    lines: list[RefundLineRead]
