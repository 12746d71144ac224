"""The fact tables of `gen_store.py`: built column-wise from the store's orders, customers and
catalogue (see that module), and written through its `Writer`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from gen_store import (
    CARRIERS,
    CHANNELS,
    CITIES,
    DAY,
    FAILURES,
    PAID,
    PAY,
    PROVINCES,
    REASONS,
    SALES,
    US,
    ids,
    ints,
    strings,
    ts,
)
from gen_store_reviews import reviews


def write_all(s: Any, w: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts.update(orders(s, w))
    counts.update(after_sales(s, w))
    counts.update(marketing(s, w))
    counts["fact_stock_daily"] = stock(s, w)
    counts.update(behaviour(s, w))
    counts["dim_customer"] = customers(s, w)
    counts["fact_reviews"] = reviews(s, w)  # last, on its own rng: the other tables stay
    return counts


def orders(s: Any, w: Any) -> dict[str, int]:
    o, li, rng = s.o, s.li, s.rng
    n = len(o["placed"])
    oid = np.arange(1, n + 1)
    paid, shipped, delivered = o["paid"], o["is_shipped"], o["is_delivered"]
    completed = delivered & (o["delivered"] + 7 * DAY < s.horizon)
    refunded = o["refunded"]
    status = np.select(
        [
            ~paid,
            refunded >= o["total"] - o["ship_fee"],
            refunded > 0,
            completed,
            delivered,
            shipped,
        ],
        [0, 1, 2, 3, 4, 5],
        6,
    )
    statuses = [
        "cancelled",
        "refunded",
        "partially_refunded",
        "completed",
        "delivered",
        "shipped",
        "paid",
    ]
    cancelled_at = o["placed"] + 30 * 60 * US
    prov = np.where(rng.random(n) < 0.9, s.cust_prov[o["cust"]], rng.integers(0, 12, n))
    paid_day = s.day_of(o["paid_at"])
    counts = {}
    counts["fact_orders"] = w.fact(
        "fact_orders",
        s.day_of(o["placed"]),
        {
            "event_id": ids("order.created-", oid),
            "order_id": ints(oid),
            "number": ids("SO", oid + 10_000_000),
            "customer_id": ints(o["cust"] + 1),
            "sales_channel": strings(SALES, o["sales"]),
            "status": strings(statuses, status),
            "placed_at": ts(s.utc(o["placed"])),
            "paid_at": ts(s.utc(o["paid_at"]), paid),
            "paid_date": pc.cast(ints(s.epoch_days + paid_day, paid).cast(pa.int32()), pa.date32()),
            "cancelled_at": ts(s.utc(cancelled_at), ~paid),
            "shipped_at": ts(s.utc(o["shipped"]), shipped),
            "delivered_at": ts(s.utc(o["delivered"]), delivered),
            "completed_at": ts(s.utc(o["delivered"] + 7 * DAY), completed),
            "items_subtotal": ints(o["items"]),
            "discount_total": ints(o["discount"]),
            "shipping_fee": ints(o["ship_fee"]),
            "total": ints(o["total"]),
            "paid_amount": ints(np.where(paid, o["total"], 0)),
            "refunded_amount": ints(refunded),
            "units": ints(o["units"]),
            "province": strings(PROVINCES, prov),
            "city": strings(CITIES, prov),
            "campaign_id": ints(o["camp"], o["camp"] > 0),
            "coupon_discount": ints(o["coupon"]),
            "updated_seq": ints(oid * 8 + status),
        },
    )
    s.o["prov"] = prov
    # Lines of paid orders, in the partition of the payment day.
    lo = li["order"]
    keep = paid[lo]
    lid = np.arange(1, len(lo) + 1)
    li["id"] = lid
    k = keep
    counts["fact_order_lines"] = w.fact(
        "fact_order_lines",
        paid_day[lo][k],
        {
            "event_id": ids("order.paid-", (lo + 1)[k]),
            "order_id": ints((lo + 1)[k]),
            "line_id": ints(lid[k]),
            "customer_id": ints(o["cust"][lo][k] + 1),
            "sku_id": ints(li["sku"][k] + 1),
            "product_id": ints(s.product_of[li["sku"]][k]),
            "category_id": ints(s.category_of[li["sku"]][k]),
            "brand_id": ints(s.brand_of[li["sku"]][k]),
            "quantity": ints(li["qty"][k]),
            "unit_price": ints(li["unit"][k]),
            "unit_cost": ints(li["cost"][k]),
            "subtotal": ints(li["sub"][k]),
            "discount": ints(li["disc"][k]),
            "total": ints(li["total"][k]),
            "paid_at": ts(s.utc(o["paid_at"][lo][k])),
            "sales_channel": strings(SALES, o["sales"][lo][k]),
        },
    )
    # Payments: the successful attempt, and a failed one before it for some orders.
    failed = rng.random(n) < np.where(paid, 0.06, 0.4)
    pay_ch = rng.choice(3, n, p=[0.55, 0.40, 0.05])
    att_order = np.r_[oid[failed], oid[paid]]
    att_at = np.r_[o["placed"][failed] + 20 * US, o["paid_at"][paid]]
    ok = np.r_[np.zeros(failed.sum(), bool), np.ones(paid.sum(), bool)]
    fail_code = np.r_[rng.integers(0, 3, failed.sum()), np.zeros(paid.sum(), np.int64)]
    counts["fact_payments"] = w.fact(
        "fact_payments",
        s.day_of(att_at),
        {
            "event_id": ids("payment-", np.arange(1, len(att_order) + 1)),
            "payment_id": ints(np.arange(1, len(att_order) + 1)),
            "order_id": ints(att_order),
            "customer_id": ints(o["cust"][att_order - 1] + 1),
            "pay_channel": strings(PAY, pay_ch[att_order - 1]),
            "amount": ints(o["total"][att_order - 1]),
            "succeeded": pa.array(ok),
            "failure_code": pc.if_else(
                pa.array(ok), pa.scalar(None, pa.string()), strings(FAILURES, fail_code)
            ),
            "attempted_at": ts(s.utc(att_at)),
        },
    )
    counts["fact_shipments"] = shipments(s, w, oid, shipped)
    return counts


def shipments(s: Any, w: Any, oid: np.ndarray, shipped: np.ndarray) -> int:
    o, li, rng = s.o, s.li, s.rng
    n = len(oid)
    carrier = rng.choice(len(CARRIERS), n, p=[0.3, 0.2, 0.15, 0.15, 0.15, 0.05])
    back = li["back"]
    r_order = li["order"][back]
    r_ship = li["received"][back] - 2 * DAY
    m = len(r_order)
    sel = np.r_[oid[shipped] - 1, r_order]
    at = np.r_[o["shipped"][shipped], r_ship]
    deliv = np.r_[o["delivered"][shipped], li["received"][back]]
    has_deliv = np.r_[o["is_delivered"][shipped], np.ones(m, bool)]
    outbound = np.r_[np.ones(shipped.sum(), bool), np.zeros(m, bool)]
    sid = np.arange(1, len(sel) + 1)
    return w.fact(
        "fact_shipments",
        s.day_of(at),
        {
            "event_id": ids("shipment.created-", sid),
            "shipment_id": ints(sid),
            "order_id": ints(sel + 1),
            "carrier": strings(CARRIERS, carrier[sel]),
            "direction": strings(["return", "outbound"], outbound.astype(np.int64)),
            "province": strings(PROVINCES, o["prov"][sel]),
            "units": ints(o["units"][sel], outbound),
            "fee": ints(np.where(outbound, 800, 1200) + rng.integers(0, 700, len(sel))),
            "shipped_at": ts(s.utc(at)),
            "delivered_at": ts(s.utc(deliv), has_deliv),
            "exceptions": ints((rng.random(len(sel)) < 0.02).astype(np.int64)),
            "updated_seq": ints(sid * 3 + has_deliv),
        },
    )


def after_sales(s: Any, w: Any) -> dict[str, int]:
    o, li, rng = s.o, s.li, s.rng
    back, refund = li["back"], li["refund"]
    lo = li["order"]
    rid = np.cumsum(back)  # return id of each returned line
    counts = {}
    counts["fact_returns"] = w.fact(
        "fact_returns",
        s.day_of(li["received"][back]),
        {
            "event_id": ids("return.received-", rid[back]),
            "return_id": ints(rid[back]),
            "order_id": ints(lo[back] + 1),
            "customer_id": ints(o["cust"][lo[back]] + 1),
            "line_id": ints(li["id"][back]),
            "sku_id": ints(li["sku"][back] + 1),
            "quantity": ints(li["qty"][back]),
            "kind": strings(["return", "exchange"], li["exchange"][back].astype(np.int64)),
            "reason": strings(REASONS, rng.integers(0, len(REASONS), int(back.sum()))),
            "received_at": ts(s.utc(li["received"][back])),
        },
    )
    n = int(refund.sum())
    counts["fact_refunds"] = w.fact(
        "fact_refunds",
        s.day_of(li["refunded_at"][refund]),
        {
            "event_id": ids("refund.succeeded-", np.arange(1, n + 1)),
            "refund_id": ints(np.arange(1, n + 1)),
            "order_id": ints(lo[refund] + 1),
            "customer_id": ints(o["cust"][lo[refund]] + 1),
            "line_id": ints(li["id"][refund]),
            "sku_id": ints(li["sku"][refund] + 1),
            "quantity": ints(li["qty"][refund]),
            "amount": ints(li["total"][refund]),
            "cost": ints(li["cost"][refund] * li["qty"][refund]),
            "kind": strings(["order"], np.zeros(n, np.int64)),
            "return_id": ints(rid[refund]),
            "refunded_at": ts(s.utc(li["refunded_at"][refund])),
        },
    )
    return counts


def marketing(s: Any, w: Any) -> dict[str, int]:
    o, rng = s.o, s.rng
    n = len(o["placed"])
    oid = np.arange(1, n + 1)
    used = o["coupon"] > 0
    # Coupons: issued ahead of use (and more than are used), redeemed at payment.
    extra = int(used.sum() * 1.5)
    issued_at = np.r_[
        o["placed"][used] - rng.integers(3600 * US, 10 * DAY, used.sum()), s.local_times(extra)
    ]
    issued_at = np.maximum(issued_at, 0)
    issued_cust = np.r_[o["cust"][used], rng.choice(s.n_cust, extra, p=s.cust_w)]
    n_iss = len(issued_at)
    coupon_id = np.arange(1, n_iss + 1)
    redeemed = used & o["paid"]
    released = used & ~o["paid"]
    red_idx = np.flatnonzero(used)
    red_mask = redeemed[used]
    rel_mask = released[used]
    act = np.r_[
        np.zeros(n_iss, np.int64), np.ones(red_mask.sum(), np.int64), np.full(rel_mask.sum(), 2)
    ]
    cid = np.r_[coupon_id, coupon_id[: len(red_idx)][red_mask], coupon_id[: len(red_idx)][rel_mask]]
    order = np.r_[np.zeros(n_iss, np.int64), red_idx[red_mask] + 1, red_idx[rel_mask] + 1]
    at = np.r_[
        issued_at, o["paid_at"][red_idx[red_mask]], o["placed"][red_idx[rel_mask]] + 30 * 60 * US
    ]
    cust = np.r_[issued_cust, o["cust"][red_idx[red_mask]], o["cust"][red_idx[rel_mask]]]
    amount = np.r_[
        np.zeros(n_iss, np.int64), o["coupon"][red_idx[red_mask]], o["coupon"][red_idx[rel_mask]]
    ]
    camp = s.campaign_of(at, s.camps)
    promo_of = 100 + rng.integers(1, 5, n_iss)
    counts = {}
    counts["fact_coupons"] = w.fact(
        "fact_coupons",
        s.day_of(at),
        {
            "event_id": ids("coupon-", np.arange(1, len(at) + 1)),
            "coupon_id": ints(cid),
            "customer_id": ints(cust + 1),
            "promotion_id": ints(promo_of[cid - 1]),
            "campaign_id": ints(camp, camp > 0),
            "action": strings(["issued", "redeemed", "released"], act),
            "order_id": ints(order, order > 0),
            "amount": ints(amount, act > 0),
            "ts_at": ts(s.utc(at)),
        },
    )
    # Promotions applied: the campaign's discount and the coupon, per order.
    pm = o["promo"] > 0
    p_order = np.r_[oid[pm], oid[used]]
    kind = np.r_[np.zeros(pm.sum(), np.int64), np.ones(used.sum(), np.int64)]
    p_amount = np.r_[o["promo"][pm], o["coupon"][used]]
    p_coupon = np.r_[np.zeros(pm.sum(), np.int64), coupon_id[: used.sum()]]
    p_camp = o["camp"][p_order - 1]
    p_at = o["placed"][p_order - 1]
    counts["fact_promotions"] = w.fact(
        "fact_promotions",
        s.day_of(p_at),
        {
            "event_id": ids("promotion.applied-", np.arange(1, len(p_order) + 1)),
            "order_id": ints(p_order),
            "customer_id": ints(o["cust"][p_order - 1] + 1),
            "promotion_id": ints(np.where(kind == 1, promo_of[p_coupon - 1], p_camp + 10)),
            "campaign_id": ints(p_camp, p_camp > 0),
            "phase": strings(["peak", ""], (p_camp == 0).astype(np.int64)),
            "kind": strings(["percent_off", "coupon"], kind),
            "coupon_id": ints(p_coupon, kind == 1),
            "amount": ints(p_amount),
            "shipping_amount": ints(np.zeros(len(p_order), np.int64)),
            "cashback": ints(np.zeros(len(p_order), np.int64)),
            "ts_at": ts(s.utc(p_at)),
        },
    )
    # Ad spend: every paid channel every day, following traffic; CPC varies by channel.
    days = np.repeat(np.arange(s.days), len(PAID))
    ch = np.tile(np.arange(len(PAID)), s.days)
    base = np.array([900_000, 300_000, 200_000, 600_000, 400_000])[ch]
    scale = s.weight[days] * s.days * len(s.o["placed"]) / 1_000_000  # follows the orders
    spend = (base * scale * rng.lognormal(0, 0.12, len(days))).astype(np.int64)
    cpc = np.array([150, 60, 90, 110, 200])[ch] * rng.uniform(0.85, 1.15, len(days))
    clicks = (spend / cpc).astype(np.int64)
    camp_d = s.campaign_of(days * DAY + DAY // 2, s.camps)
    counts["fact_ad_spend"] = w.fact(
        "fact_ad_spend",
        days,
        {
            "channel": strings(PAID, ch),
            "campaign_id": ints(camp_d, (camp_d > 0) & (ch == 3)),
            "spend": ints(spend),
            "impressions": ints(clicks * rng.integers(25, 80, len(days))),
            "clicks": ints(clicks),
        },
    )
    return counts


def stock(s: Any, w: Any) -> int:
    """End-of-day stock per SKU: sales draw it down, a reorder arrives after a lead time."""
    li, o, rng = s.li, s.o, s.rng
    paid_line = o["paid"][li["order"]]
    day = s.day_of(o["paid_at"][li["order"]])[paid_line]
    sold = (
        np.bincount(day * s.n_sku + li["sku"][paid_line], li["qty"][paid_line], s.days * s.n_sku)
        .reshape(s.days, s.n_sku)
        .astype(np.int64)
    )
    rate = sold.mean(axis=0) + 0.2
    on_hand = np.ceil(rate * 21).astype(np.int64)
    arriving = np.zeros((s.days + 8, s.n_sku), np.int64)
    pending = np.zeros(s.n_sku, bool)
    levels = np.empty((s.days, s.n_sku), np.int64)
    lead = rng.integers(3, 8, s.n_sku)
    for d in range(s.days):
        on_hand += arriving[d]
        pending &= arriving[d] == 0
        on_hand = np.maximum(on_hand - sold[d], 0)
        low = (on_hand < rate * 7) & ~pending
        arriving[d + lead[low], np.flatnonzero(low)] += np.ceil(rate[low] * 28).astype(np.int64)
        pending |= low
        levels[d] = on_hand
    flat = levels.ravel()
    reserved = np.minimum(flat, rng.integers(0, 3, flat.size))
    sku = np.tile(np.arange(s.n_sku), s.days)
    return w.fact(
        "fact_stock_daily",
        np.repeat(np.arange(s.days), s.n_sku),
        {
            "sku_id": ints(sku + 1),
            "on_hand": ints(flat),
            "reserved": ints(reserved),
            "available": ints(flat - reserved),
            "unit_cost": ints(s.cost[sku]),
            "listed": pa.array(s.listed[sku]),
        },
    )


def customers(s: Any, w: Any) -> int:
    rng, n = s.rng, s.n_cust
    cid = np.arange(1, n + 1)
    reg = np.maximum(s.reg, -400 * DAY)
    referred = (rng.random(n) < 0.05) & (cid > 1)
    ref = np.maximum(1, (rng.random(n) * (cid - 1)).astype(np.int64))
    tiers = ["normal", "silver", "gold", "diamond"]
    return w.dim(
        "dim_customer",
        pa.table(
            {
                "customer_id": ints(cid),
                "registered_at": ts(s.utc(reg)),
                "registered_date": pc.cast(
                    ints(s.epoch_days + s.day_of(reg)).cast(pa.int32()), pa.date32()
                ),
                "province": strings(PROVINCES, s.cust_prov),
                "city": strings(CITIES, s.cust_prov),
                "gender": strings(
                    ["female", "male", "unknown"], rng.choice(3, n, p=[0.52, 0.44, 0.04])
                ),
                "age_band": strings(
                    ["18-24", "25-34", "35-44", "45+"], rng.choice(4, n, p=[0.3, 0.4, 0.2, 0.1])
                ),
                "acquisition_channel": strings(CHANNELS, s.cust_acq),
                "tier": strings(tiers, rng.choice(4, n, p=[0.6, 0.25, 0.12, 0.03])),
                "referred_by": ints(ref, referred),
            }
        ),
    )


from gen_store_events import behaviour  # noqa: E402
