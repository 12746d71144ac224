"""Warehouses: where stock is kept; `priority` orders them for allocation."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from shopops.inventory.errors import (
    DuplicateWarehouseCode,
)
from shopops.inventory.models import (
    Warehouse,
)
from shopops.inventory.service._common import require_warehouse


def create_warehouse(
    session: Session,
    *,
    code: str,
    name: str,
    region: str = "",
    city: str = "",
    priority: int = 100,
    active: bool = True,
) -> Warehouse:
    if session.scalar(select(literal(1)).where(Warehouse.code == code)) is not None:
        raise DuplicateWarehouseCode(f"warehouse code {code!r} is taken", details={"code": code})
    row = Warehouse(
        code=code, name=name, region=region, city=city, priority=priority, active=active
    )
    session.add(row)
    session.flush()
    return row


def update_warehouse(
    session: Session,
    *,
    warehouse_id: int,
    name: str | None = None,
    region: str | None = None,
    city: str | None = None,
    priority: int | None = None,
    active: bool | None = None,
) -> Warehouse:
    row = require_warehouse(session, warehouse_id)
    for field_name, value in (
        ("name", name),
        ("region", region),
        ("city", city),
        ("priority", priority),
        ("active", active),
    ):
        if value is not None:
            setattr(row, field_name, value)
    session.flush()
    return row


def get_warehouse(session: Session, *, warehouse_id: int) -> Warehouse:
    return require_warehouse(session, warehouse_id)


def list_warehouses(session: Session, *, active: bool | None = None) -> list[Warehouse]:
    stmt = select(Warehouse).order_by(Warehouse.priority, Warehouse.id)
    if active is not None:
        stmt = stmt.where(Warehouse.active.is_(active))
    return list(session.scalars(stmt))
