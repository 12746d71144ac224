"""Shared pieces of the inventory use cases: input checks, ledger rows, events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from shopops.catalog import service as catalog_service
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.inventory import events
from shopops.inventory.errors import (
    InvalidQuantity,
    InvalidRef,
    UnknownSku,
    UnknownWarehouse,
    WarehouseInactive,
)
from shopops.inventory.models import (
    MovementReason,
    Warehouse,
)
from shopops.inventory.rules import (
    MAX_QUANTITY,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def check_quantity(quantity: int, *, name: str = "quantity", sku_id: int | None = None) -> None:
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise InvalidQuantity(
            f"{name} must be a whole number from 1 to {MAX_QUANTITY}",
            details={"field": name, "value": quantity, "sku_id": sku_id},
        )


def check_ref(ref_type: str, ref_id: str, *, require_id: bool = True) -> None:
    if not ref_type or len(ref_type) > 32 or len(ref_id) > 64 or (require_id and not ref_id):
        raise InvalidRef(
            "ref_type must be 1-32 characters and ref_id 1-64",
            details={"ref_type": ref_type, "ref_id": ref_id},
        )


def check_note(note: str) -> None:
    if len(note) > 200:
        raise InvalidInput("note is longer than 200 characters", details={"field": "note"})


def require_sku(session: Session, sku_id: int) -> None:
    if not catalog_service.get_sellable_skus(session, sku_ids=[sku_id]):
        raise UnknownSku(f"no SKU {sku_id}", details={"sku_id": sku_id})


def require_warehouse(session: Session, warehouse_id: int, *, active: bool = False) -> Warehouse:
    row = session.get(Warehouse, warehouse_id)
    if row is None:
        raise UnknownWarehouse(
            f"no warehouse {warehouse_id}", details={"warehouse_id": warehouse_id}
        )
    if active and not row.active:
        raise WarehouseInactive(
            f"warehouse {row.code} is inactive", details={"warehouse_id": warehouse_id}
        )
    return row


# "fetch": rows the session already holds see the change (RETURNING carries the key, no SELECT).
SYNC = {"synchronize_session": "fetch"}


def emit_change(
    session: Session,
    *,
    sku_id: int,
    warehouse_id: int,
    reason: MovementReason,
    on_hand_delta: int,
    reserved_delta: int,
    on_hand: int,
    reserved: int,
    ref_type: str,
    ref_id: str,
    at: dt.datetime,
) -> None:
    emit(
        session,
        events.STOCK_CHANGED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=sku_id,
        occurred_at=at,
        payload=events.stock_changed(
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            reason=reason.value,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
            on_hand=on_hand,
            reserved=reserved,
            ref_type=ref_type,
            ref_id=ref_id,
            at=at,
        ),
    )


def movement_row(
    *,
    sku_id: int,
    warehouse_id: int,
    reason: MovementReason,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    ref_type: str,
    ref_id: str,
    note: str = "",
    at: dt.datetime,
) -> dict[str, Any]:
    return {
        "sku_id": sku_id,
        "warehouse_id": warehouse_id,
        "reason": reason.value,
        "on_hand_delta": on_hand_delta,
        "reserved_delta": reserved_delta,
        "ref_type": ref_type,
        "ref_id": ref_id,
        "note": note,
        "created_at": at,
    }
