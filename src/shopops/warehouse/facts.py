"""Pure fact builders: one outbox event (name, payload) → the fact rows it adds or changes.

No I/O. Append facts (lines, payments, refunds, returns, coupons, promotions) get new rows that
carry the event's id; the accumulating snapshots (orders, shipments, reviews) get a `Patch`:
the fields an event sets on its row, applied only if the event is newer than the row
(`updated_seq`).
What a payload lacks (an order's customer on a payment, a line's cost on a refund) comes from
`Lookups`, which the loader fills from earlier events and from the warehouse itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopops.warehouse.model import (  # noqa: F401  (re-exported)
    Event,
    LineInfo,
    Lookups,
    OrderInfo,
    Output,
    Patch,
    StockChange,
    event_date,
)
from shopops.warehouse.rules import parse_ts, shop_date
from shopops.warehouse.snapshots import (  # noqa: F401  (re-exported)
    REVIEW_EVENTS,
    apply_patches,
    order_patch,
    promotion_order_patch,
    review_patch,
    shipment_patch,
)

# --- lookups -----------------------------------------------------------------------------------


def absorb(event: Event, lookups: Lookups, tz: str) -> None:
    """Remember what later events of the same order will need (customer, units, line costs)."""
    p = event.payload
    if event.name != "order.created":
        return
    lines = p.get("lines") or []
    lookups.orders[int(p["order_id"])] = OrderInfo(
        customer_id=p.get("customer_id"),
        units=sum(int(line["quantity"]) for line in lines),
        placed_date=event_date(p.get("placed_at"), event, tz),
        sales_channel=p.get("channel"),
    )
    for line in lines:
        lookups.lines[int(line["line_id"])] = LineInfo(
            sku_id=line.get("sku_id"),
            product_id=line.get("product_id"),
            unit_cost=line.get("unit_cost"),
            category_id=line.get("category_id"),
            brand_id=line.get("brand_id"),
        )


def referenced(event: Event) -> tuple[set[int], set[int]]:
    """The order ids and order line ids whose lookups this event's facts need."""
    p = event.payload
    orders: set[int] = set()
    lines: set[int] = set()
    if event.name in ("payment.succeeded", "payment.failed", "shipment.created"):
        orders.add(int(p["order_id"]))
    elif event.name == "refund.succeeded":
        orders.add(int(p["order_id"]))
        lines.update(int(x["order_line_id"]) for x in p.get("lines") or ())
    elif event.name == "order.paid":
        lines.update(int(x["line_id"]) for x in p.get("lines") or ())
    return orders, lines


# --- append facts ------------------------------------------------------------------------------


def order_lines(event: Event, lookups: Lookups, tz: str) -> list[dict[str, Any]]:
    """`order.paid` → one `fact_order_lines` row per line, dated the day it was paid."""
    p = event.payload
    paid_at = parse_ts(p.get("paid_at")) or event.occurred_at
    day = shop_date(paid_at, tz)
    rows = []
    for line in p.get("lines") or ():
        known = lookups.lines.get(int(line["line_id"]))
        category, brand = lookups.skus.get(int(line["sku_id"]), (None, None))
        if known is not None and known.category_id is not None:
            category, brand = known.category_id, known.brand_id
        rows.append(
            {
                "event_id": event.id,
                "date": day,
                "order_id": p["order_id"],
                "line_id": line["line_id"],
                "customer_id": p.get("customer_id"),
                "sku_id": line["sku_id"],
                "product_id": line.get("product_id"),
                "category_id": line.get("category_id", category),
                "brand_id": line.get("brand_id", brand),
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "unit_cost": line["unit_cost"],
                "subtotal": line["subtotal"],
                "discount": line["discount"],
                "total": line["total"],
                "paid_at": paid_at,
                "sales_channel": p.get("channel"),
            }
        )
    return rows


