"""The warehouse contract as Arrow schemas: every table's columns and types (docs/warehouse.md).

Facts are stored Hive-partitioned by `date` (the partition column is in the folder name, not
in the files); dimensions are single files that carry all their columns.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
I64 = pa.int64()
STR = pa.string()
DATE = pa.date32()
BOOL = pa.bool_()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


# Accumulating snapshots keep `updated_seq`: the outbox seq of the last event applied to the
# row, so a replayed or older event never moves a row backwards.
FACTS: dict[str, pa.Schema] = {
    "fact_orders": _schema(
        ("event_id", STR),
        ("order_id", I64),
        ("number", STR),
        ("customer_id", I64),
        ("sales_channel", STR),
        ("status", STR),
        ("placed_at", TS),
        ("paid_at", TS),
        ("paid_date", DATE),
        ("cancelled_at", TS),
        ("shipped_at", TS),
        ("delivered_at", TS),
        ("completed_at", TS),
        ("items_subtotal", I64),
        ("discount_total", I64),
        ("shipping_fee", I64),
        ("total", I64),
        ("paid_amount", I64),
        ("refunded_amount", I64),
        ("units", I64),
        ("province", STR),
        ("city", STR),
        ("campaign_id", I64),
        ("coupon_discount", I64),
        ("updated_seq", I64),
    ),
    "fact_order_lines": _schema(
        ("event_id", STR),
        ("order_id", I64),
        ("line_id", I64),
        ("customer_id", I64),
        ("sku_id", I64),
        ("product_id", I64),
        ("category_id", I64),
        ("brand_id", I64),
        ("quantity", I64),
        ("unit_price", I64),
        ("unit_cost", I64),
        ("subtotal", I64),
        ("discount", I64),
        ("total", I64),
        ("paid_at", TS),
        ("sales_channel", STR),
    ),
    "fact_payments": _schema(
        ("event_id", STR),
        ("payment_id", I64),
        ("order_id", I64),
        ("customer_id", I64),
        ("pay_channel", STR),
        ("amount", I64),
        ("succeeded", BOOL),
        ("failure_code", STR),
        ("attempted_at", TS),
    ),
    "fact_refunds": _schema(
        ("event_id", STR),
        ("refund_id", I64),
        ("order_id", I64),
        ("customer_id", I64),
        ("line_id", I64),
        ("sku_id", I64),
        ("quantity", I64),
        ("amount", I64),
        ("cost", I64),
        ("kind", STR),
        ("return_id", I64),
        ("refunded_at", TS),
    ),
    "fact_shipments": _schema(
        ("event_id", STR),
        ("shipment_id", I64),
        ("order_id", I64),
        ("carrier", STR),
        ("direction", STR),
        ("province", STR),
        ("units", I64),
        ("fee", I64),
        ("shipped_at", TS),
        ("delivered_at", TS),
        ("exceptions", I64),
        ("updated_seq", I64),
    ),
    "fact_returns": _schema(
        ("event_id", STR),
        ("return_id", I64),
        ("order_id", I64),
        ("customer_id", I64),
        ("line_id", I64),
        ("sku_id", I64),
        ("quantity", I64),
        ("kind", STR),
        ("reason", STR),
        ("received_at", TS),
    ),
    "fact_reviews": _schema(
        ("event_id", STR),
        ("review_id", I64),
        ("order_id", I64),
        ("line_id", I64),
        ("customer_id", I64),
        ("product_id", I64),
        ("sku_id", I64),
        ("rating", I64),
        ("photo_count", I64),
        ("has_photos", BOOL),
        ("followed_up", BOOL),
        ("followed_up_at", TS),
        ("status", STR),
        ("submitted_at", TS),
        ("published_at", TS),
        ("updated_seq", I64),
    ),
    "fact_coupons": _schema(
        ("event_id", STR),
        ("coupon_id", I64),
        ("customer_id", I64),
        ("promotion_id", I64),
        ("campaign_id", I64),
        ("action", STR),
        ("order_id", I64),
        ("amount", I64),
        ("ts_at", TS),
    ),
    "fact_promotions": _schema(
        ("event_id", STR),
        ("order_id", I64),
        ("customer_id", I64),
        ("promotion_id", I64),
        ("campaign_id", I64),
        ("phase", STR),
        ("kind", STR),
        ("coupon_id", I64),
        ("amount", I64),
        ("shipping_amount", I64),
        ("cashback", I64),
        ("ts_at", TS),
    ),
    "fact_stock_daily": _schema(
        ("sku_id", I64),
        ("on_hand", I64),
        ("reserved", I64),
        ("available", I64),
        ("unit_cost", I64),
        ("listed", BOOL),
    ),
    "fact_ad_spend": _schema(
        ("channel", STR),
        ("campaign_id", I64),
        ("spend", I64),
        ("impressions", I64),
        ("clicks", I64),
    ),
}

DIMENSIONS: dict[str, pa.Schema] = {
    "dim_date": _schema(
        ("date", DATE),
        ("year", I64),
        ("quarter", I64),
        ("month", I64),
        ("iso_week", I64),
        ("weekday", I64),
        ("is_weekend", BOOL),
        ("festival", STR),
    ),
    "dim_product": _schema(
        ("sku_id", I64),
        ("sku_code", STR),
        ("product_id", I64),
        ("title", STR),
        ("category_id", I64),
        ("category", STR),
        ("top_category", STR),
        ("brand_id", I64),
        ("brand", STR),
        ("role", STR),
        ("tier", STR),
        ("list_price", I64),
        ("cost", I64),
        ("status", STR),
    ),
    "dim_customer": _schema(
        ("customer_id", I64),
        ("registered_at", TS),
        ("registered_date", DATE),
        ("province", STR),
        ("city", STR),
        ("gender", STR),
        ("age_band", STR),
        ("acquisition_channel", STR),
        ("tier", STR),
        ("referred_by", I64),
    ),
    "dim_channel": _schema(
        ("channel", STR),
        ("name_zh", STR),
        ("name_en", STR),
        ("kind", STR),
    ),
    "dim_campaign": _schema(
        ("campaign_id", I64),
        ("name", STR),
        ("kind", STR),
        ("starts_at", TS),
        ("ends_at", TS),
        ("budget", I64),
        ("warmup_starts_at", TS),
        ("peak_starts_at", TS),
        ("wrapup_starts_at", TS),
    ),
}


# Behaviour tables, written by the tracking domain (`tracking.facts.build_event_facts`).
BEHAVIOUR_FACTS: dict[str, pa.Schema] = {
    "fact_events": _schema(
        ("event_id", STR),
        ("distinct_id", STR),
        ("person_id", STR),
        ("customer_id", I64),
        ("event", STR),
        ("ts_at", TS),
        ("session_id", STR),
        ("channel", STR),
        ("utm_source", STR),
        ("utm_medium", STR),
        ("utm_campaign", STR),
        ("referrer_domain", STR),
        ("device", STR),
        ("os", STR),
        ("province", STR),
        ("path", STR),
        ("sku_id", I64),
        ("product_id", I64),
        ("search_query", STR),
        ("order_id", I64),
        ("amount", I64),
        ("properties", STR),
    ),
    "fact_sessions": _schema(
        ("session_id", STR),
        ("person_id", STR),
        ("started_at", TS),
        ("ended_at", TS),
        ("duration_seconds", I64),
        ("events", I64),
        ("page_views", I64),
        ("channel", STR),
        ("utm_campaign", STR),
        ("landing_path", STR),
        ("exit_path", STR),
        ("bounced", BOOL),
        ("converted", BOOL),
        ("device", STR),
        ("province", STR),
    ),
}
BEHAVIOUR_DIMENSIONS: dict[str, pa.Schema] = {
    "dim_identity": _schema(
        ("distinct_id", STR),
        ("person_id", STR),
    ),
}


# Facts built from outbox events, keyed for de-duplication: append facts by event id, the
# accumulating snapshots by their entity id.
EVENT_FACTS = (
    "fact_orders",
    "fact_order_lines",
    "fact_payments",
    "fact_refunds",
    "fact_shipments",
    "fact_returns",
    "fact_reviews",
    "fact_coupons",
    "fact_promotions",
)
ACCUMULATING: dict[str, str] = {
    "fact_orders": "order_id",
    "fact_shipments": "shipment_id",
    "fact_reviews": "review_id",
}

# Tables this package writes (W-track's fact_events, fact_sessions, dim_identity are not here).
SCHEMAS: dict[str, pa.Schema] = {**FACTS, **DIMENSIONS}


def empty(table: str) -> pa.Table:
    return SCHEMAS[table].empty_table()


def to_table(table: str, rows: list[dict[str, object]]) -> pa.Table:
    """Rows (dicts, missing keys null) as an Arrow table of the contract's schema."""
    schema = SCHEMAS[table]
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
