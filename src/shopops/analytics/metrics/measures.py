"""The additive building blocks of metrics: one Ibis aggregate per measure, over its source.

Measures are evaluated per *scope* (a period, a comparison period or a grain bucket): the
scoped table carries `_scope`, `_start`, `_end` (the scope's first and last shop dates) beside
the source's columns. Measures of one source are computed together in one aggregate query;
`custom` measures (two-level: per visitor, per customer, per SKU first) get their own query.
Metrics are formulas over measures, so a ratio is always a ratio of the scope's totals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from shopops.analytics.metrics.sources import PAGE_EVENTS
from shopops.analytics.schema import NATURAL_CHANNELS, PAID_CHANNELS

# Top-N SKUs by gmv that count as hit products (爆款).
HIT_PRODUCTS = 5

Agg = Callable[[ir.Table], ir.Scalar]
# (scoped table, group keys) → table of the keys and one column per measure it computes
# (named as the measures); measures sharing a custom function share its query.
Custom = Callable[[ir.Table, Sequence[str]], ir.Table]


@dataclass(frozen=True)
class Measure:
    name: str
    source: str
    agg: Agg | None = None
    custom: Custom | None = None
    features: frozenset[str] = field(default_factory=frozenset)


def _in_scope(col: ir.Value, s: ir.Table) -> ir.BooleanValue:
    return col.notnull() & (col >= s._start) & (col <= s._end)


def _per_visitor(s: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Visitor-level facts of the scope (channel of their first event, searched, viewed),
    counted: one query for every measure that needs a visitor's whole scope."""
    per = s.group_by([*keys, "person_id"]).aggregate(
        _ch=s.channel.argmin(s.ts_at),
        _s=(s.event == "search").any(),
        _v=(s.event == "product_view").any(),
    )
    return per.group_by(list(keys)).aggregate(
        natural_uv=per.count(where=per._ch.isin(NATURAL_CHANNELS)),
        paid_uv=per.count(where=per._ch.isin(PAID_CHANNELS)),
        search_view_uv=per.count(where=per._s & per._v),
    )


def _daily_uv_sum(s: ir.Table, keys: Sequence[str]) -> ir.Table:
    per = s.group_by([*keys, "_d"]).aggregate(_u=s.person_id.nunique())
    return per.group_by(list(keys)).aggregate(daily_uv_sum=per._u.sum())


def _repeat_buyers(s: ir.Table, keys: Sequence[str]) -> ir.Table:
    per = s.group_by([*keys, "customer_id"]).aggregate(_n=s.order_id.nunique())
    return per.group_by(list(keys)).aggregate(repeat_buyers=per.count(where=per._n >= 2))


def _hit_gmv(s: ir.Table, keys: Sequence[str]) -> ir.Table:
    per = s.group_by([*keys, "sku_id"]).aggregate(_g=s.total.sum())
    rank = ibis.row_number().over(group_by=list(keys), order_by=[ibis.desc("_g"), "sku_id"])
    ranked = per.mutate(_rank=rank)
    return ranked.group_by(list(keys)).aggregate(
        hit_gmv=ranked._g.sum(where=ranked._rank < HIT_PRODUCTS)
    )


def _line_cost(s: ir.Table) -> ir.IntegerValue:
    return s.unit_cost * s.quantity


_FIRST_PAID = frozenset({"first_paid"})

MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        # events
        Measure("uv", "events", lambda s: s.person_id.nunique()),
        Measure("pv", "events", lambda s: s.count(where=s.event.isin(PAGE_EVENTS))),
        Measure(
            "product_view_uv",
            "events",
            lambda s: s.person_id.nunique(where=s.event == "product_view"),
        ),
        Measure("cart_uv", "events", lambda s: s.person_id.nunique(where=s.event == "add_to_cart")),
        Measure("search_uv", "events", lambda s: s.person_id.nunique(where=s.event == "search")),
        Measure(
            "new_visitors",
            "events",
            lambda s: s.person_id.nunique(where=_in_scope(s._first_event, s)),
            features=frozenset({"first_event"}),
        ),
        # a visitor counts in the channel of their first event (so session) in the scope
        Measure("natural_uv", "events", custom=_per_visitor),
        Measure("paid_uv", "events", custom=_per_visitor),
        Measure("search_view_uv", "events", custom=_per_visitor),
        Measure("daily_uv_sum", "events", custom=_daily_uv_sum),
        # sessions
        Measure("sessions", "sessions", lambda s: s.count()),
        Measure(
            "session_seconds",
            "sessions",
            lambda s: s.duration_seconds.sum(where=s.events >= 2),
        ),
        Measure(
            "bounces", "sessions", lambda s: s.count(where=(s.events == 1) & (s.page_views == 1))
        ),
        # orders paid in the period
        Measure("gmv", "orders", lambda s: s.paid_amount.sum()),
        Measure("paid_orders", "orders", lambda s: s.count()),
        Measure("buyers", "orders", lambda s: s.customer_id.nunique()),
        Measure("units", "orders", lambda s: s.units.sum()),
        Measure("discounts", "orders", lambda s: s.discount_total.sum()),
        Measure(
            "new_buyers",
            "orders",
            lambda s: s.customer_id.nunique(where=_in_scope(s._first_paid, s)),
            features=_FIRST_PAID,
        ),
        Measure(
            "new_buyer_gmv",
            "orders",
            lambda s: s.paid_amount.sum(where=_in_scope(s._first_paid, s)),
            features=_FIRST_PAID,
        ),
        Measure("repeat_buyers", "orders", custom=_repeat_buyers),
        Measure(
            "paid_channel_gmv",
            "orders",
            lambda s: s.paid_amount.sum(where=s._by_channel.isin(PAID_CHANNELS)),
            features=frozenset({"order_channel"}),
        ),
        Measure(
            "acquired_new_buyers",
            "orders_acquired",
            lambda s: s.customer_id.nunique(where=_in_scope(s._first_paid, s)),
            features=_FIRST_PAID,
        ),
        # orders placed in the period
        Measure("order_buyers", "orders_placed", lambda s: s.customer_id.nunique()),
        Measure("placed_orders", "orders_placed", lambda s: s.count()),
        Measure("order_amount", "orders_placed", lambda s: s.total.sum()),
        Measure(
            "cancelled_orders", "orders_placed", lambda s: s.count(where=s.cancelled_at.notnull())
        ),
        # lines of orders paid in the period
        Measure(
            "gross_profit",
            "lines",
            lambda s: (s.total - _line_cost(s) - s._refund_amount + s._refund_cost).sum(),
            features=frozenset({"line_refunds"}),
        ),
        Measure(
            "net_line_amount",
            "lines",
            lambda s: (s.total - s._refund_amount).sum(),
            features=frozenset({"line_refunds"}),
        ),
        Measure("cogs", "lines", lambda s: _line_cost(s).sum()),
        Measure("hit_gmv", "lines", custom=_hit_gmv),
        # payments, refunds, logistics, coupons, stock, ads
        Measure("payment_attempts", "payments", lambda s: s.count()),
        Measure("payment_successes", "payments", lambda s: s.count(where=s.succeeded)),
        Measure("refund_amount", "refunds", lambda s: s.amount.sum()),
        Measure(
            "shipped_units", "shipments", lambda s: s.units.sum(where=s.direction == "outbound")
        ),
        Measure("deliveries", "deliveries", lambda s: s.count()),
        Measure(
            "delivery_seconds",
            "deliveries",
            # DuckDB's epoch is fractional (µs timestamps): sum seconds as floats.
            lambda s: (
                s.delivered_at.epoch_seconds().cast("float64")
                - s.shipped_at.epoch_seconds().cast("float64")
            ).sum(),
        ),
        Measure("returned_units", "returns", lambda s: s.quantity.sum()),
        Measure("coupons_issued", "coupons", lambda s: s.count(where=s.action == "issued")),
        Measure("coupons_redeemed", "coupons", lambda s: s.count(where=s.action == "redeemed")),
        Measure("listed_sku_days", "stock", lambda s: s.count(where=s.listed)),
        Measure(
            "stockout_sku_days",
            "stock",
            lambda s: s.count(where=s.listed & (s.available <= 0)),
        ),
        Measure("stock_value_days", "stock", lambda s: (s.on_hand * s.unit_cost).sum()),
        Measure("ad_spend", "ad_spend", lambda s: s.spend.sum()),
    )
}
