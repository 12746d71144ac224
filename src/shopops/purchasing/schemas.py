"""API schemas of purchasing: suppliers, supplied SKUs, purchase orders, receipts, scorecards."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shopops.purchasing.rules import (
    MAX_LEAD_DAYS,
    MAX_QUANTITY,
    MAX_RATING,
    MAX_UNIT_COST,
    MIN_RATING,
    PoStatus,
)

Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=32
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LeadDays = Annotated[int, Field(ge=0, le=MAX_LEAD_DAYS)]
Rating = Annotated[int, Field(ge=MIN_RATING, le=MAX_RATING)]
Cost = Annotated[int, Field(ge=0, le=MAX_UNIT_COST, description="fen")]
Units = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Units0 = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Name
    lead_time_days: LeadDays
    contact_name: Text100 = ""
    contact_phone: Phone = ""
    contact_email: Text100 = ""
    vmi: bool = False
    rating: Rating = 3


class SupplierUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    lead_time_days: LeadDays | None = None
    contact_name: Text100 | None = None
    contact_phone: Phone | None = None
    contact_email: Text100 | None = None
    vmi: bool | None = None
    rating: Rating | None = None
    active: bool | None = None


class SupplierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    lead_time_days: int
    vmi: bool
    rating: int
    active: bool
    created_at: dt.datetime


class SupplierCost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    unit_cost: Cost


class SupplierCosts(BaseModel):
    """Agreed unit costs of these SKUs (others the supplier supplies keep theirs);
    `preferred` makes this supplier the default for these SKUs."""

    model_config = ConfigDict(extra="forbid")

    items: list[SupplierCost] = Field(min_length=1, max_length=1000)
    preferred: bool = True


class SupplierSkuRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    supplier_id: int
    sku_id: int
    unit_cost: int
    preferred: bool


class LineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    quantity: Units
    unit_cost: Cost | None = Field(default=None, description="Default: the agreed cost")


class PurchaseOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: int = Field(gt=0)
    warehouse_id: int = Field(gt=0)
    lines: list[LineCreate] = Field(min_length=1, max_length=200)
    expected_at: dt.datetime | None = Field(
        default=None, description="Default: now + the supplier's lead time (timezone-aware)"
    )
    note: Note = ""
    submit: bool = False


class LineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    quantity: int
    unit_cost: int
    accepted: int
    rejected: int


class PurchaseOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    supplier_id: int
    warehouse_id: int
    status: PoStatus
    expected_at: dt.datetime
    note: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    lines: list[LineRead]


class PurchaseOrderPage(BaseModel):
    items: list[PurchaseOrderRead]
    total: int
    limit: int
    offset: int


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Note = ""


class ReceiptLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    accepted: Units0
    rejected: Units0 = 0


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiptLineCreate] = Field(min_length=1, max_length=200)
    note: Note = ""


class ReceiptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    received_at: dt.datetime
    note: str


class ReceiptResult(BaseModel):
    receipt: ReceiptRead
    order: PurchaseOrderRead


class ScorecardRead(BaseModel):
    """A supplier's record; rates are null when there is nothing to measure them on. The
    return rate is units returned / units sold of the SKUs it supplies, in the period asked."""

    model_config = ConfigDict(from_attributes=True)

    supplier_id: int
    receipts: int
    on_time_receipts: int
    on_time_rate: float | None
    accepted_units: int
    rejected_units: int
    reject_rate: float | None
    units_bought: int
    average_cost: int | None
    catalogue_cost: int | None
    cost_index: float | None
    units_sold: int
    units_returned: int
    return_rate: float | None
    score: int | None


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_sales: dict[int, Annotated[float, Field(ge=0, le=1_000_000)]] = Field(max_length=5000)
    roles: list[str] = Field(default=["hit"], max_length=3)


class SuggestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: int
    reorder_point: int
    position: int
    quantity: int
