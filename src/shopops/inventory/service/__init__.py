"""Use cases of inventory, the one module that changes stock.

How it stays correct under any concurrency, on SQLite and PostgreSQL alike:

- Every change of a stock row is one atomic UPDATE computed by the database
  (`reserved = reserved + :q WHERE id = :id AND on_hand - reserved >= :q`), never a value read
  by Python and written back, so no update is lost and no check goes stale. The table's check
  constraints (reserved <= on_hand, both >= 0) back this up.
- `reserve` plans from a plain read, then takes each planned row with that conditional UPDATE
  and checks it matched. A miss means another transaction got there first: re-read and re-plan
  what is still missing, a bounded number of times, then `OutOfStock`. A failed call puts back
  what it took before raising, so it is all-or-nothing even if the caller carries on.
- Stock rows are locked in one global order, (sku_id, warehouse_id), by reserve, commit and
  release, so two transactions never wait on each other in a cycle (no deadlocks). A retry that
  needs a row earlier in that order than one it holds does not wait for it: it takes it only if
  nobody holds it (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite runs writers one at a time),
  else counts it as another lost race. Callers changing several SKUs' stock in one transaction
  (restock per returned line) should go in ascending sku_id order too.
- `commit_reservations` / `release_reservations` claim reservations with
  `UPDATE … SET status = … WHERE status = 'active' RETURNING …`: a second or concurrent call
  (a duplicate payment callback) claims nothing and changes nothing.
- Every change is a `StockMovement` ledger row: on_hand == Σ on_hand_delta and
  reserved == Σ reserved_delta == Σ active reservations, per SKU and warehouse.

Statements: a reservation takes each SKU (in lock order) with one conditional UPDATE whose
subquery picks the first warehouse by priority that has stock free, when the whole quantity
fits there (what the plan would allocate anyway); a SKU that does not fit, or a lost race,
goes through the plan: a read, then a conditional UPDATE per planned row. Then an INSERT of
reservations and one of movements (both batched for many lines); `stock.changed` events (see
`inventory.events`) join the unit of work's batched outbox INSERT.
"""

from shopops.inventory.service._common import Page
from shopops.inventory.service.levels import (
    LevelRow,
    StockHealth,
    available,
    list_movements,
    list_stock_levels,
    set_safety_stock,
    stock_health,
)
from shopops.inventory.service.movements import adjust_stock, receive_stock, restock
from shopops.inventory.service.reservations import (
    MAX_ATTEMPTS,
    commit_reservations,
    list_reservations,
    release_reservations,
    reserve,
)
from shopops.inventory.service.warehouses import (
    create_warehouse,
    get_warehouse,
    list_warehouses,
    update_warehouse,
)

__all__ = [
    "MAX_ATTEMPTS",
    "LevelRow",
    "Page",
    "StockHealth",
    "adjust_stock",
    "available",
    "commit_reservations",
    "create_warehouse",
    "get_warehouse",
    "list_movements",
    "list_reservations",
    "list_stock_levels",
    "list_warehouses",
    "receive_stock",
    "release_reservations",
    "reserve",
    "restock",
    "set_safety_stock",
    "stock_health",
    "update_warehouse",
]
