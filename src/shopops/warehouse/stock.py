"""Daily stock facts by replaying the stock ledger (`stock.changed` events).

Every `stock.changed` carries its deltas (on hand, reserved) and its time, so the stock of a
SKU at the end of shop day D is the sum of the deltas dated up to D. The loader keeps no
ledger of its own: `fact_stock_daily` already holds the end-of-day levels of the days loaded so
far, so new events dated D add their deltas to D and every later day, and a day between two
loaded days (or after the last one, up to today) carries the previous day's levels forward.
This is right even when events do not arrive in time order (a simulator replaying history).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shopops.warehouse.facts import Event
from shopops.warehouse.rules import date_range, parse_ts, shop_date

# Carry the last day's stock forward to today only if the ledger is this recent: a simulated
# store from last year should not grow a year of identical snapshots.
CARRY_FORWARD_DAYS = 31

Levels = dict[int, tuple[int, int]]  # sku_id → (on_hand, reserved)


def deltas(events: Iterable[Event], tz: str) -> dict[dt.date, dict[int, tuple[int, int]]]:
    """Net (on_hand, reserved) change per shop day and SKU."""
    out: dict[dt.date, dict[int, tuple[int, int]]] = defaultdict(dict)
    for e in events:
        p = e.payload
        when = parse_ts(p.get("occurred_at")) or e.occurred_at
        day = shop_date(when, tz)
        assert day is not None
        sku = int(p["sku_id"])
        on_hand, reserved = out[day].get(sku, (0, 0))
        out[day][sku] = (
            on_hand + int(p.get("on_hand_delta") or 0),
            reserved + int(p.get("reserved_delta") or 0),
        )
    return dict(out)


def days_to_write(
    written: list[dt.date], changed: Iterable[dt.date], today: dt.date
) -> list[dt.date]:
    """The days whose partitions change: from the earliest changed day (or the day after the
    last written one) through the last known day, and on to today when it is recent."""
    changed = sorted(changed)
    known = [*written[-1:], *changed[-1:]]
    if not known:
        return []
    end = max(known)
    if end < today <= end + dt.timedelta(days=CARRY_FORWARD_DAYS):
        end = today
    starts = [*changed[:1]]
    if written and written[-1] < end:
        starts.append(written[-1] + dt.timedelta(days=1))
    if not starts:
        return []
    return list(date_range(min(starts), end))


def rebuild(
    days: list[dt.date],
    written: list[dt.date],
    read_day: Callable[[dt.date], Levels],
    changes: Mapping[dt.date, Mapping[int, tuple[int, int]]],
    skus: Mapping[int, tuple[int, bool]],
) -> dict[dt.date, list[dict[str, Any]]]:
    """New rows of each day in `days` (consecutive, from the earliest change): the day's old
    levels (its old partition, else the last written day before it, else nothing) plus every
    new change dated up to the day."""
    if not days:
        return {}
    old_days = set(written)
    before = [d for d in written if d < days[0]]
    carry: Levels = dict(read_day(before[-1])) if before else {}
    cumulative: dict[int, tuple[int, int]] = {}
    out: dict[dt.date, list[dict[str, Any]]] = {}
    for day in days:
        for sku, (dh, dr) in changes.get(day, {}).items():
            h, r = cumulative.get(sku, (0, 0))
            cumulative[sku] = (h + dh, r + dr)
        if day in old_days:
            carry = dict(read_day(day))
        rows = []
        for sku in sorted({*carry, *cumulative}):
            h0, r0 = carry.get(sku, (0, 0))
            dh, dr = cumulative.get(sku, (0, 0))
            cost, listed = skus.get(sku, (None, False))
            rows.append(
                {
                    "sku_id": sku,
                    "on_hand": h0 + dh,
                    "reserved": r0 + dr,
                    "available": h0 + dh - r0 - dr,
                    "unit_cost": cost,
                    "listed": listed,
                }
            )
        out[day] = rows
    return out
