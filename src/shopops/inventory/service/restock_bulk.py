"""Units arriving in bulk: `restock` of many returned lines, and `receive_stock` of a
delivery's SKUs, each in one set of statements.

`return_targets` checks the lines as `restock` would (quantity, reference, a known SKU, an
active warehouse to put it in) and picks each SKU's warehouse, one query each for SKUs and
warehouses; `restock_many` then writes them: one upsert per stock row (summed), one SELECT of
the rows after it, one INSERT of the movements and one `emit_many` of the `stock.changed`
events, each carrying the on-hand after its own line, at its own moment — what `restock` on
each line in order leaves. The choice is stable inside a batch: a restocked SKU is stocked
where it went, so its next line goes there too. `receive_stock_many` is the same writer for
a purchase delivery into one warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog_service
from shopops.db import now
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.inventory import events
from shopops.inventory.errors import NoActiveWarehouse, UnknownSku
from shopops.inventory.models import MovementReason, StockLevel, StockMovement, Warehouse
from shopops.inventory.rules import WarehouseChoice, pick_return_warehouse
from shopops.inventory.service._common import (
    check_note,
    check_quantity,
    check_ref,
    movement_row,
    require_warehouse,
)


@dataclass(frozen=True, slots=True)
class Restock:
    """One returned line: `restock(sku_id=…, quantity=…, ref_type=…, ref_id=…)` at `at`."""

    sku_id: int
    quantity: int
    ref_type: str
    ref_id: str
    at: dt.datetime
    note: str = ""


# Every active warehouse with whether it stocks each of the SKUs (built once, bound list).
_WAREHOUSES = select(Warehouse.id, Warehouse.priority).where(Warehouse.active.is_(True))
_STOCKED = select(StockLevel.sku_id, StockLevel.warehouse_id).where(
    StockLevel.sku_id.in_(bindparam("sku_ids", expanding=True))
)
_LEVELS = (
    select(StockLevel)
    .where(StockLevel.sku_id.in_(bindparam("sku_ids", expanding=True)))
    .execution_options(populate_existing=True)
)


def return_targets(session: Session, lines: Sequence[Restock]) -> list[int | ShopOpsError]:
    """Per line, the warehouse `restock` would put it in, or the error it would refuse it
    with (in its order: quantity, reference, SKU, warehouse); nothing is written."""
    sku_ids = sorted({line.sku_id for line in lines})
    known = catalog_service.get_sellable_skus(session, sku_ids=sku_ids) if sku_ids else {}
    warehouses = list(session.execute(_WAREHOUSES)) if lines else []
    stocked: dict[int, set[int]] = {}
    if sku_ids:
        for sku_id, warehouse_id in session.execute(_STOCKED, {"sku_ids": sku_ids}):
            stocked.setdefault(sku_id, set()).add(warehouse_id)
    out: list[int | ShopOpsError] = []
    for line in lines:
        try:
            check_quantity(line.quantity, sku_id=line.sku_id)
            check_ref(line.ref_type, line.ref_id)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        if line.sku_id not in known:
            out.append(UnknownSku(f"no SKU {line.sku_id}", details={"sku_id": line.sku_id}))
            continue
        here = stocked.get(line.sku_id, set())
        choice = pick_return_warehouse(WarehouseChoice(w, p, w in here) for w, p in warehouses)
        if choice is None:
            out.append(
                NoActiveWarehouse(
                    "no active warehouse to put returned stock in",
                    details={"sku_id": line.sku_id},
                )
            )
            continue
        out.append(choice)
    return out


def _make_upsert(make_insert: Any) -> Any:
    ins = make_insert(StockLevel)
    return ins.on_conflict_do_update(
        index_elements=[StockLevel.sku_id, StockLevel.warehouse_id],
        set_={"on_hand": StockLevel.on_hand + ins.excluded.on_hand},
    )


# on_hand += the rows' quantities, creating missing rows: built once per dialect.
_UPSERT = {"postgresql": _make_upsert(postgresql.insert), "sqlite": _make_upsert(sqlite.insert)}


def restock_many(session: Session, lines: Sequence[tuple[Restock, int]]) -> None:
    """Write `(line, warehouse id)` pairs from `return_targets` (refused lines left out) as
    `restock` on each line in order would: stock rows, movements, `stock.changed` events."""
    _add_on_hand(session, lines, MovementReason.RETURN)


def receive_stock_many(
    session: Session,
    *,
    warehouse_id: int,
    lines: Sequence[tuple[int, int]],
    ref_type: str,
    ref_id: str,
    note: str,
) -> None:
    """`receive_stock` of each (SKU, units) into one warehouse, in order, at the clock's time:
    the same checks (the first refusal raised before anything is written), then one upsert,
    one SELECT, one INSERT of movements and one `emit_many` (a delivery of several SKUs)."""
    if not lines:
        return
    known = catalog_service.get_sellable_skus(session, sku_ids=[s for s, _ in lines])
    for sku_id, quantity in lines:
        check_quantity(quantity, sku_id=sku_id)
        check_ref(ref_type, ref_id, require_id=False)
        check_note(note)
        if sku_id not in known:
            raise UnknownSku(f"no SKU {sku_id}", details={"sku_id": sku_id})
        require_warehouse(session, warehouse_id, active=True)
    at = now(session)
    _add_on_hand(
        session,
        [(Restock(s, q, ref_type, ref_id, at, note), warehouse_id) for s, q in lines],
        MovementReason.RECEIPT,
    )


def _add_on_hand(
    session: Session, lines: Sequence[tuple[Restock, int]], reason: MovementReason
) -> None:
    """on_hand += each line's units in its warehouse, each line a movement and an event."""
    if not lines:
        return
    added: dict[tuple[int, int], int] = {}  # first appearance order: new rows' ids as one by one
    for line, warehouse_id in lines:
        key = (line.sku_id, warehouse_id)
        added[key] = added.get(key, 0) + line.quantity
    session.execute(
        _UPSERT["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"],
        [
            {"sku_id": s, "warehouse_id": w, "on_hand": q, "reserved": 0}
            for (s, w), q in added.items()
        ],
    )
    sku_ids = sorted({s for s, _ in added})
    levels = {
        (lv.sku_id, lv.warehouse_id): lv
        for lv in session.scalars(_LEVELS, {"sku_ids": sku_ids})
        if (lv.sku_id, lv.warehouse_id) in added
    }
    # Each line's on-hand after it: the row's before the batch, plus the lines so far.
    running = {key: levels[key].on_hand - q for key, q in added.items()}
    rows = []
    announced = []
    for line, warehouse_id in lines:
        key = (line.sku_id, warehouse_id)
        running[key] += line.quantity
        rows.append(
            movement_row(
                sku_id=line.sku_id,
                warehouse_id=warehouse_id,
                reason=reason,
                on_hand_delta=line.quantity,
                ref_type=line.ref_type,
                ref_id=line.ref_id,
                note=line.note,
                at=line.at,
            )
        )
        payload = events.stock_changed(
            sku_id=line.sku_id,
            warehouse_id=warehouse_id,
            reason=reason.value,
            on_hand_delta=line.quantity,
            reserved_delta=0,
            on_hand=running[key],
            reserved=levels[key].reserved,
            ref_type=line.ref_type,
            ref_id=line.ref_id,
            at=line.at,
        )
        announced.append((events.AGGREGATE, line.sku_id, payload, line.at))
    session.execute(insert(StockMovement), rows)
    emit_many(session, events.STOCK_CHANGED, announced)  # type: ignore[arg-type]
