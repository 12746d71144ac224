"""Shared pieces of the purchasing use cases: input checks and lookups that raise typed errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopops.purchasing.errors import (
    InvalidPurchasingField,
    PurchaseOrderNotFound,
    SupplierNotFound,
)
from shopops.purchasing.models import PurchaseOrder, Supplier
from shopops.purchasing.rules import MAX_QUANTITY, MAX_UNIT_COST

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def check_int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidPurchasingField(
            f"{field} must be a whole number from {low} to {high}",
            details={"field": field, "value": value},
        )
    return value


def check_quantity(value: Any, field: str = "quantity", *, low: int = 1) -> int:
    return check_int(value, field, low, MAX_QUANTITY)


def check_cost(value: Any, field: str = "unit_cost") -> int:
    return check_int(value, field, 0, MAX_UNIT_COST)


def check_text(value: str, field: str, *, low: int = 0, high: int = 100) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not low <= len(text) <= high:
        raise InvalidPurchasingField(
            f"{field} must have {low}-{high} characters", details={"field": field}
        )
    return text


def require_supplier(session: Session, supplier_id: int) -> Supplier:
    row = session.get(Supplier, supplier_id)
    if row is None:
        raise SupplierNotFound(f"no supplier {supplier_id}", details={"supplier_id": supplier_id})
    return row


def require_order(session: Session, po_id: int, *, for_update: bool = False) -> PurchaseOrder:
    stmt = (
        select(PurchaseOrder)
        .where(PurchaseOrder.id == po_id)
        .options(selectinload(PurchaseOrder.lines))
        .execution_options(populate_existing=True)
    )
    if for_update:
        # Receipts of one order run one at a time (SQLite serialises writers anyway).
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise PurchaseOrderNotFound(
            f"no purchase order {po_id}", details={"purchase_order_id": po_id}
        )
    return row
