"""Plain-Python computations of every metric over the fixture rows, written from METRICS.md
independently of the Ibis definitions, to check them against."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

Rows = dict[str, list[dict[str, Any]]]
TZ = ZoneInfo("Asia/Shanghai")
PAGES = {"page_view", "product_view"}
PAID = {"paid_search", "display", "affiliate", "feed_ads", "influencer"}
NATURAL = {"organic_search", "direct", "private_domain", "referral"}


def div(a: float, b: float) -> float | None:
    return None if not b else a / b


def days(lo: dt.date, hi: dt.date) -> list[dt.date]:
    return [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]


def order_channel(full: Rows) -> dict[int, str]:
    """order → channel of its last pay event (orders without one: direct)."""
    pays = sorted(
        (e for e in full["fact_events"] if e["event"] == "pay" and e["order_id"]),
        key=lambda e: e["ts_at"],
    )
    out: dict[int, str] = {}
    for e in pays:
        out[e["order_id"]] = e["channel"] or "direct"
    return out


class Ref:
    """Metrics over `rows` (possibly restricted to one dimension value) for [lo, hi]; `full`
    holds all rows, for 'first ever' questions."""

    def __init__(self, rows: Rows, full: Rows, lo: dt.date, hi: dt.date) -> None:
        self.rows, self.full, self.lo, self.hi = rows, full, lo, hi

    def inside(self, day: dt.date | None) -> bool:
        return day is not None and self.lo <= day <= self.hi

    def t(self, name: str, col: str = "date") -> list[dict[str, Any]]:
        return [r for r in self.rows.get(name, []) if self.inside(r[col])]

    # traffic
    def events(self) -> list[dict[str, Any]]:
        return self.t("fact_events")

    def uv(self) -> int:
        return len({e["person_id"] for e in self.events()})

    def visitors_with(self, name: str) -> set[str]:
        return {e["person_id"] for e in self.events() if e["event"] == name}

    def pv(self) -> int:
        return sum(1 for e in self.events() if e["event"] in PAGES)

    def sessions(self) -> int:
        return len(self.t("fact_sessions"))

    def avg_session_seconds(self) -> float | None:
        ss = self.t("fact_sessions")
        total = sum(
            (s["ended_at"] - s["started_at"]).total_seconds() for s in ss if s["events"] >= 2
        )
        return div(total, len(ss))

    def bounce_rate(self) -> float | None:
        ss = self.t("fact_sessions")
        return div(sum(1 for s in ss if s["events"] == 1 and s["page_views"] == 1), len(ss))

    def new_visitors(self) -> int:
        first: dict[str, dt.date] = {}
        for e in self.full["fact_events"]:
            p = e["person_id"]
            first[p] = min(first.get(p, e["date"]), e["date"])
        return len({e["person_id"] for e in self.events() if self.inside(first[e["person_id"]])})

    def first_channel_uv(self, kinds: set[str]) -> int:
        first: dict[str, dict[str, Any]] = {}
        for e in sorted(self.events(), key=lambda e: e["ts_at"]):
            first.setdefault(e["person_id"], e)
        return sum(1 for e in first.values() if e["channel"] in kinds)

    def dau(self) -> float:
        daily = [
            len({e["person_id"] for e in self.rows["fact_events"] if e["date"] == d})
            for d in days(self.lo, self.hi)
        ]
        return sum(daily) / len(daily)

    def search_to_view_rate(self) -> float | None:
        searchers = self.visitors_with("search")
        return div(len(searchers & self.visitors_with("product_view")), len(searchers))

    # orders
    def paid(self) -> list[dict[str, Any]]:
        return self.t("fact_orders", "paid_date")

    def placed(self) -> list[dict[str, Any]]:
        return self.t("fact_orders")

    def buyers(self) -> int:
        return len({o["customer_id"] for o in self.paid()})

    def gmv(self) -> int:
        return sum(o["paid_amount"] for o in self.paid())

    def first_paid(self) -> dict[int, dt.date]:
        first: dict[int, dt.date] = {}
        for o in self.full["fact_orders"]:
            if o["paid_date"] is not None:
                c = o["customer_id"]
                first[c] = min(first.get(c, o["paid_date"]), o["paid_date"])
        return first

    def new_buyer_ids(self, orders: list[dict[str, Any]]) -> set[int]:
        first = self.first_paid()
        return {o["customer_id"] for o in orders if self.inside(first[o["customer_id"]])}

    def new_buyer_gmv(self) -> int:
        new = self.new_buyer_ids(self.paid())
        return sum(o["paid_amount"] for o in self.paid() if o["customer_id"] in new)

    def repeat_buyers(self) -> int:
        n: dict[int, int] = defaultdict(int)
        for o in self.paid():
            n[o["customer_id"]] += 1
        return sum(1 for v in n.values() if v >= 2)

    def lines(self) -> list[dict[str, Any]]:
        return self.t("fact_order_lines")

    def line_refunds(self) -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        for r in self.full["fact_refunds"]:
            if r["line_id"] is not None:
                a, c = out.get(r["line_id"], (0, 0))
                out[r["line_id"]] = (a + r["amount"], c + r["cost"])
        return out

    def gross_profit(self) -> int:
        refunds = self.line_refunds()
        gp = 0
        for li in self.lines():
            amount, cost = refunds.get(li["line_id"], (0, 0))
            gp += li["total"] - li["unit_cost"] * li["quantity"] - amount + cost
        return gp

    def net_line_amount(self) -> int:
        refunds = self.line_refunds()
        return sum(li["total"] - refunds.get(li["line_id"], (0, 0))[0] for li in self.lines())

    def cogs(self) -> int:
        return sum(li["unit_cost"] * li["quantity"] for li in self.lines())

    def hit_gmv(self) -> int:
        per: dict[int, int] = defaultdict(int)
        for li in self.lines():
            per[li["sku_id"]] += li["total"]
        return sum(sorted(per.values(), reverse=True)[:5])

    def spend(self) -> int:
        return sum(a["spend"] for a in self.t("fact_ad_spend"))

    def paid_channel_gmv(self) -> int:
        channel = order_channel(self.full)
        return sum(
            o["paid_amount"] for o in self.paid() if channel.get(o["order_id"], "direct") in PAID
        )

    def acquired_new_buyers(self) -> int:
        return len(self.new_buyer_ids(self.t("fact_orders_acquired", "paid_date")))

    def delivered(self) -> list[float]:
        return [
            (s["delivered_at"] - s["shipped_at"]).total_seconds() / 3600
            for s in self.rows["fact_shipments"]
            if s["direction"] == "outbound"
            and s["delivered_at"] is not None
            and self.inside(s["delivered_at"].astimezone(TZ).date())
        ]

    def shipped_units(self) -> int:
        return sum(s["units"] for s in self.t("fact_shipments") if s["direction"] == "outbound")

    def stock(self) -> list[dict[str, Any]]:
        return self.t("fact_stock_daily")


def _coupons(r: Ref, action: str) -> int:
    return sum(1 for c in r.t("fact_coupons") if c["action"] == action)


METRIC_REFS: dict[str, Callable[[Ref], Any]] = {
    "uv": Ref.uv,
    "pv": Ref.pv,
    "sessions": Ref.sessions,
    "pv_per_uv": lambda r: div(r.pv(), r.uv()),
    "avg_session_seconds": Ref.avg_session_seconds,
    "bounce_rate": Ref.bounce_rate,
    "new_visitors": Ref.new_visitors,
    "new_visitor_share": lambda r: div(r.new_visitors(), r.uv()),
    "natural_traffic_share": lambda r: div(r.first_channel_uv(NATURAL), r.uv()),
    "paid_traffic_share": lambda r: div(r.first_channel_uv(PAID), r.uv()),
    "dau": Ref.dau,
    "search_uv": lambda r: len(r.visitors_with("search")),
    "search_to_view_rate": Ref.search_to_view_rate,
    "product_view_uv": lambda r: len(r.visitors_with("product_view")),
    "cart_uv": lambda r: len(r.visitors_with("add_to_cart")),
    "add_to_cart_rate": lambda r: div(len(r.visitors_with("add_to_cart")), r.uv()),
    "order_buyers": lambda r: len({o["customer_id"] for o in r.placed()}),
    "placed_orders": lambda r: len(r.placed()),
    "cancelled_orders": lambda r: sum(1 for o in r.placed() if o["cancelled_at"] is not None),
    "buyers": Ref.buyers,
    "conversion_rate": lambda r: div(r.buyers(), r.uv()),
    "order_to_pay_rate": lambda r: div(r.buyers(), len({o["customer_id"] for o in r.placed()})),
    "payment_success_rate": lambda r: div(
        sum(1 for p in r.t("fact_payments") if p["succeeded"]), len(r.t("fact_payments"))
    ),
    "gmv": Ref.gmv,
    "paid_orders": lambda r: len(r.paid()),
    "aov": lambda r: div(r.gmv(), r.buyers()),
    "avg_order_value": lambda r: div(r.gmv(), len(r.paid())),
    "units": lambda r: sum(o["units"] for o in r.paid()),
    "units_per_order": lambda r: div(sum(o["units"] for o in r.paid()), len(r.paid())),
    "uv_value": lambda r: div(r.gmv(), r.uv()),
    "gross_profit": Ref.gross_profit,
    "gross_margin": lambda r: div(r.gross_profit(), r.net_line_amount()),
    "discount_amount": lambda r: sum(o["discount_total"] for o in r.paid()),
    "discount_share": lambda r: div(
        sum(o["discount_total"] for o in r.paid()),
        r.gmv() + sum(o["discount_total"] for o in r.paid()),
    ),
    "coupon_redemption_rate": lambda r: div(_coupons(r, "redeemed"), _coupons(r, "issued")),
    "hit_product_share": lambda r: div(r.hit_gmv(), r.gmv()),
    "order_amount": lambda r: sum(o["total"] for o in r.placed()),
    "new_buyers": lambda r: len(r.new_buyer_ids(r.paid())),
    "returning_buyers": lambda r: r.buyers() - len(r.new_buyer_ids(r.paid())),
    "returning_buyer_share": lambda r: div(r.buyers() - len(r.new_buyer_ids(r.paid())), r.buyers()),
    "repurchase_rate": lambda r: div(r.repeat_buyers(), r.buyers()),
    "new_buyer_gmv": Ref.new_buyer_gmv,
    "returning_buyer_gmv": lambda r: r.gmv() - r.new_buyer_gmv(),
    "ad_spend": Ref.spend,
    "cac": lambda r: div(r.spend(), r.acquired_new_buyers()),
    "roi": lambda r: div(r.paid_channel_gmv(), r.spend()),
    "refund_amount": lambda r: sum(x["amount"] for x in r.t("fact_refunds")),
    "refund_rate": lambda r: div(sum(x["amount"] for x in r.t("fact_refunds")), r.gmv()),
    "shipped_units": Ref.shipped_units,
    "returned_units": lambda r: sum(x["quantity"] for x in r.t("fact_returns")),
    "return_rate": lambda r: div(
        sum(x["quantity"] for x in r.t("fact_returns")), r.shipped_units()
    ),
    "avg_delivery_hours": lambda r: div(sum(r.delivered()), len(r.delivered())),
    "stockout_rate": lambda r: div(
        sum(1 for s in r.stock() if s["listed"] and s["available"] == 0),
        sum(1 for s in r.stock() if s["listed"]),
    ),
    "turnover_days": lambda r: div(sum(s["on_hand"] * s["unit_cost"] for s in r.stock()), r.cogs()),
}


def with_views(rows: Rows) -> Rows:
    """Rows plus the orders seen by acquisition channel (the same orders, another slicing)."""
    return {**rows, "fact_orders_acquired": rows["fact_orders"]}


def restrict(full: Rows, dim: str, value: str) -> Rows:
    """The rows that belong to `value` of dimension `dim`, table by table, the way the
    metric definitions slice them."""
    products = {p["sku_id"]: p for p in full["dim_product"]}
    customers = {c["customer_id"]: c for c in full["dim_customer"]}
    channel = order_channel(full)
    product_col = {"product_tier": "tier"}.get(dim, dim)

    def product(r: dict[str, Any]) -> str:
        p = products.get(r.get("sku_id"))
        return (p or {}).get(product_col) or "unknown"

    def customer(r: dict[str, Any]) -> str:
        c = customers.get(r.get("customer_id"))
        return (c or {}).get(dim) or "unknown"

    def col(name: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: r.get(name) or "unknown"

    product_dims = {"category", "top_category", "brand", "role", "product_tier"}
    customer_dims = {"tier", "age_band", "gender", "acquisition_channel"}
    slicers: dict[str, Callable[[dict[str, Any]], str]] = {}
    if dim in ("channel", "device", "os", "province"):
        slicers["fact_events"] = col(dim)
    if dim in ("channel", "device", "province"):
        slicers["fact_sessions"] = col(dim)
    if dim in product_dims:
        for t in (
            "fact_events",
            "fact_order_lines",
            "fact_refunds",
            "fact_returns",
            "fact_stock_daily",
        ):
            slicers[t] = product
    if dim in customer_dims:
        for t in (
            "fact_events",
            "fact_orders",
            "fact_order_lines",
            "fact_payments",
            "fact_refunds",
            "fact_returns",
            "fact_coupons",
        ):
            slicers[t] = customer
    if dim == "channel":
        slicers["fact_orders"] = lambda r: channel.get(r["order_id"], "direct")
        slicers["fact_order_lines"] = lambda r: channel.get(r["order_id"], "direct")
        slicers["fact_ad_spend"] = col("channel")
    if dim in ("sales_channel", "province"):
        slicers["fact_orders"] = col(dim)
    if dim == "sales_channel":
        slicers["fact_order_lines"] = col(dim)
    if dim == "pay_channel":
        slicers["fact_payments"] = col(dim)
    if dim in ("carrier", "province"):
        slicers["fact_shipments"] = col(dim)
    out = with_views({k: list(v) for k, v in full.items()})
    for table, key in slicers.items():
        out[table] = [r for r in full[table] if key(r) == value]
    acquired = "acquisition_channel" if dim == "channel" else dim
    if dim == "channel" or dim in customer_dims:
        out["fact_orders_acquired"] = [
            o
            for o in full["fact_orders"]
            if ((customers.get(o["customer_id"]) or {}).get(acquired) or "unknown") == value
        ]
    elif "fact_orders" in slicers:
        out["fact_orders_acquired"] = out["fact_orders"]
    return out


def expected(code: str, full: Rows, lo: dt.date, hi: dt.date, rows: Rows | None = None) -> Any:
    return METRIC_REFS[code](Ref(rows if rows is not None else with_views(full), full, lo, hi))


# The review metrics' definitions live beside their own fixture.
from tests.analytics.test_reviews_metrics import REVIEW_REFS  # noqa: E402

METRIC_REFS.update(REVIEW_REFS)
