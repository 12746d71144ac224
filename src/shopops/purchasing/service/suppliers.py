"""Suppliers and the SKUs each supplies at an agreed unit cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog_service
from shopops.events import emit
from shopops.purchasing import events
from shopops.purchasing.errors import DuplicateSupplierCode, SkuNotSupplied, UnknownSku
from shopops.purchasing.models import Supplier, SupplierSku
from shopops.purchasing.rules import MAX_LEAD_DAYS, MAX_RATING, MIN_RATING
from shopops.purchasing.service._common import (
    check_cost,
    check_int,
    check_text,
    require_supplier,
)

_TEXT_FIELDS = {
    "name": (1, 100),
    "contact_name": (0, 100),
    "contact_phone": (0, 32),
    "contact_email": (0, 100),
}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _TEXT_FIELDS:
            low, high = _TEXT_FIELDS[name]
            out[name] = check_text(value, name, low=low, high=high)
        elif name == "lead_time_days":
            out[name] = check_int(value, name, 0, MAX_LEAD_DAYS)
        elif name == "rating":
            out[name] = check_int(value, name, MIN_RATING, MAX_RATING)
        elif name in ("vmi", "active"):
            out[name] = bool(value)
        else:
            raise TypeError(f"unknown supplier field {name!r}")
    return out


def _emit(session: Session, name: str, supplier: Supplier) -> None:
    emit(
        session,
        name,
        aggregate_type=events.SUPPLIER_AGGREGATE,
        aggregate_id=supplier.id,
        payload=events.supplier_payload(supplier),
    )


def create_supplier(
    session: Session,
    *,
    code: str,
    name: str,
    lead_time_days: int,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    vmi: bool = False,
    rating: int = 3,
) -> Supplier:
    """A new active supplier; `code` is unique."""
    code = check_text(code, "code", low=1, high=32)
    fields = _clean(
        {
            "name": name,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "lead_time_days": lead_time_days,
            "vmi": vmi,
            "rating": rating,
        }
    )
    if session.scalar(select(literal(1)).where(Supplier.code == code)) is not None:
        raise DuplicateSupplierCode(f"supplier code {code!r} is taken", details={"code": code})
    row = Supplier(code=code, active=True, **fields)
    session.add(row)
    session.flush()
    _emit(session, events.SUPPLIER_CREATED, row)
    return row


def update_supplier(session: Session, *, supplier_id: int, **changes: Any) -> Supplier:
    """Change the given fields (name, contacts, lead_time_days, vmi, rating, active)."""
    row = require_supplier(session, supplier_id)
    fields = _clean({k: v for k, v in changes.items() if v is not None})
    for name, value in fields.items():
        setattr(row, name, value)
    session.flush()
    if fields:
        _emit(session, events.SUPPLIER_UPDATED, row)
    return row


def get_supplier(session: Session, *, supplier_id: int) -> Supplier:
    return require_supplier(session, supplier_id)


def list_suppliers(session: Session, *, active: bool | None = None) -> list[Supplier]:
    stmt = select(Supplier).order_by(Supplier.code)
    if active is not None:
        stmt = stmt.where(Supplier.active.is_(active))
    return list(session.scalars(stmt))


def set_supplier_costs(
    session: Session, *, supplier_id: int, costs: Mapping[int, int], preferred: bool = True
) -> list[SupplierSku]:
    """Agree `costs` ({sku_id: unit cost in fen}) with the supplier, replacing earlier ones.
    A preferred supplier becomes the one new orders of those SKUs go to (the others stop
    being preferred for them)."""
    require_supplier(session, supplier_id)
    costs = {sku: check_cost(fen) for sku, fen in costs.items()}
    if not costs:
        return []
    known = catalog_service.get_sellable_skus(session, sku_ids=list(costs))
    missing = sorted(set(costs) - set(known))
    if missing:
        raise UnknownSku(f"no SKU {missing[0]}", details={"sku_ids": missing[:20]})
    ids = sorted(costs)
    existing = {
        r.sku_id: r
        for r in session.scalars(
            select(SupplierSku).where(
                SupplierSku.supplier_id == supplier_id, SupplierSku.sku_id.in_(ids)
            )
        )
    }
    if preferred:
        session.execute(
            update(SupplierSku)
            .where(SupplierSku.sku_id.in_(ids), SupplierSku.supplier_id != supplier_id)
            .values(preferred=False),
            execution_options={"synchronize_session": False},
        )
    for sku, row in existing.items():
        row.unit_cost, row.preferred = costs[sku], preferred or row.preferred
    new = [
        {"supplier_id": supplier_id, "sku_id": s, "unit_cost": costs[s], "preferred": preferred}
        for s in ids
        if s not in existing
    ]
    if new:
        session.execute(insert(SupplierSku), new)
    session.flush()
    return list_supplier_skus(session, supplier_id=supplier_id, sku_ids=ids)


def list_supplier_skus(
    session: Session, *, supplier_id: int, sku_ids: Sequence[int] | None = None
) -> list[SupplierSku]:
    stmt = select(SupplierSku).where(SupplierSku.supplier_id == supplier_id)
    if sku_ids is not None:
        stmt = stmt.where(SupplierSku.sku_id.in_(sorted(set(sku_ids))))
    return list(
        session.scalars(
            stmt.order_by(SupplierSku.sku_id), execution_options={"populate_existing": True}
        )
    )


def preferred_suppliers(session: Session, *, sku_ids: Sequence[int]) -> dict[int, SupplierSku]:
    """The preferred supplier's terms of each SKU that has one (one query)."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(SupplierSku)
        .join(Supplier, Supplier.id == SupplierSku.supplier_id)
        .where(
            SupplierSku.sku_id.in_(ids),
            SupplierSku.preferred.is_(True),
            Supplier.active.is_(True),
        )
        .order_by(SupplierSku.sku_id, SupplierSku.supplier_id)
    )
    out: dict[int, SupplierSku] = {}
    for row in rows:
        out.setdefault(row.sku_id, row)
    return out


def supplier_for_sku(session: Session, *, sku_id: int) -> SupplierSku:
    """The preferred active supplier's terms for `sku_id`, or `SkuNotSupplied`."""
    found = preferred_suppliers(session, sku_ids=[sku_id]).get(sku_id)
    if found is None:
        raise SkuNotSupplied(f"no supplier supplies SKU {sku_id}", details={"sku_id": sku_id})
    return found
