"""Accumulating snapshots (`fact_orders`, `fact_shipments`, `fact_reviews`): the fields each
event sets on its row, applied only when the event is newer than the row (`updated_seq`).
Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopops.warehouse.model import Event, Lookups, Patch, event_date
from shopops.warehouse.rules import parse_ts, shop_date

# --- accumulating snapshots --------------------------------------------------------------------


def _order_header(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "order_id": p["order_id"],
        "number": p.get("number"),
        "customer_id": p.get("customer_id"),
        "sales_channel": p.get("channel"),
        "status": p.get("status"),
        "placed_at": parse_ts(p.get("placed_at")),
        "items_subtotal": p.get("items_subtotal"),
        "discount_total": p.get("discount_total"),
        "shipping_fee": p.get("shipping_fee"),
        "total": p.get("total"),
        "paid_amount": p.get("paid_amount"),
        "refunded_amount": p.get("refunded_amount"),
    }


def order_patch(event: Event, tz: str) -> Patch:
    """An `order.*` event → the fields it sets on the order's `fact_orders` row."""
    p = event.payload
    fields = _order_header(p)
    if event.name == "order.created":
        region = p.get("region") or {}
        lines = p.get("lines") or []
        fields.update(
            event_id=event.id,
            units=sum(int(line["quantity"]) for line in lines),
            province=region.get("province", ""),
            city=region.get("city", ""),
            coupon_discount=sum(
                int(d["amount"]) for d in p.get("discounts") or () if d.get("source") == "coupon"
            ),
        )
    if p.get("paid_at"):
        paid_at = parse_ts(p["paid_at"])
        fields.update(paid_at=paid_at, paid_date=shop_date(paid_at, tz))
    for stamp in ("cancelled_at", "shipped_at", "delivered_at", "completed_at"):
        if p.get(stamp):
            fields[stamp] = parse_ts(p[stamp])
    return Patch(int(p["order_id"]), event_date(p.get("placed_at"), event, tz), event.seq, fields)


def promotion_order_patch(event: Event, tz: str) -> Patch | None:
    """`promotion.applied` → the campaign the order's promotions ran under (the first one)."""
    p = event.payload
    campaigns = [a["campaign_id"] for a in p.get("applications") or () if a.get("campaign_id")]
    if not campaigns:
        return None
    return Patch(
        int(p["order_id"]),
        event_date(p.get("placed_at"), event, tz),
        event.seq,
        {"order_id": p["order_id"], "campaign_id": campaigns[0]},
    )


DIRECTIONS = {"forward": "outbound", "return": "return"}


def shipment_patch(event: Event, lookups: Lookups, tz: str) -> Patch:
    """A `shipment.*` event → its `fact_shipments` row's fields (exceptions are counted)."""
    p = event.payload
    direction = DIRECTIONS.get(str(p.get("direction")), str(p.get("direction")))
    fields: dict[str, Any] = {
        "shipment_id": p["shipment_id"],
        "order_id": p.get("order_id"),
        "carrier": p.get("carrier"),
        "direction": direction,
        "province": p.get("region", ""),
        "fee": p.get("fee"),
        "shipped_at": parse_ts(p.get("shipped_at")) or event.occurred_at,
    }
    add: dict[str, int] = {}
    if event.name == "shipment.created":
        info = lookups.orders.get(int(p["order_id"]))
        # A return parcel's units are the return's, not the order's: unknown here.
        units = info.units if info is not None and direction == "outbound" else None
        fields.update(event_id=event.id, units=units, exceptions=0)
    elif event.name == "shipment.delivered":
        fields.update(
            delivered_at=parse_ts(p.get("delivered_at")) or event.occurred_at,
            exceptions=int(p.get("exception_count") or 0),
        )
    elif event.name == "shipment.exception":
        add["exceptions"] = 1
    return Patch(
        int(p["shipment_id"]), event_date(p.get("shipped_at"), event, tz), event.seq, fields, add
    )


REVIEW_EVENTS = frozenset(
    {"review.submitted", "review.published", "review.rejected", "review.followed_up"}
)


def review_patch(event: Event, tz: str) -> Patch:
    """A `review.*` event → its `fact_reviews` row's fields, in the partition of the day it
    was submitted (every event carries `created_at`); the latest event's status wins."""
    p = event.payload
    submitted = parse_ts(p.get("created_at")) or event.occurred_at
    photos = int(p.get("photo_count") or 0)
    fields: dict[str, Any] = {
        "review_id": p["review_id"],
        "order_id": p.get("order_id"),
        "line_id": p.get("order_line_id"),
        "customer_id": p.get("customer_id"),
        "product_id": p.get("product_id"),
        "sku_id": p.get("sku_id"),
        "rating": p.get("rating"),
        "photo_count": photos,
        "has_photos": photos > 0,
        "status": p.get("status"),
        "submitted_at": submitted,
    }
    if event.name == "review.submitted":
        fields.update(event_id=event.id, followed_up=False)
    elif event.name == "review.published":
        fields["published_at"] = event.occurred_at
    elif event.name == "review.followed_up":
        fields.update(
            followed_up=True,
            followed_up_at=parse_ts(p.get("followed_up_at")) or event.occurred_at,
        )
    day = shop_date(submitted, tz)
    assert day is not None
    return Patch(int(p["review_id"]), day, event.seq, fields)


def apply_patches(
    rows: dict[int, dict[str, Any]], patches: list[Patch], key: str
) -> dict[int, dict[str, Any]]:
    """Apply patches (in seq order) to rows keyed by entity id; an event not newer than the
    row's `updated_seq` changes nothing, so replays are harmless. Returns the rows changed."""
    changed: dict[int, dict[str, Any]] = {}
    for patch in sorted(patches, key=lambda x: x.seq):
        row = rows.get(patch.key)
        if row is None:
            row = rows[patch.key] = {key: patch.key, "updated_seq": 0}
        if patch.seq <= (row.get("updated_seq") or 0):
            continue
        row.update(patch.set)
        for name, delta in patch.add.items():
            row[name] = (row.get(name) or 0) + delta
        row["updated_seq"] = patch.seq
        changed[patch.key] = row
    return changed
