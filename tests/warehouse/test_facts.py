"""Pure row builders: every event type → its fact rows, money kept as int fen."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shopops.warehouse.facts import (
    Event,
    LineInfo,
    Lookups,
    OrderInfo,
    Patch,
    apply_patches,
    build,
)

TZ = "Asia/Shanghai"
# 2026-11-10 20:00 UTC is already 11-11 in Shanghai: facts are dated in the shop's zone.
AT = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)
SHOP_DAY = dt.date(2026, 11, 11)
MONEY = {"amount", "unit_price", "unit_cost", "subtotal", "discount", "total", "cost", "fee",
         "items_subtotal", "discount_total", "shipping_fee", "paid_amount", "refunded_amount",
         "coupon_discount", "shipping_amount", "cashback"}  # fmt: skip


def ev(name: str, payload: dict[str, Any], seq: int = 1) -> Event:
    return Event(f"e{seq}", seq, name, AT, payload)


HEADER = {
    "order_id": 7,
    "number": "N7",
    "customer_id": 3,
    "channel": "storefront",
    "status": "pending_payment",
    "items_subtotal": 30000,
    "discount_total": 2000,
    "shipping_fee": 0,
    "total": 28000,
    "paid_amount": 0,
    "refunded_amount": 0,
    "placed_at": AT.isoformat(),
}
LINE = {"line_id": 70, "sku_id": 5, "product_id": 2, "sku_code": "S5", "quantity": 2,
        "unit_price": 15000, "unit_cost": 9000, "subtotal": 30000, "discount": 2000,
        "total": 28000}  # fmt: skip
CREATED = {
    **HEADER,
    "region": {"province": "上海市", "city": "上海", "district": "浦东"},
    "lines": [{**LINE, "category_id": 11, "brand_id": 12}],
    "discounts": [{"source": "coupon", "reference": "C1", "description": "", "amount": 2000}],
}


def _money_is_int(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for key in MONEY & row.keys():
            assert row[key] is None or type(row[key]) is int, (key, row[key])


def test_order_created_and_paid_make_one_row_and_lines() -> None:
    paid = {**HEADER, "status": "paid", "paid_amount": 28000, "paid_at": AT.isoformat(),
            "region": CREATED["region"], "lines": [LINE]}  # fmt: skip
    out = build([ev("order.created", CREATED, 1), ev("order.paid", paid, 2)], Lookups(), TZ)
    rows: dict[int, dict[str, Any]] = {}
    apply_patches(rows, out.patches["fact_orders"], "order_id")
    order = rows[7]
    assert order["status"] == "paid" and order["paid_amount"] == 28000
    assert order["units"] == 2 and order["coupon_discount"] == 2000
    assert order["province"] == "上海市" and order["event_id"] == "e1"
    assert order["paid_date"] == SHOP_DAY and order["updated_seq"] == 2
    assert out.patches["fact_orders"][0].date == SHOP_DAY
    (line,) = out.appends["fact_order_lines"]
    # Category and brand come from the created event's line, which order.paid lacks.
    assert (line["category_id"], line["brand_id"]) == (11, 12)
    assert line["date"] == SHOP_DAY and line["customer_id"] == 3
    _money_is_int([order, line])


def test_later_events_update_and_older_ones_do_not() -> None:
    shipped = {**HEADER, "status": "shipped", "shipped_at": AT.isoformat()}
    cancelled = {**HEADER, "status": "cancelled", "cancelled_at": AT.isoformat()}
    lk = Lookups()
    rows: dict[int, dict[str, Any]] = {}
    apply_patches(rows, build([ev("order.shipped", shipped, 5)], lk, TZ).patches["fact_orders"],
                  "order_id")  # fmt: skip
    late = build([ev("order.cancelled", cancelled, 4)], lk, TZ).patches["fact_orders"]
    assert apply_patches(rows, late, "order_id") == {}
    assert rows[7]["status"] == "shipped"


def test_payments_refunds_use_lookups() -> None:
    lk = Lookups(
        orders={7: OrderInfo(3, 2, SHOP_DAY)},
        lines={70: LineInfo(5, 2, 9000)},
    )
    pay = {"payment_id": 1, "order_id": 7, "channel": "alipay", "amount": 28000,
           "failure_code": "", "attempted_at": AT.isoformat()}  # fmt: skip
    refund = {"refund_id": 9, "order_id": 7, "kind": "order", "amount": 15500,
              "shipping_amount": 1500, "return_id": None, "refunded_at": AT.isoformat(),
              "lines": [{"order_line_id": 70, "sku_id": 5, "quantity": 1,
                         "amount": 14000}]}  # fmt: skip
    reversal = {**refund, "refund_id": 10, "kind": "reversal", "amount": 28000, "lines": []}
    out = build(
        [ev("payment.failed", {**pay, "failure_code": "declined"}, 1),
         ev("payment.succeeded", {**pay, "payment_id": 2}, 2),
         ev("refund.succeeded", refund, 3), ev("refund.succeeded", reversal, 4)],
        lk, TZ,
    )  # fmt: skip
    failed, ok = out.appends["fact_payments"]
    assert (failed["succeeded"], failed["failure_code"], ok["succeeded"]) == (
        False,
        "declined",
        True,
    )
    assert ok["customer_id"] == 3 and ok["date"] == SHOP_DAY
    line, shipping, whole = out.appends["fact_refunds"]
    assert (line["line_id"], line["quantity"], line["amount"], line["cost"]) == (70, 1, 14000, 9000)
    assert (shipping["line_id"], shipping["amount"]) == (None, 1500)
    assert (whole["kind"], whole["amount"], whole["line_id"]) == ("reversal", 28000, None)
    assert sum(r["amount"] for r in (line, shipping)) == refund["amount"]
    _money_is_int(out.appends["fact_payments"] + out.appends["fact_refunds"])


def test_shipments_accumulate() -> None:
    base = {"shipment_id": 4, "order_id": 7, "direction": "forward", "carrier": "sf",
            "region": "上海", "fee": 1200, "shipped_at": AT.isoformat()}  # fmt: skip
    later = (AT + dt.timedelta(days=2)).isoformat()
    lk = Lookups(orders={7: OrderInfo(3, 2, SHOP_DAY)})
    out = build(
        [ev("shipment.created", base, 1), ev("shipment.exception", base, 2),
         ev("shipment.delivered", {**base, "delivered_at": later, "exception_count": 1}, 3)],
        lk, TZ,
    )  # fmt: skip
    rows: dict[int, dict[str, Any]] = {}
    apply_patches(rows, out.patches["fact_shipments"], "shipment_id")
    row = rows[4]
    assert (row["direction"], row["units"], row["exceptions"], row["fee"]) == (
        "outbound",
        2,
        1,
        1200,
    )
    assert row["delivered_at"] == dt.datetime.fromisoformat(later)


def test_returns_coupons_promotions_stock() -> None:
    ret = {"return_id": 1, "order_id": 7, "customer_id": 3, "kind": "return", "reason": "尺码",
           "lines": [{"order_line_id": 70, "sku_id": 5, "quantity": 1}]}  # fmt: skip
    issued = {"coupon_id": 2, "customer_id": 3, "promotion_id": 8, "campaign_id": 6}
    moved = {"order_id": 7, "customer_id": 3, "coupons": [
        {"coupon_id": 2, "promotion_id": 8, "campaign_id": 6, "campaign_phase": "peak",
         "amount": 2000}]}  # fmt: skip
    applied = {"order_id": 7, "customer_id": 3, "placed_at": AT.isoformat(), "applications": [
        {"promotion_id": 8, "kind": "coupon", "coupon_id": 2, "campaign_id": 6,
         "campaign_phase": "peak", "amount": 2000, "shipping_amount": 0,
         "cashback": 0}]}  # fmt: skip
    stock = {"sku_id": 5, "warehouse_id": 1, "on_hand": 9, "reserved": 1, "on_hand_delta": -1,
             "reserved_delta": 0, "occurred_at": AT.isoformat()}  # fmt: skip
    out = build(
        [ev("return.received", ret, 1), ev("coupon.issued", issued, 2),
         ev("coupon.redeemed", moved, 3), ev("coupon.released", moved, 4),
         ev("promotion.applied", applied, 5), ev("stock.changed", stock, 6),
         ev("points.earned", {"customer_id": 3}, 7)],
        Lookups(), TZ,
    )  # fmt: skip
    (r,) = out.appends["fact_returns"]
    assert (r["sku_id"], r["quantity"], r["kind"], r["date"]) == (5, 1, "return", SHOP_DAY)
    actions = [(c["action"], c["amount"]) for c in out.appends["fact_coupons"]]
    assert actions == [("issued", None), ("redeemed", 2000), ("released", 2000)]
    (p,) = out.appends["fact_promotions"]
    assert (p["promotion_id"], p["campaign_id"], p["phase"], p["amount"]) == (8, 6, "peak", 2000)
    (campaign,) = out.patches["fact_orders"]
    assert isinstance(campaign, Patch) and campaign.set["campaign_id"] == 6
    (s,) = out.stock
    assert (s.sku_id, s.on_hand, s.reserved, s.date) == (5, 9, 1, SHOP_DAY)
    _money_is_int([r, p, *out.appends["fact_coupons"]])
