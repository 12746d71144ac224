"""Pure inventory rules: merging order lines, allocating a line over warehouses, stock checks.

Allocation fills a line from the warehouse with the lowest `priority` first (ties: lower
warehouse id), then the next, splitting the line when one warehouse cannot fill it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Largest quantity in one receipt, adjustment or reservation line: beyond it, input is a typo.
MAX_QUANTITY = 1_000_000


class BadQuantity(ValueError):
    def __init__(self, sku_id: int, quantity: int, limit: int) -> None:
        super().__init__(f"quantity {quantity} of SKU {sku_id} is not within 1..{limit}")
        self.sku_id = sku_id
        self.quantity = quantity
        self.limit = limit


def merge_lines(
    items: Iterable[tuple[int, int]], *, limit: int = MAX_QUANTITY
) -> list[tuple[int, int]]:
    """(sku_id, quantity) lines with duplicates summed, sorted by sku_id (the lock order).

    Summing matters: two lines of one SKU must be checked against its stock together.
    """
    merged: dict[int, int] = {}
    for sku_id, quantity in items:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= limit:
            raise BadQuantity(sku_id, quantity, limit)
        merged[sku_id] = merged.get(sku_id, 0) + quantity
    for sku_id, quantity in merged.items():
        if quantity > limit:
            raise BadQuantity(sku_id, quantity, limit)
    return sorted(merged.items())


@dataclass(frozen=True, slots=True)
class LevelView:
    """A stock row as allocation sees it."""

    level_id: int
    sku_id: int
    warehouse_id: int
    priority: int
    available: int

    @property
    def lock_key(self) -> tuple[int, int]:
        """The global order in which stock rows are locked (sku, then warehouse)."""
        return (self.sku_id, self.warehouse_id)


@dataclass(frozen=True, slots=True)
class Allocation:
    level: LevelView
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku_id: int
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Allocations in lock order, or the shortages that make the request impossible."""

    allocations: list[Allocation]
    shortages: list[Shortage]

    @property
    def ok(self) -> bool:
        return not self.shortages


def allocate_line(quantity: int, levels: Iterable[LevelView]) -> tuple[list[Allocation], int]:
    """Fill `quantity` by warehouse priority; returns the allocations and what is left unfilled."""
    left = quantity
    out = []
    for level in sorted(levels, key=lambda lv: (lv.priority, lv.warehouse_id)):
        if left == 0:
            break
        take = min(left, max(level.available, 0))
        if take > 0:
            out.append(Allocation(level, take))
            left -= take
    return out, left


def plan_reservation(needed: Mapping[int, int], levels: Sequence[LevelView]) -> Plan:
    """Allocate each SKU's needed quantity over its levels; all lines or shortages.

    Allocations come back sorted by lock key, so every caller locks rows in one global order
    and concurrent multi-SKU reservations cannot deadlock.
    """
    by_sku: dict[int, list[LevelView]] = {}
    for level in levels:
        by_sku.setdefault(level.sku_id, []).append(level)
    allocations: list[Allocation] = []
    shortages = []
    for sku_id, quantity in sorted(needed.items()):
        if quantity <= 0:
            continue
        got, left = allocate_line(quantity, by_sku.get(sku_id, ()))
        if left:
            have = sum(max(lv.available, 0) for lv in by_sku.get(sku_id, ()))
            shortages.append(Shortage(sku_id, quantity, have))
        allocations.extend(got)
    if shortages:
        return Plan([], shortages)
    return Plan(sorted(allocations, key=lambda a: a.level.lock_key), [])


def adjustment_problem(on_hand: int, reserved: int, delta: int) -> str | None:
    """Why on_hand + delta is not allowed: 'negative_stock', 'stock_below_reserved', or None."""
    after = on_hand + delta
    if after < 0:
        return "negative_stock"
    if after < reserved:
        return "stock_below_reserved"
    return None


def below_safety(available: int, safety_stock: int) -> bool:
    """Available stock is under the SKU's safety-stock warning line (安全库存)."""
    return available < safety_stock


@dataclass(frozen=True, slots=True)
class WarehouseChoice:
    warehouse_id: int
    priority: int
    stocks_sku: bool


def pick_return_warehouse(choices: Iterable[WarehouseChoice]) -> int | None:
    """Where returned units go when the caller names no warehouse: a warehouse that already
    stocks the SKU, highest priority (lowest number) first; else any, by priority."""
    best = min(choices, key=lambda c: (not c.stocks_sku, c.priority, c.warehouse_id), default=None)
    return best.warehouse_id if best else None
