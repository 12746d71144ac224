"""API schemas of inventory: warehouses, stock levels, receipts, adjustments, the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shopops.inventory.models import MovementReason, ReservationStatus
from shopops.inventory.rules import MAX_QUANTITY

Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Text50 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]


class WarehouseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region: Text50 = ""
    city: Text50 = ""
    priority: int = Field(default=100, ge=0, le=10_000, description="Lower ships first")
    active: bool = True


class WarehouseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    region: Text50 | None = None
    city: Text50 | None = None
    priority: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = None


class WarehouseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    region: str
    city: str
    priority: int
    active: bool


class StockLevelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int


class StockLevelRow(StockLevelRead):
    safety_stock: int
    sku_available: int = Field(description="Available units of the SKU over all active warehouses")
    below_safety: bool = Field(description="The SKU's available stock is under its safety line")


class StockLevelPage(BaseModel):
    items: list[StockLevelRow]
    total: int
    limit: int
    offset: int


class StockHealthRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: int
    on_hand: int
    reserved: int
    available: int
    safety_stock: int
    below_safety: bool


class StockHealthPage(BaseModel):
    items: list[StockHealthRead]
    total: int
    limit: int
    offset: int


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    warehouse_id: int = Field(gt=0)
    quantity: Quantity
    ref_type: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "purchase"
    ref_id: Annotated[str, StringConstraints(max_length=64)] = ""
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(gt=0)
    warehouse_id: int = Field(gt=0)
    delta: int = Field(
        ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="Units to add (+) or remove (−); not 0"
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku_id: int
    warehouse_id: int
    reason: MovementReason
    on_hand_delta: int
    reserved_delta: int
    ref_type: str
    ref_id: str
    note: str
    created_at: dt.datetime


class MovementPage(BaseModel):
    items: list[MovementRead]
    total: int
    limit: int
    offset: int


class ReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ref_type: str
    ref_id: str
    sku_id: int
    warehouse_id: int
    quantity: int
    status: ReservationStatus
    expires_at: dt.datetime
    created_at: dt.datetime


class ReservationPage(BaseModel):
    items: list[ReservationRead]
    total: int
    limit: int
    offset: int


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    safety_stock: int = Field(ge=0, le=MAX_QUANTITY)


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: int
    safety_stock: int