def payment(event: Event, lookups: Lookups, tz: str) -> dict[str, Any]:
    """`payment.succeeded` / `payment.failed` → one attempt."""
    p = event.payload
    info = lookups.orders.get(int(p["order_id"]))
    attempted = parse_ts(p.get("attempted_at")) or event.occurred_at
    return {
        "event_id": event.id,
        "date": shop_date(attempted, tz),
        "payment_id": p["payment_id"],
        "order_id": p["order_id"],
        "customer_id": info.customer_id if info else None,
        "pay_channel": p.get("channel"),
        "amount": p["amount"],
        "succeeded": event.name == "payment.succeeded",
        "failure_code": p.get("failure_code") or "",
        "attempted_at": attempted,
    }


def refunds(event: Event, lookups: Lookups, tz: str) -> list[dict[str, Any]]:
    """`refund.succeeded` → one row per refunded line, one for shipping; a reversal (a payment
    the order could not take, returned whole) is one row without a line."""
    p = event.payload
    info = lookups.orders.get(int(p["order_id"]))
    at = parse_ts(p.get("refunded_at")) or event.occurred_at
    base = {
        "event_id": event.id,
        "date": shop_date(at, tz),
        "refund_id": p["refund_id"],
        "order_id": p["order_id"],
        "customer_id": info.customer_id if info else None,
        "kind": p.get("kind") or "order",
        "return_id": p.get("return_id"),
        "refunded_at": at,
        "line_id": None,
        "sku_id": None,
    }
    if base["kind"] != "order":
        return [{**base, "quantity": 0, "amount": p["amount"], "cost": 0}]
    rows = []
    for line in p.get("lines") or ():
        known = lookups.lines.get(int(line["order_line_id"]))
        quantity = int(line.get("quantity") or 0)
        unit_cost = known.unit_cost if known else None
        rows.append(
            {
                **base,
                "line_id": line["order_line_id"],
                "sku_id": line.get("sku_id") or (known.sku_id if known else None),
                "quantity": quantity,
                "amount": line["amount"],
                "cost": unit_cost * quantity if unit_cost is not None else None,
            }
        )
    shipping = int(p.get("shipping_amount") or 0)
    if shipping:
        rows.append({**base, "quantity": 0, "amount": shipping, "cost": 0})
    return rows


def returns(event: Event, tz: str) -> list[dict[str, Any]]:
    """`return.received` → one row per returned line (its units came back)."""
    p = event.payload
    return [
        {
            "event_id": event.id,
            "date": shop_date(event.occurred_at, tz),
            "return_id": p["return_id"],
            "order_id": p.get("order_id"),
            "customer_id": p.get("customer_id"),
            "line_id": line.get("order_line_id"),
            "sku_id": line.get("sku_id"),
            "quantity": line["quantity"],
            "kind": p.get("kind"),
            "reason": p.get("reason") or "",
            "received_at": event.occurred_at,
        }
        for line in p.get("lines") or ()
    ]


COUPON_ACTIONS = {
    "coupon.issued": "issued",
    "coupon.redeemed": "redeemed",
    "coupon.released": "released",
}


def coupons(event: Event, tz: str) -> list[dict[str, Any]]:
    """`coupon.issued` (one coupon, no money yet) / `.redeemed` / `.released` (per coupon)."""
    p = event.payload
    base = {
        "event_id": event.id,
        "date": shop_date(event.occurred_at, tz),
        "action": COUPON_ACTIONS[event.name],
        "ts_at": event.occurred_at,
    }
    if event.name == "coupon.issued":
        return [
            {
                **base,
                "coupon_id": p["coupon_id"],
                "customer_id": p.get("customer_id"),
                "promotion_id": p.get("promotion_id"),
                "campaign_id": p.get("campaign_id"),
                "order_id": None,
                "amount": None,
            }
        ]
    return [
        {
            **base,
            "coupon_id": c["coupon_id"],
            "customer_id": p.get("customer_id"),
            "promotion_id": c.get("promotion_id"),
            "campaign_id": c.get("campaign_id"),
            "order_id": p.get("order_id"),
            "amount": c.get("amount"),
        }
        for c in p.get("coupons") or ()
    ]


