"""The values fact builders pass around: events, look-ups, patches, outputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shopops.warehouse.rules import parse_ts, shop_date


@dataclass(frozen=True)
class Event:
    """What the loader needs of an outbox row."""

    id: str
    seq: int
    name: str
    occurred_at: dt.datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class OrderInfo:
    customer_id: int | None
    units: int | None
    placed_date: dt.date | None
    sales_channel: str | None = None


@dataclass(frozen=True)
class LineInfo:
    sku_id: int | None
    product_id: int | None
    unit_cost: int | None
    category_id: int | None = None
    brand_id: int | None = None


@dataclass
class Lookups:
    """Facts about orders, lines and SKUs that later events refer to by id only."""

    orders: dict[int, OrderInfo] = field(default_factory=dict)
    lines: dict[int, LineInfo] = field(default_factory=dict)
    # sku_id → (category_id, brand_id), from the product dimension.
    skus: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Patch:
    """Fields an event sets on one accumulating row (`add`: counters it increments)."""

    key: int
    date: dt.date
    seq: int
    set: dict[str, Any]
    add: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StockChange:
    seq: int
    date: dt.date
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int


@dataclass
class Output:
    appends: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    patches: dict[str, list[Patch]] = field(default_factory=dict)
    stock: list[StockChange] = field(default_factory=list)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.appends.setdefault(table, []).append(row)

    def patch(self, table: str, patch: Patch) -> None:
        self.patches.setdefault(table, []).append(patch)


def event_date(value: Any, event: Event, tz: str) -> dt.date:
    when = parse_ts(value) or event.occurred_at
    day = shop_date(when, tz)
    assert day is not None
    return day
