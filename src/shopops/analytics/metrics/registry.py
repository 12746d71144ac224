"""The metric registry: every metric once, as in docs METRICS.md (codes are the contract).

A metric is a formula over measures (`measures.py`): counts and sums are measures themselves,
ratios divide the scope's totals (never an average of daily ratios). `dims` of a metric are
the dimensions every one of its measures' sources can be sliced by.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shopops.analytics.metrics.measures import HIT_PRODUCTS, MEASURES
from shopops.analytics.metrics.sources import SOURCES

GROUPS = ("流量", "转化", "客单价", "复购", "售后库存服务")
GROUP_EN = {
    "流量": "Traffic",
    "转化": "Conversion",
    "客单价": "Value",
    "复购": "Retention",
    "售后库存服务": "After-sales, stock, service",
}
UNITS = ("count", "fen", "ratio", "seconds", "hours", "days")

Values = Mapping[str, float | int | None]


def ratio(num: float | int | None, den: float | int | None, scale: float = 1.0) -> float | None:
    """num / den, or None when the denominator is 0 or missing (an empty period)."""
    if num is None or not den:
        return None
    return num / den * scale


@dataclass(frozen=True)
class Metric:
    code: str
    name_zh: str
    name_en: str
    group: str
    formula: str
    unit: str
    good_direction: str
    measures: tuple[str, ...] = ()
    compute: Callable[[Values], float | int | None] | None = None
    # How to show a value: "int", "money", "percent", "decimal", "seconds", "hours", "days".
    format: str = "int"
    available: bool = True
    note: str = ""
    dims: tuple[str, ...] = field(default=(), compare=False)

    def value(self, values: Values) -> float | int | None:
        if self.compute is not None:
            return self.compute(values)
        v = values.get(self.measures[0])
        return 0 if v is None else v

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "group": self.group,
            "group_en": GROUP_EN[self.group],
            "formula": self.formula,
            "unit": self.unit,
            "good_direction": self.good_direction,
            "format": self.format,
            "available": self.available,
            "dimensions": list(self.dims),
            "note": self.note,
        }


def _r(num: str, den: str, scale: float = 1.0) -> Callable[[Values], float | None]:
    return lambda v: ratio(v.get(num), v.get(den), scale)


def _m(code, zh, en, group, formula, unit, good, measures, compute=None, fmt="int", **kw):
    return Metric(code, zh, en, group, formula, unit, good, tuple(measures), compute, fmt, **kw)


def _returning(v: Values) -> int:
    return (v.get("buyers") or 0) - (v.get("new_buyers") or 0)


def _gross_margin(v: Values) -> float | None:
    return ratio(v.get("gross_profit"), v.get("net_line_amount"))


def _discount_share(v: Values) -> float | None:
    discounts = v.get("discounts") or 0
    return ratio(discounts, (v.get("gmv") or 0) + discounts)


_DEFS: tuple[Metric, ...] = (
    # 流量 Traffic
    _m(
        "uv",
        "访客数",
        "Visitors (UV)",
        "流量",
        "distinct visitors with ≥ 1 event",
        "count",
        "up",
        ["uv"],
    ),
    _m(
        "pv",
        "浏览量",
        "Page views (PV)",
        "流量",
        "page_view + product_view events",
        "count",
        "up",
        ["pv"],
    ),
    _m(
        "sessions",
        "访问次数",
        "Sessions",
        "流量",
        "sessions started in the period (30 min inactivity or a new channel ends one)",
        "count",
        "up",
        ["sessions"],
    ),
    _m(
        "pv_per_uv",
        "人均浏览量",
        "Page views per visitor",
        "流量",
        "pv / uv",
        "count",
        "up",
        ["pv", "uv"],
        _r("pv", "uv"),
        "decimal",
    ),
    _m(
        "avg_session_seconds",
        "平均停留时长",
        "Average time on site",
        "流量",
        "Σ (last − first event) over sessions with ≥ 2 events / sessions (single-event "
        "sessions count 0)",
        "seconds",
        "up",
        ["session_seconds", "sessions"],
        _r("session_seconds", "sessions"),
        "seconds",
    ),
    _m(
        "bounce_rate",
        "跳出率",
        "Bounce rate",
        "流量",
        "sessions with exactly one page/product view and no other action / sessions",
        "ratio",
        "down",
        ["bounces", "sessions"],
        _r("bounces", "sessions"),
        "percent",
    ),
    _m(
        "new_visitors",
        "新访客数",
        "New visitors",
        "流量",
        "visitors whose first-ever event is in the period",
        "count",
        "up",
        ["new_visitors"],
    ),
    _m(
        "new_visitor_share",
        "新访客占比",
        "New visitor share",
        "流量",
        "new_visitors / uv",
        "ratio",
        "up",
        ["new_visitors", "uv"],
        _r("new_visitors", "uv"),
        "percent",
    ),
    _m(
        "natural_traffic_share",
        "自然流量占比",
        "Natural traffic share",
        "流量",
        "uv whose first session in the period came from organic search, direct, private domain "
        "or referral / uv",
        "ratio",
        "up",
        ["natural_uv", "uv"],
        _r("natural_uv", "uv"),
        "percent",
    ),
    _m(
        "paid_traffic_share",
        "付费流量占比",
        "Paid traffic share",
        "流量",
        "uv whose first session in the period came from paid search, display, affiliate, feed "
        "ads or influencer / uv",
        "ratio",
        "down",
        ["paid_uv", "uv"],
        _r("paid_uv", "uv"),
        "percent",
    ),
    _m(
        "dau",
        "日均访客数",
        "Daily active visitors",
        "流量",
        "Σ daily uv / days in the period",
        "count",
        "up",
        ["daily_uv_sum"],
        lambda v: ratio(v.get("daily_uv_sum") or 0, v.get("_days")),
        "decimal",
    ),
    _m(
        "search_uv",
        "搜索访客数",
        "Searching visitors",
        "流量",
        "visitors with ≥ 1 search",
        "count",
        "up",
        ["search_uv"],
    ),
    _m(
        "search_to_view_rate",
        "搜索-浏览转化率",
        "Search-to-view rate",
        "流量",
        "visitors with ≥ 1 search and ≥ 1 product_view / search_uv",
        "ratio",
        "up",
        ["search_view_uv", "search_uv"],
        _r("search_view_uv", "search_uv"),
        "percent",
    ),
    # 转化 Conversion
    _m(
        "product_view_uv",
        "商品访客数",
        "Product visitors",
        "转化",
        "visitors with ≥ 1 product_view",
        "count",
        "up",
        ["product_view_uv"],
    ),
    _m(
        "cart_uv",
        "加购人数",
        "Add-to-cart visitors",
        "转化",
        "visitors with ≥ 1 add_to_cart",
        "count",
        "up",
        ["cart_uv"],
    ),
    _m(
        "add_to_cart_rate",
        "加购率",
        "Add-to-cart rate",
        "转化",
        "cart_uv / uv",
        "ratio",
        "up",
        ["cart_uv", "uv"],
        _r("cart_uv", "uv"),
        "percent",
    ),
    _m(
        "order_buyers",
        "下单买家数",
        "Ordering customers",
        "转化",
        "customers who created ≥ 1 order in the period",
        "count",
        "up",
        ["order_buyers"],
    ),
    _m(
        "placed_orders",
        "下单订单数",
        "Orders placed",
        "转化",
        "orders created in the period",
        "count",
        "up",
        ["placed_orders"],
    ),
    _m(
        "cancelled_orders",
        "取消订单数",
        "Cancelled orders",
        "转化",
        "orders created in the period that were cancelled",
        "count",
        "down",
        ["cancelled_orders"],
    ),
    _m(
        "buyers",
        "支付买家数",
        "Paying customers",
        "转化",
        "customers with ≥ 1 order paid in the period",
        "count",
        "up",
        ["buyers"],
    ),
    _m(
        "conversion_rate",
        "支付转化率",
        "Conversion rate",
        "转化",
        "buyers / uv",
        "ratio",
        "up",
        ["buyers", "uv"],
        _r("buyers", "uv"),
        "percent",
    ),
    _m(
        "order_to_pay_rate",
        "下单-支付转化率",
        "Order-to-pay rate",
        "转化",
        "buyers / order_buyers",
        "ratio",
        "up",
        ["buyers", "order_buyers"],
        _r("buyers", "order_buyers"),
        "percent",
    ),
    _m(
        "payment_success_rate",
        "支付成功率",
        "Payment success rate",
        "转化",
        "successful payment attempts / payment attempts",
        "ratio",
        "up",
        ["payment_successes", "payment_attempts"],
        _r("payment_successes", "payment_attempts"),
        "percent",
    ),
    # 客单价 Value
    _m(
        "gmv",
        "支付金额",
        "GMV",
        "客单价",
        "Σ paid amount of orders paid in the period (refunds not deducted)",
        "fen",
        "up",
        ["gmv"],
        fmt="money",
    ),
    _m(
        "paid_orders",
        "支付订单数",
        "Paid orders",
        "客单价",
        "orders paid in the period",
        "count",
        "up",
        ["paid_orders"],
    ),
    _m(
        "aov",
        "客单价",
        "Average spend per buyer",
        "客单价",
        "gmv / buyers",
        "fen",
        "up",
        ["gmv", "buyers"],
        _r("gmv", "buyers"),
        "money",
    ),
    _m(
        "avg_order_value",
        "笔单价",
        "Average order value",
        "客单价",
        "gmv / paid_orders",
        "fen",
        "up",
        ["gmv", "paid_orders"],
        _r("gmv", "paid_orders"),
        "money",
    ),
    _m(
        "units",
        "支付件数",
        "Units sold",
        "客单价",
        "units in orders paid in the period",
        "count",
        "up",
        ["units"],
    ),
    _m(
        "units_per_order",
        "连带率",
        "Units per order",
        "客单价",
        "units / paid_orders",
        "count",
        "up",
        ["units", "paid_orders"],
        _r("units", "paid_orders"),
        "decimal",
    ),
    _m(
        "uv_value",
        "UV价值",
        "Value per visitor",
        "客单价",
        "gmv / uv",
        "fen",
        "up",
        ["gmv", "uv"],
        _r("gmv", "uv"),
        "money",
    ),
    _m(
        "gross_profit",
        "毛利",
        "Gross profit",
        "客单价",
        "Σ (paid line amount − unit cost × quantity) over lines of orders paid in the period, "
        "less their refunds (refund amount − refunded cost)",
        "fen",
        "up",
        ["gross_profit"],
        fmt="money",
    ),
    _m(
        "gross_margin",
        "毛利率",
        "Gross margin",
        "客单价",
        "gross_profit / (gmv − shipping − refunds) = gross_profit / Σ (paid line amount − line "
        "refunds) over the same lines",
        "ratio",
        "up",
        ["gross_profit", "net_line_amount"],
        _gross_margin,
        "percent",
    ),
    _m(
        "discount_amount",
        "优惠金额",
        "Discounts",
        "客单价",
        "Σ discounts on orders paid in the period",
        "fen",
        "down",
        ["discounts"],
        fmt="money",
    ),
    _m(
        "discount_share",
        "优惠占比",
        "Discount share",
        "客单价",
        "discounts on paid orders / (gmv + discounts)",
        "ratio",
        "down",
        ["discounts", "gmv"],
        _discount_share,
        "percent",
    ),
    _m(
        "coupon_redemption_rate",
        "优惠券核销率",
        "Coupon redemption rate",
        "客单价",
        "coupons redeemed in the period / coupons issued in the period",
        "ratio",
        "up",
        ["coupons_redeemed", "coupons_issued"],
        _r("coupons_redeemed", "coupons_issued"),
        "percent",
    ),
    _m(
        "hit_product_share",
        "爆款销售占比",
        "Hit-product share",
        "客单价",
        f"Σ paid line amount of the top {HIT_PRODUCTS} SKUs by it / gmv",
        "ratio",
        "up",
        ["hit_gmv", "gmv"],
        _r("hit_gmv", "gmv"),
        "percent",
    ),
    _m(
        "order_amount",
        "下单金额",
        "Ordered amount",
        "客单价",
        "Σ total of orders created in the period",
        "fen",
        "up",
        ["order_amount"],
        fmt="money",
    ),
    # 复购 Retention
    _m(
        "new_buyers",
        "新买家数",
        "New buyers",
        "复购",
        "buyers whose first-ever paid order is in the period",
        "count",
        "up",
        ["new_buyers"],
    ),
    _m(
        "returning_buyers",
        "老买家数",
        "Returning buyers",
        "复购",
        "buyers − new_buyers",
        "count",
        "up",
        ["buyers", "new_buyers"],
        _returning,
    ),
    _m(
        "returning_buyer_share",
        "老买家占比",
        "Returning buyer share",
        "复购",
        "returning_buyers / buyers",
        "ratio",
        "up",
        ["buyers", "new_buyers"],
        lambda v: ratio(_returning(v), v.get("buyers")),
        "percent",
    ),
    _m(
        "repurchase_rate",
        "复购率",
        "Repurchase rate",
        "复购",
        "buyers with ≥ 2 orders paid in the period / buyers",
        "ratio",
        "up",
        ["repeat_buyers", "buyers"],
        _r("repeat_buyers", "buyers"),
        "percent",
    ),
    _m(
        "new_buyer_gmv",
        "新买家支付金额",
        "New buyers' GMV",
        "复购",
        "gmv of orders paid in the period by new_buyers",
        "fen",
        "up",
        ["new_buyer_gmv"],
        fmt="money",
    ),
    _m(
        "returning_buyer_gmv",
        "老买家支付金额",
        "Returning buyers' GMV",
        "复购",
        "gmv − new_buyer_gmv",
        "fen",
        "up",
        ["gmv", "new_buyer_gmv"],
        lambda v: (v.get("gmv") or 0) - (v.get("new_buyer_gmv") or 0),
        "money",
    ),
    _m(
        "ad_spend",
        "推广花费",
        "Ad spend",
        "复购",
        "Σ ad spend in the period",
        "fen",
        "down",
        ["ad_spend"],
        fmt="money",
    ),
    _m(
        "cac",
        "获客成本",
        "Customer acquisition cost",
        "复购",
        "ad spend / new buyers (by channel: channel spend / new buyers whose acquisition channel "
        "it is)",
        "fen",
        "down",
        ["ad_spend", "acquired_new_buyers"],
        _r("ad_spend", "acquired_new_buyers"),
        "money",
    ),
    _m(
        "roi",
        "投产比",
        "ROI (return on ad spend)",
        "复购",
        "gmv attributed to paid channels (the channel of the session that paid) / ad spend",
        "ratio",
        "up",
        ["paid_channel_gmv", "ad_spend"],
        _r("paid_channel_gmv", "ad_spend"),
        "decimal",
    ),
    # 售后库存服务 After-sales, stock, service
    _m(
        "refund_amount",
        "退款金额",
        "Refunds",
        "售后库存服务",
        "Σ successful refund amounts in the period",
        "fen",
        "down",
        ["refund_amount"],
        fmt="money",
    ),
    _m(
        "refund_rate",
        "退款率",
        "Refund rate",
        "售后库存服务",
        "successful refund amount in the period / gmv of the period",
        "ratio",
        "down",
        ["refund_amount", "gmv"],
        _r("refund_amount", "gmv"),
        "percent",
    ),
    _m(
        "shipped_units",
        "发货件数",
        "Units shipped",
        "售后库存服务",
        "units in outbound shipments shipped in the period",
        "count",
        "up",
        ["shipped_units"],
    ),
    _m(
        "returned_units",
        "退货件数",
        "Units returned",
        "售后库存服务",
        "units of returns received in the period",
        "count",
        "down",
        ["returned_units"],
    ),
    _m(
        "return_rate",
        "退货率",
        "Return rate",
        "售后库存服务",
        "units returned (received) / units shipped, both in the period",
        "ratio",
        "down",
        ["returned_units", "shipped_units"],
        _r("returned_units", "shipped_units"),
        "percent",
    ),
    _m(
        "avg_delivery_hours",
        "平均配送时长",
        "Average delivery time",
        "售后库存服务",
        "mean hours from shipment to delivered, over outbound shipments delivered in the period",
        "hours",
        "down",
        ["delivery_seconds", "deliveries"],
        _r("delivery_seconds", "deliveries", 1 / 3600),
        "hours",
    ),
    _m(
        "stockout_rate",
        "缺货率",
        "Stock-out rate",
        "售后库存服务",
        "SKU-days with available = 0 (or less) among listed SKUs / listed SKU-days",
        "ratio",
        "down",
        ["stockout_sku_days", "listed_sku_days"],
        _r("stockout_sku_days", "listed_sku_days"),
        "percent",
    ),
    _m(
        "turnover_days",
        "库存周转天数",
        "Inventory turnover days",
        "售后库存服务",
        "average on-hand units at cost / cost of goods sold per day = Σ daily on-hand × unit "
        "cost / Σ cost of lines paid in the period",
        "days",
        "down",
        ["stock_value_days", "cogs"],
        _r("stock_value_days", "cogs"),
        "days",
    ),
    _m(
        "complaint_rate",
        "投诉率",
        "Complaint rate",
        "售后库存服务",
        "complaint tickets opened / paid_orders",
        "ratio",
        "down",
        (),
        lambda v: None,
        "percent",
        available=False,
        note="appears with the help desk",
    ),
    _m(
        "csat",
        "满意度",
        "Customer satisfaction",
        "售后库存服务",
        "mean of post-service ratings 1–5",
        "count",
        "up",
        (),
        lambda v: None,
        "decimal",
        available=False,
        note="appears with the help desk",
    ),
)


def _dims(metric: Metric) -> tuple[str, ...]:
    if not metric.measures:
        return ()
    common: set[str] | None = None
    for name in metric.measures:
        dims = set(SOURCES[MEASURES[name].source].dims)
        common = dims if common is None else common & dims
    order = list(
        dict.fromkeys(d for m in metric.measures for d in SOURCES[MEASURES[m].source].dims)
    )
    return tuple(d for d in order if d in (common or set()))


METRICS: dict[str, Metric] = {m.code: Metric(**{**m.__dict__, "dims": _dims(m)}) for m in _DEFS}