def promotions(event: Event, tz: str) -> list[dict[str, Any]]:
    """`promotion.applied` → one row per promotion the order used."""
    p = event.payload
    return [
        {
            "event_id": event.id,
            "date": shop_date(event.occurred_at, tz),
            "order_id": p["order_id"],
            "customer_id": p.get("customer_id"),
            "promotion_id": a.get("promotion_id"),
            "campaign_id": a.get("campaign_id"),
            "phase": a.get("campaign_phase") or "",
            "kind": a.get("kind"),
            "coupon_id": a.get("coupon_id"),
            "amount": a.get("amount"),
            "shipping_amount": a.get("shipping_amount"),
            "cashback": a.get("cashback"),
            "ts_at": event.occurred_at,
        }
        for a in p.get("applications") or ()
    ]


def stock_change(event: Event, tz: str) -> StockChange:
    """`stock.changed` → the SKU × warehouse level after the change (the ledger's result)."""
    p = event.payload
    at = parse_ts(p.get("occurred_at")) or event.occurred_at
    day = shop_date(at, tz)
    assert day is not None
    return StockChange(
        event.seq,
        day,
        int(p["sku_id"]),
        int(p["warehouse_id"]),
        int(p["on_hand"]),
        int(p["reserved"]),
    )


# --- dispatch ----------------------------------------------------------------------------------

ORDER_EVENTS = frozenset(
    {
        "order.created",
        "order.paid",
        "order.cancelled",
        "order.shipped",
        "order.delivered",
        "order.completed",
        "order.refund_requested",
        "order.refund_rejected",
        "order.refunded",
    }
)
Builder = Callable[[Event, Lookups, str, Output], None]


def _orders(e: Event, lk: Lookups, tz: str, out: Output) -> None:
    out.patch("fact_orders", order_patch(e, tz))
    if e.name == "order.paid":
        out.appends.setdefault("fact_order_lines", []).extend(order_lines(e, lk, tz))


def _promotion(e: Event, lk: Lookups, tz: str, out: Output) -> None:
    out.appends.setdefault("fact_promotions", []).extend(promotions(e, tz))
    patch = promotion_order_patch(e, tz)
    if patch is not None:
        out.patch("fact_orders", patch)


BUILDERS: dict[str, Builder] = {
    **dict.fromkeys(ORDER_EVENTS, _orders),
    "payment.succeeded": lambda e, lk, tz, out: out.add("fact_payments", payment(e, lk, tz)),
    "payment.failed": lambda e, lk, tz, out: out.add("fact_payments", payment(e, lk, tz)),
    "refund.succeeded": lambda e, lk, tz, out: out.appends.setdefault("fact_refunds", []).extend(
        refunds(e, lk, tz)
    ),
    **dict.fromkeys(
        ("shipment.created", "shipment.delivered", "shipment.exception"),
        lambda e, lk, tz, out: out.patch("fact_shipments", shipment_patch(e, lk, tz)),
    ),
    "return.received": lambda e, lk, tz, out: out.appends.setdefault("fact_returns", []).extend(
        returns(e, tz)
    ),
    **dict.fromkeys(
        COUPON_ACTIONS,
        lambda e, lk, tz, out: out.appends.setdefault("fact_coupons", []).extend(coupons(e, tz)),
    ),
    **dict.fromkeys(
        REVIEW_EVENTS,
        lambda e, lk, tz, out: out.patch("fact_reviews", review_patch(e, tz)),
    ),
    "promotion.applied": _promotion,
    "stock.changed": lambda e, lk, tz, out: out.stock.append(stock_change(e, tz)),
}


def build(events: list[Event], lookups: Lookups, tz: str) -> Output:
    """Every fact row and patch of `events` (in outbox order); unknown event names add none."""
    out = Output()
    for event in events:
        absorb(event, lookups, tz)
        builder = BUILDERS.get(event.name)
        if builder is not None:
            builder(event, lookups, tz, out)
    return out
