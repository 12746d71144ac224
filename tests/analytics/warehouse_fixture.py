"""A tiny warehouse written by hand (docs/warehouse.md), small enough to count on paper.

Shop time zone Asia/Shanghai (UTC+8). The story, in shop time:
- customer 1 browsed anonymously ('anon-a') on 11-09 before signing in (events before the first
  order), paid order 1001 on 11-10 (paid search) and 1003 on 11-11 (direct), and order 1009
  placed 11-11 23:58 but paid 11-12 00:01, in a session that crosses midnight;
- customer 2 bought last year (order 900), and on 11-11 paid 1004 at the end of a session that
  started 11-10 23:50 (across midnight); its shipping was refunded;
- customer 3 is new: paid 1005 on 11-11 and was refunded in full the same day; also placed
  1006 and cancelled it unpaid;
- customer 4 placed 1007 and never paid; customer 5 paid 1008 on douyin without any tracked
  visit (partly refunded and returned on 11-12); customer 6 bought last year and in October;
- anonymous visitors 'anon-x' (display; also seen in October) and 'anon-y' (feed ads, two
  sessions 40 minutes apart) bounce.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from shopops.analytics.schema import FACTS, FILE_SCHEMAS

TZ = ZoneInfo("Asia/Shanghai")
PAGES = {"page_view", "product_view"}

Row = dict[str, Any]


def at(day: str, hhmm: str) -> dt.datetime:
    """Shop-local `day` (YYYY-MM-DD or MM-DD in 2026) and time, as a UTC instant."""
    if len(day) == 5:
        day = f"2026-{day}"
    local = dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=TZ)
    return local.astimezone(dt.UTC)


def shop_date(ts: dt.datetime) -> dt.date:
    return ts.astimezone(TZ).date()


PRODUCTS: list[Row] = [
    # sku, category, top, brand, role, cost
    {"sku_id": 101, "category": "T恤", "top_category": "服装", "brand": "A", "role": "hit"},
    {"sku_id": 102, "category": "外套", "top_category": "服装", "brand": "B", "role": "profit"},
    {"sku_id": 103, "category": "零食", "top_category": "食品", "brand": "A", "role": "traffic"},
    {"sku_id": 104, "category": "零食", "top_category": "食品", "brand": "C", "role": "profit"},
    {"sku_id": 105, "category": "袜子", "top_category": "服装", "brand": "B", "role": "traffic"},
    {"sku_id": 106, "category": "袜子", "top_category": "服装", "brand": "C", "role": "traffic"},
]
CATEGORY_IDS = {"T恤": 1, "外套": 2, "零食": 3, "袜子": 4}
BRAND_IDS = {"A": 1, "B": 2, "C": 3}

CUSTOMERS: list[Row] = [
    {
        "customer_id": 1,
        "tier": "gold",
        "age_band": "25-34",
        "acquisition_channel": "paid_search",
        "province": "广东",
        "gender": "f",
    },
    {
        "customer_id": 2,
        "tier": "silver",
        "age_band": "35-44",
        "acquisition_channel": "organic_search",
        "province": "浙江",
        "gender": "m",
    },
    {
        "customer_id": 3,
        "tier": "normal",
        "age_band": "18-24",
        "acquisition_channel": "private_domain",
        "province": "江苏",
        "gender": "f",
    },
    {
        "customer_id": 4,
        "tier": "normal",
        "age_band": "25-34",
        "acquisition_channel": "direct",
        "province": "北京",
        "gender": "m",
    },
    {
        "customer_id": 5,
        "tier": "normal",
        "age_band": "45+",
        "acquisition_channel": "paid_search",
        "province": "四川",
        "gender": "f",
    },
    {
        "customer_id": 6,
        "tier": "gold",
        "age_band": "35-44",
        "acquisition_channel": "display",
        "province": "上海",
        "gender": "m",
    },
]

# (event_id, distinct_id, person_id, customer_id, event, day, time, session, channel, device,
#  province, sku_id, order_id)
_EVENTS = [
    (
        "e1",
        "anon-a",
        "1",
        None,
        "page_view",
        "11-09",
        "20:00",
        "s1",
        "organic_search",
        "mobile",
        "广东",
        None,
        None,
    ),
    (
        "e2",
        "anon-a",
        "1",
        None,
        "product_view",
        "11-09",
        "20:05",
        "s1",
        "organic_search",
        "mobile",
        "广东",
        101,
        None,
    ),
    (
        "e3",
        "c1",
        "1",
        1,
        "page_view",
        "11-10",
        "09:50",
        "s2",
        "paid_search",
        "mobile",
        "广东",
        None,
        None,
    ),
    (
        "e4",
        "c1",
        "1",
        1,
        "product_view",
        "11-10",
        "09:55",
        "s2",
        "paid_search",
        "mobile",
        "广东",
        101,
        None,
    ),
    (
        "e5",
        "c1",
        "1",
        1,
        "add_to_cart",
        "11-10",
        "09:58",
        "s2",
        "paid_search",
        "mobile",
        "广东",
        101,
        None,
    ),
    (
        "e6",
        "c1",
        "1",
        1,
        "pay",
        "11-10",
        "10:05",
        "s2",
        "paid_search",
        "mobile",
        "广东",
        None,
        1001,
    ),
    (
        "e7",
        "c1",
        "1",
        1,
        "page_view",
        "11-11",
        "08:50",
        "s3",
        "direct",
        "desktop",
        "广东",
        None,
        None,
    ),
    (
        "e8",
        "c1",
        "1",
        1,
        "product_view",
        "11-11",
        "08:55",
        "s3",
        "direct",
        "desktop",
        "广东",
        102,
        None,
    ),
    (
        "e9",
        "c1",
        "1",
        1,
        "add_to_cart",
        "11-11",
        "08:58",
        "s3",
        "direct",
        "desktop",
        "广东",
        102,
        None,
    ),
    ("e10", "c1", "1", 1, "pay", "11-11", "09:02", "s3", "direct", "desktop", "广东", None, 1003),
    (
        "e11",
        "c1",
        "1",
        1,
        "page_view",
        "11-11",
        "23:50",
        "s4",
        "direct",
        "desktop",
        "广东",
        None,
        None,
    ),
    ("e12", "c1", "1", 1, "pay", "11-12", "00:01", "s4", "direct", "desktop", "广东", None, 1009),
    (
        "e20",
        "c2",
        "2",
        2,
        "search",
        "11-10",
        "23:50",
        "s5",
        "organic_search",
        "mobile",
        "浙江",
        None,
        None,
    ),
    (
        "e21",
        "c2",
        "2",
        2,
        "product_view",
        "11-10",
        "23:55",
        "s5",
        "organic_search",
        "mobile",
        "浙江",
        103,
        None,
    ),
    (
        "e22",
        "c2",
        "2",
        2,
        "add_to_cart",
        "11-11",
        "00:10",
        "s5",
        "organic_search",
        "mobile",
        "浙江",
        103,
        None,
    ),
    (
        "e23",
        "c2",
        "2",
        2,
        "pay",
        "11-11",
        "00:15",
        "s5",
        "organic_search",
        "mobile",
        "浙江",
        None,
        1004,
    ),
    (
        "e24",
        "c2",
        "2",
        2,
        "page_view",
        "2025-11-11",
        "10:00",
        "s6",
        "organic_search",
        "mobile",
        "浙江",
        None,
        None,
    ),
    (
        "e25",
        "c2",
        "2",
        2,
        "pay",
        "2025-11-11",
        "10:05",
        "s6",
        "organic_search",
        "mobile",
        "浙江",
        None,
        900,
    ),
    (
        "e30",
        "anon-x",
        "anon-x",
        None,
        "page_view",
        "10-20",
        "12:00",
        "s7",
        "display",
        "desktop",
        "北京",
        None,
        None,
    ),
    (
        "e31",
        "anon-x",
        "anon-x",
        None,
        "page_view",
        "11-11",
        "12:00",
        "s8",
        "display",
        "desktop",
        "北京",
        None,
        None,
    ),
    (
        "e40",
        "anon-y",
        "anon-y",
        None,
        "page_view",
        "11-11",
        "13:00",
        "s9",
        "feed_ads",
        "mobile",
        "上海",
        None,
        None,
    ),
    (
        "e41",
        "anon-y",
        "anon-y",
        None,
        "product_view",
        "11-11",
        "13:40",
        "s10",
        "feed_ads",
        "mobile",
        "上海",
        105,
        None,
    ),
    (
        "e50",
        "c3",
        "3",
        3,
        "page_view",
        "11-11",
        "13:55",
        "s11",
        "private_domain",
        "mobile",
        "江苏",
        None,
        None,
    ),
    (
        "e51",
        "c3",
        "3",
        3,
        "product_view",
        "11-11",
        "13:57",
        "s11",
        "private_domain",
        "mobile",
        "江苏",
        104,
        None,
    ),
    (
        "e52",
        "c3",
        "3",
        3,
        "add_to_cart",
        "11-11",
        "13:58",
        "s11",
        "private_domain",
        "mobile",
        "江苏",
        104,
        None,
    ),
    (
        "e53",
        "c3",
        "3",
        3,
        "pay",
        "11-11",
        "14:01",
        "s11",
        "private_domain",
        "mobile",
        "江苏",
        None,
        1005,
    ),
    (
        "e54",
        "c3",
        "3",
        3,
        "search",
        "11-11",
        "14:50",
        "s12",
        "private_domain",
        "mobile",
        "江苏",
        None,
        None,
    ),
    (
        "e60",
        "c6",
        "6",
        6,
        "page_view",
        "2025-11-11",
        "09:00",
        "s13",
        "paid_search",
        "desktop",
        "上海",
        None,
        None,
    ),
    (
        "e61",
        "c6",
        "6",
        6,
        "pay",
        "2025-11-11",
        "09:05",
        "s13",
        "paid_search",
        "desktop",
        "上海",
        None,
        901,
    ),
    (
        "e62",
        "c6",
        "6",
        6,
        "page_view",
        "10-15",
        "19:00",
        "s14",
        "referral",
        "desktop",
        "上海",
        None,
        None,
    ),
    (
        "e63",
        "c6",
        "6",
        6,
        "pay",
        "10-15",
        "19:06",
        "s14",
        "referral",
        "desktop",
        "上海",
        None,
        1002,
    ),
]

# Orders: id, customer, sales channel, status, placed (day, time), paid (day, time) or None,
# cancelled (day, time) or None, shipping fee, province, lines [(line, sku, qty, price, cost,
# discount)], coupon discount.
_ORDERS = [
    (
        900,
        2,
        "storefront",
        "completed",
        ("2025-11-11", "10:03"),
        ("2025-11-11", "10:05"),
        None,
        0,
        "浙江",
        [(9001, 101, 1, 5000, 2000, 0)],
        0,
    ),
    (
        901,
        6,
        "storefront",
        "completed",
        ("2025-11-11", "09:03"),
        ("2025-11-11", "09:05"),
        None,
        1000,
        "上海",
        [(9011, 102, 1, 8000, 3000, 0)],
        0,
    ),
    (
        1002,
        6,
        "storefront",
        "completed",
        ("10-15", "19:05"),
        ("10-15", "19:06"),
        None,
        0,
        "上海",
        [(10021, 102, 1, 8000, 3000, 0)],
        0,
    ),
    (
        1001,
        1,
        "storefront",
        "delivered",
        ("11-10", "10:00"),
        ("11-10", "10:05"),
        None,
        1000,
        "广东",
        [(10011, 101, 2, 5000, 2000, 1000)],
        0,
    ),
    (
        1003,
        1,
        "storefront",
        "shipped",
        ("11-11", "09:00"),
        ("11-11", "09:02"),
        None,
        0,
        "广东",
        [(10031, 102, 1, 8000, 3000, 0), (10032, 105, 3, 1000, 400, 0)],
        0,
    ),
    (
        1004,
        2,
        "storefront",
        "delivered",
        ("11-11", "00:12"),
        ("11-11", "00:15"),
        None,
        1000,
        "浙江",
        [(10041, 103, 1, 3000, 1000, 500)],
        500,
    ),
    (
        1005,
        3,
        "storefront",
        "refunded",
        ("11-11", "14:00"),
        ("11-11", "14:01"),
        None,
        0,
        "江苏",
        [(10051, 104, 1, 6000, 2500, 0)],
        0,
    ),
    (
        1006,
        3,
        "storefront",
        "cancelled",
        ("11-11", "15:00"),
        None,
        ("11-11", "15:30"),
        0,
        "江苏",
        [(10061, 103, 1, 2000, 1000, 0)],
        0,
    ),
    (
        1007,
        4,
        "storefront",
        "pending_payment",
        ("11-11", "23:00"),
        None,
        None,
        0,
        "北京",
        [(10071, 102, 1, 4000, 3000, 0)],
        0,
    ),
    (
        1008,
        5,
        "douyin",
        "partially_refunded",
        ("11-11", "12:00"),
        ("11-11", "12:01"),
        None,
        500,
        "四川",
        [(10081, 106, 2, 1500, 500, 0), (10082, 101, 1, 5000, 2000, 0)],
        0,
    ),
    (
        1009,
        1,
        "storefront",
        "paid",
        ("11-11", "23:58"),
        ("11-12", "00:01"),
        None,
        1000,
        "广东",
        [(10091, 103, 1, 3000, 1000, 0)],
        0,
    ),
]

# Payment attempts: id, order, channel, succeeded, (day, time)
_PAYMENTS = [
    (1, 900, "alipay", True, ("2025-11-11", "10:05")),
    (2, 901, "wechat_pay", True, ("2025-11-11", "09:05")),
    (3, 1002, "wechat_pay", True, ("10-15", "19:06")),
    (4, 1001, "wechat_pay", False, ("11-10", "10:03")),
    (5, 1001, "wechat_pay", True, ("11-10", "10:05")),
    (6, 1003, "alipay", True, ("11-11", "09:02")),
    (7, 1004, "wechat_pay", True, ("11-11", "00:15")),
    (8, 1005, "alipay", True, ("11-11", "14:01")),
    (9, 1006, "unionpay", False, ("11-11", "15:10")),
    (10, 1008, "alipay", True, ("11-11", "12:01")),
    (11, 1009, "wechat_pay", True, ("11-12", "00:01")),
]

# Refund rows: id, order, line (None: shipping), sku, qty, amount, cost, (day, time), return id
_REFUNDS = [
    (1, 1005, 10051, 104, 1, 6000, 2500, ("11-11", "20:00"), None),
    (2, 1004, None, None, 0, 1000, 0, ("11-11", "21:00"), None),
    (3, 1008, 10081, 106, 1, 1500, 500, ("11-12", "10:00"), 2),
]

# Shipments: id, order, carrier, direction, units, shipped (day, time), delivered or None
_SHIPMENTS = [
    (1, 1001, "sf", "outbound", 2, ("11-10", "18:00"), ("11-11", "18:00")),
    (2, 1003, "sf", "outbound", 4, ("11-11", "10:00"), ("11-12", "02:00")),
    (3, 1004, "yto", "outbound", 1, ("11-11", "08:00"), ("11-11", "20:00")),
    (4, 1008, "yto", "outbound", 3, ("11-11", "13:00"), ("11-11", "23:30")),
    (5, 1008, "yto", "return", 1, ("11-12", "09:00"), ("11-12", "09:30")),
    (6, 900, "sf", "outbound", 1, ("2025-11-11", "12:00"), ("2025-11-12", "12:00")),
]

# Returns received: id, order, customer, sku, qty, kind, (day, time)
_RETURNS = [
    (1, 1001, 1, 101, 1, "return", ("11-11", "19:00")),
    (2, 1008, 5, 106, 1, "return", ("11-12", "09:40")),
]

# Coupon events: coupon, customer, action, order, (day, time)
_COUPONS = [
    (1, 2, "issued", None, ("11-10", "08:00")),
    (2, 3, "issued", None, ("11-10", "08:00")),
    (3, 1, "issued", None, ("11-11", "08:00")),
    (4, 5, "issued", None, ("11-11", "08:00")),
    (5, 6, "issued", None, ("11-11", "08:00")),
    (1, 2, "redeemed", 1004, ("11-11", "00:12")),
]

# Stock at the end of each day: day → [(sku, on_hand, available, unit_cost, listed)]
_STOCK = {
    "2026-11-10": [
        (101, 10, 8, 2000, True),
        (102, 5, 5, 3000, True),
        (103, 0, 0, 1000, True),
        (104, 3, 3, 2500, True),
        (105, 0, 0, 400, True),
        (106, 7, 7, 500, False),
    ],
    "2026-11-11": [
        (101, 7, 7, 2000, True),
        (102, 4, 4, 3000, True),
        (103, 20, 20, 1000, True),
        (104, 2, 0, 2500, True),
        (105, 9, 9, 400, True),
        (106, 5, 5, 500, True),
    ],
}

# Ad spend: day, channel, spend
_AD_SPEND = [
    ("2026-11-10", "paid_search", 8000),
    ("2026-11-11", "paid_search", 10000),
    ("2026-11-11", "display", 5000),
    ("2026-11-11", "feed_ads", 2000),
    ("2025-11-11", "paid_search", 3000),
]

PRICES = {101: 5000, 102: 8000, 103: 3000, 104: 6000, 105: 1000, 106: 1500}


def build_rows() -> dict[str, list[Row]]:
    """Every table's rows (facts carry their partition `date`)."""
    products = {p["sku_id"]: p for p in PRODUCTS}
    rows: dict[str, list[Row]] = defaultdict(list)
    for p in PRODUCTS:
        rows["dim_product"].append(
            {
                **p,
                "sku_code": f"SKU{p['sku_id']}",
                "product_id": p["sku_id"] * 10,
                "title": f"商品{p['sku_id']}",
                "category_id": CATEGORY_IDS[p["category"]],
                "brand_id": BRAND_IDS[p["brand"]],
                "tier": "mid",
                "list_price": PRICES[p["sku_id"]],
                "status": "listed",
            }
        )
    for c in CUSTOMERS:
        rows["dim_customer"].append({**c, "city": "", "referred_by": None})
    rows["dim_identity"] = [
        {"distinct_id": "anon-a", "person_id": "1"},
        {"distinct_id": "c1", "person_id": "1"},
    ]
    for e in _EVENTS:
        eid, did, pid, cid, name, day, hhmm, sid, ch, dev, prov, sku, order = e
        ts = at(day, hhmm)
        rows["fact_events"].append(
            {
                "event_id": eid,
                "distinct_id": did,
                "person_id": pid,
                "customer_id": cid,
                "event": name,
                "ts_at": ts,
                "session_id": sid,
                "channel": ch,
                "utm_source": "",
                "utm_medium": "",
                "utm_campaign": "",
                "referrer_domain": "",
                "device": dev,
                "os": "ios" if dev == "mobile" else "windows",
                "province": prov,
                "path": "/",
                "sku_id": sku,
                "product_id": sku * 10 if sku else None,
                "search_query": "袜子" if name == "search" else "",
                "order_id": order,
                "amount": None,
                "properties": "{}",
                "date": shop_date(ts),
            }
        )
    by_session: dict[str, list[Row]] = defaultdict(list)
    for e in rows["fact_events"]:
        by_session[e["session_id"]].append(e)
    for sid, evs in sorted(by_session.items()):
        evs.sort(key=lambda e: e["ts_at"])
        first, last = evs[0], evs[-1]
        pages = sum(1 for e in evs if e["event"] in PAGES)
        rows["fact_sessions"].append(
            {
                "session_id": sid,
                "person_id": first["person_id"],
                "started_at": first["ts_at"],
                "ended_at": last["ts_at"],
                "duration_seconds": int((last["ts_at"] - first["ts_at"]).total_seconds()),
                "events": len(evs),
                "page_views": pages,
                "channel": first["channel"],
                "utm_campaign": "",
                "landing_path": "/",
                "exit_path": "/",
                "bounced": len(evs) == 1 and pages == 1,
                "converted": any(e["event"] == "pay" for e in evs),
                "device": first["device"],
                "province": first["province"],
                "date": shop_date(first["ts_at"]),
            }
        )
    refunded_by_order: dict[int, int] = defaultdict(int)
    for r in _REFUNDS:
        refunded_by_order[r[1]] += r[5]
    for o in _ORDERS:
        oid, cust, sales, status, placed, paid, cancelled, ship, prov, lines, coupon = o
        placed_at = at(*placed)
        paid_at = at(*paid) if paid else None
        line_rows = []
        for line_id, sku, qty, price, cost, discount in lines:
            p = products[sku]
            line_rows.append(
                {
                    "order_id": oid,
                    "line_id": line_id,
                    "customer_id": cust,
                    "sku_id": sku,
                    "product_id": sku * 10,
                    "category_id": CATEGORY_IDS[p["category"]],
                    "brand_id": BRAND_IDS[p["brand"]],
                    "quantity": qty,
                    "unit_price": price,
                    "unit_cost": cost,
                    "subtotal": qty * price,
                    "discount": discount,
                    "total": qty * price - discount,
                    "paid_at": paid_at,
                    "sales_channel": sales,
                    "date": shop_date(paid_at) if paid_at else None,
                }
            )
        subtotal = sum(li["subtotal"] for li in line_rows)
        discount = sum(li["discount"] for li in line_rows)
        total = subtotal - discount + ship
        rows["fact_orders"].append(
            {
                "event_id": f"o{oid}",
                "order_id": oid,
                "number": f"N{oid}",
                "customer_id": cust,
                "sales_channel": sales,
                "status": status,
                "placed_at": placed_at,
                "paid_at": paid_at,
                "paid_date": shop_date(paid_at) if paid_at else None,
                "cancelled_at": at(*cancelled) if cancelled else None,
                "shipped_at": None,
                "delivered_at": None,
                "completed_at": None,
                "items_subtotal": subtotal,
                "discount_total": discount,
                "shipping_fee": ship,
                "total": total,
                "paid_amount": total if paid_at else 0,
                "refunded_amount": refunded_by_order[oid],
                "units": sum(li["quantity"] for li in line_rows),
                "province": prov,
                "city": "",
                "campaign_id": None,
                "coupon_discount": coupon,
                "date": shop_date(placed_at),
            }
        )
        if paid_at:
            for li in line_rows:
                rows["fact_order_lines"].append({"event_id": f"l{li['line_id']}", **li})
    customer_of = {o[0]: o[1] for o in _ORDERS}
    for pid, oid, channel, ok, when in _PAYMENTS:
        ts = at(*when)
        rows["fact_payments"].append(
            {
                "event_id": f"p{pid}",
                "payment_id": pid,
                "order_id": oid,
                "customer_id": customer_of[oid],
                "pay_channel": channel,
                "amount": 0,
                "succeeded": ok,
                "failure_code": "" if ok else "declined",
                "attempted_at": ts,
                "date": shop_date(ts),
            }
        )
    for rid, oid, line, sku, qty, amount, cost, when, ret in _REFUNDS:
        ts = at(*when)
        rows["fact_refunds"].append(
            {
                "event_id": f"r{rid}",
                "refund_id": rid,
                "order_id": oid,
                "customer_id": customer_of[oid],
                "line_id": line,
                "sku_id": sku,
                "quantity": qty,
                "amount": amount,
                "cost": cost,
                "kind": "order",
                "return_id": ret,
                "refunded_at": ts,
                "date": shop_date(ts),
            }
        )
    for sid, oid, carrier, direction, units, shipped, delivered in _SHIPMENTS:
        ts = at(*shipped)
        rows["fact_shipments"].append(
            {
                "event_id": f"s{sid}",
                "shipment_id": sid,
                "order_id": oid,
                "carrier": carrier,
                "direction": direction,
                "province": "广东",
                "units": units,
                "fee": 800,
                "shipped_at": ts,
                "delivered_at": at(*delivered) if delivered else None,
                "exceptions": 0,
                "date": shop_date(ts),
            }
        )
    for rid, oid, cust, sku, qty, kind, when in _RETURNS:
        ts = at(*when)
        rows["fact_returns"].append(
            {
                "event_id": f"ret{rid}",
                "return_id": rid,
                "order_id": oid,
                "customer_id": cust,
                "sku_id": sku,
                "quantity": qty,
                "kind": kind,
                "reason": "no_reason",
                "received_at": ts,
                "date": shop_date(ts),
            }
        )
    for i, (cid, cust, action, oid, when) in enumerate(_COUPONS):
        ts = at(*when)
        rows["fact_coupons"].append(
            {
                "event_id": f"c{i}",
                "coupon_id": cid,
                "customer_id": cust,
                "promotion_id": 1,
                "campaign_id": None,
                "action": action,
                "order_id": oid,
                "amount": 500 if action == "redeemed" else 0,
                "ts_at": ts,
                "date": shop_date(ts),
            }
        )
    for day, stock in _STOCK.items():
        for sku, on_hand, available, cost, listed in stock:
            rows["fact_stock_daily"].append(
                {
                    "sku_id": sku,
                    "on_hand": on_hand,
                    "reserved": on_hand - available,
                    "available": available,
                    "unit_cost": cost,
                    "listed": listed,
                    "date": dt.date.fromisoformat(day),
                }
            )
    for day, channel, spend in _AD_SPEND:
        rows["fact_ad_spend"].append(
            {
                "channel": channel,
                "campaign_id": None,
                "spend": spend,
                "impressions": spend // 10,
                "clicks": spend // 100,
                "date": dt.date.fromisoformat(day),
            }
        )
    return dict(rows)


def write_warehouse(root: Path, rows: dict[str, list[Row]] | None = None) -> dict[str, list[Row]]:
    """Write `rows` (default: `build_rows()`) as the warehouse under `root`: facts Hive-
    partitioned by `date`, dimensions as one file. Returns the rows."""
    rows = build_rows() if rows is None else rows
    for table, table_rows in rows.items():
        schema = FILE_SCHEMAS[table]
        if table in FACTS:
            by_day: dict[dt.date, list[Row]] = defaultdict(list)
            for r in table_rows:
                by_day[r["date"]].append(r)
            for day, day_rows in by_day.items():
                _write(
                    root / table / f"date={day.isoformat()}" / "part-0.parquet", schema, day_rows
                )
        else:
            _write(root / table / "part-0.parquet", schema, table_rows)
    return rows


def _write(path: Path, schema: pa.Schema, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {name: [r.get(name) for r in rows] for name in schema.names}
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), path)
