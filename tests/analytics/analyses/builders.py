"""Builders of small hand-written warehouses (Parquet per the contract, docs/warehouse.md)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from shopops.analytics.analyses._common import contract_schemas

SHOP_TZ = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
_ids = itertools.count(1)


def at(day: str, hh: int = 10, mm: int = 0, ss: int = 0) -> dt.datetime:
    """A UTC instant on a shop day (10:00 UTC is 18:00 in Shanghai: the same date)."""
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=UTC)


def shop_date(ts: dt.datetime) -> dt.date:
    return ts.astimezone(SHOP_TZ).date()


def ev(person: str, event: str, ts: dt.datetime, **kw: Any) -> dict[str, Any]:
    """A fact_events row with sensible defaults."""
    row: dict[str, Any] = {
        "event_id": f"e{next(_ids)}",
        "distinct_id": person,
        "person_id": person,
        "customer_id": None,
        "event": event,
        "ts_at": ts,
        "session_id": kw.pop("session_id", f"{person}-s"),
        "channel": "direct",
        "device": "mobile",
        "province": "浙江",
        "path": "",
        "properties": "{}",
        "date": shop_date(ts),
    }
    row.update(kw)
    return row


def order(
    order_id: int,
    customer_id: int,
    paid: dt.datetime | None,
    amount: int,
    *,
    campaign_id: int | None = None,
    placed: dt.datetime | None = None,
) -> dict[str, Any]:
    """A fact_orders row: placed (and paid when `paid` is given) for `amount` fen."""
    placed = placed or paid
    assert placed is not None
    return {
        "event_id": f"o{order_id}",
        "order_id": order_id,
        "number": f"N{order_id}",
        "customer_id": customer_id,
        "sales_channel": "storefront",
        "status": "paid" if paid else "pending_payment",
        "placed_at": placed,
        "paid_at": paid,
        "paid_date": shop_date(paid) if paid else None,
        "total": amount,
        "paid_amount": amount if paid else 0,
        "refunded_amount": 0,
        "units": 1,
        "campaign_id": campaign_id,
        "date": shop_date(placed),
    }


def line(order_id: int, product_id: int, paid: dt.datetime, *, customer_id: int = 1) -> dict:
    return {
        "event_id": f"l{order_id}-{product_id}",
        "order_id": order_id,
        "line_id": order_id * 100 + product_id,
        "customer_id": customer_id,
        "sku_id": product_id * 10,
        "product_id": product_id,
        "category_id": product_id % 3,
        "quantity": 1,
        "unit_price": 100,
        "total": 100,
        "paid_at": paid,
        "date": shop_date(paid),
    }


def customer(cid: int, registered: str, **kw: Any) -> dict[str, Any]:
    ts = at(registered)
    row = {
        "customer_id": cid,
        "registered_at": ts,
        "registered_date": shop_date(ts),
        "acquisition_channel": "direct",
        "referred_by": None,
    }
    row.update(kw)
    return row


def write_table(root: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """Rows as the contract table `name`: facts Hive-partitioned by `date`, dims one file."""
    schema = contract_schemas()[name]
    folder = root / name
    if name.startswith("dim_") or "date" not in schema.names:
        folder.mkdir(parents=True, exist_ok=True)
        cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
        pq.write_table(pa.Table.from_pydict(cols, schema=schema), folder / "part-0.parquet")
        return
    stored = pa.schema([f for f in schema if f.name != "date"])
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_day[r["date"]].append(r)
    for day, day_rows in by_day.items():
        part = folder / f"date={day.isoformat()}"
        part.mkdir(parents=True, exist_ok=True)
        cols = {f.name: [r.get(f.name) for r in day_rows] for f in stored}
        pq.write_table(pa.Table.from_pydict(cols, schema=stored), part / "part-0.parquet")
