"""Events of the inventory domain.

`stock.changed`: one event per stock row (SKU × warehouse) a call changes, for every reason
(receipt, reservation, sale, release, return, adjustment), always with the same flat payload:
sku_id, warehouse_id, reason, on_hand_delta, reserved_delta, the resulting on_hand and
reserved, ref_type, ref_id and the time. One shape makes the warehouse's stock facts a plain
append. Outbox rows are written by the unit of work's flush in one batched INSERT, so an event
per row costs no statement per line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

STOCK_CHANGED = "stock.changed"

AGGREGATE = "sku"


def stock_changed(
    *,
    sku_id: int,
    warehouse_id: int,
    reason: str,
    on_hand_delta: int,
    reserved_delta: int,
    on_hand: int,
    reserved: int,
    ref_type: str,
    ref_id: str,
    at: dt.datetime,
) -> dict[str, Any]:
    return {
        "sku_id": sku_id,
        "warehouse_id": warehouse_id,
        "reason": reason,
        "on_hand_delta": on_hand_delta,
        "reserved_delta": reserved_delta,
        "on_hand": on_hand,
        "reserved": reserved,
        "ref_type": ref_type,
        "ref_id": ref_id,
        "occurred_at": at.isoformat(),
    }
