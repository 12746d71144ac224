"""API schemas of after-sales: return and exchange requests."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shopops.aftersales.rules import ReturnKind
from shopops.config import Settings

MAX_LINE_QUANTITY: int = Settings.model_fields["max_line_quantity"].default
TRACKING_NUMBER = r"^[A-Za-z0-9-]{6,40}$"


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class ReturnCreate(BaseModel):
    """A shopper's request; `no_reason` is 7天无理由, otherwise `reason` names the problem."""

    model_config = ConfigDict(extra="forbid")

    order_number: str = Field(min_length=1, max_length=32)
    kind: ReturnKind = ReturnKind.RETURN
    no_reason: bool = True
    reason: str = Field(default="", max_length=200)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)


class ReturnShip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier_code: str = Field(min_length=1, max_length=20)
    tracking_number: str | None = Field(default=None, pattern=TRACKING_NUMBER)


class ReturnReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class ReturnLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: int
    quantity: int


class ReturnRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    customer_id: int
    kind: str
    status: str
    no_reason: bool
    reason: str
    reject_reason: str
    reverse_shipment_id: int | None
    refund_id: int | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    received_at: dt.datetime | None
    lines: list[ReturnLineRead]
