"""Where measures come from: one `Source` per fact (and the date that places a row in a period),
the dimensions each source can be sliced by, and the joins that bring those dimensions in.

A source builds an Ibis table with `_d` (the shop-time-zone date that places the row in a
period) or `_ts` (a UTC instant, for facts whose period date is not stored: deliveries), one
`_by_<dimension>` column per requested dimension (text, 'unknown' when missing), and any extra
columns its measures need. Reads are pruned to the dates of the periods asked for first, so a
daily report reads a few partitions, not the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from shopops.analytics.engine import Warehouse

UNKNOWN = "unknown"
PAGE_EVENTS = ("page_view", "product_view")


@dataclass(frozen=True)
class Dimension:
    code: str
    name_zh: str
    name_en: str


DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        Dimension("channel", "流量渠道", "Traffic channel"),
        Dimension("sales_channel", "销售渠道", "Sales channel"),
        Dimension("pay_channel", "支付方式", "Payment channel"),
        Dimension("province", "省份", "Province"),
        Dimension("device", "设备", "Device"),
        Dimension("os", "操作系统", "Operating system"),
        Dimension("category", "类目", "Category"),
        Dimension("top_category", "一级类目", "Top category"),
        Dimension("brand", "品牌", "Brand"),
        Dimension("role", "商品角色", "Product role"),
        Dimension("product_tier", "价格带", "Product tier"),
        Dimension("tier", "会员等级", "Member tier"),
        Dimension("age_band", "年龄段", "Age band"),
        Dimension("gender", "性别", "Gender"),
        Dimension("acquisition_channel", "获客渠道", "Acquisition channel"),
        Dimension("carrier", "快递公司", "Carrier"),
    )
}

PRODUCT_DIMS = {
    "category": "category",
    "top_category": "top_category",
    "brand": "brand",
    "role": "role",
    "product_tier": "tier",
}
CUSTOMER_DIMS = {
    "tier": "tier",
    "age_band": "age_band",
    "gender": "gender",
    "acquisition_channel": "acquisition_channel",
}


@dataclass
class Context:
    """One evaluation's warehouse and the date ranges it reads (merged, sorted)."""

    wh: Warehouse
    ranges: list[tuple[dt.date, dt.date]]

    def table(self, name: str) -> ir.Table:
        return self.wh.table(name)

    @property
    def lo(self) -> dt.date:
        return self.ranges[0][0]

    @property
    def hi(self) -> dt.date:
        return self.ranges[-1][1]

    def widened(
        self, *, pad_days: int = 0, before_days: int = 0, after_days: int = 0
    ) -> list[tuple[dt.date, dt.date]]:
        """The ranges widened by `pad_days` on each side, and `before_days` / `after_days`
        more before / after each."""
        pad = dt.timedelta(days=pad_days)
        before = dt.timedelta(days=before_days)
        after = dt.timedelta(days=after_days)
        return [(lo - pad - before, hi + pad + after) for lo, hi in self.ranges]

    def within(
        self, col: ir.Value, *, pad_days: int = 0, before_days: int = 0, after_days: int = 0
    ) -> ir.BooleanValue:
        """`col` falls in one of the `widened` ranges."""
        cond: ir.BooleanValue | None = None
        for lo, hi in self.widened(
            pad_days=pad_days, before_days=before_days, after_days=after_days
        ):
            one = col.between(lo, hi)
            cond = one if cond is None else cond | one
        assert cond is not None
        return cond

    def dated(self, name: str, **widen: int) -> ir.Table:
        """Table `name` read from its partitions in the `widened` ranges only (the caller still
        filters `date` with `within`, which other backends need)."""
        return self.wh.dated(name, self.widened(**widen))

    def until(self, name: str) -> ir.Table:
        """Table `name` read from its partitions up to the last day (callers filter too)."""
        return self.wh.dated(name, [(dt.date.min, self.hi)])


def merge_ranges(ranges: Sequence[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Sorted, overlapping or adjacent ranges joined."""
    out: list[tuple[dt.date, dt.date]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _text(col: ir.Value) -> ir.StringValue:
    text = col.cast("string")
    return ibis.ifelse(text.isnull() | (text == ""), UNKNOWN, text)


def _with_product(ctx: Context, t: ir.Table, dims: Sequence[str]) -> ir.Table:
    wanted = [d for d in dims if d in PRODUCT_DIMS]
    if not wanted:
        return t
    p = ctx.table("dim_product")
    p = p.select(_p_sku=p.sku_id, **{f"_p_{d}": p[PRODUCT_DIMS[d]] for d in wanted})
    j = t.left_join(p, t.sku_id == p._p_sku)
    return j.mutate(**{f"_by_{d}": _text(j[f"_p_{d}"]) for d in wanted}).drop(
        "_p_sku", *[f"_p_{d}" for d in wanted]
    )


def _with_customer(ctx: Context, t: ir.Table, dims: Sequence[str], key: str) -> ir.Table:
    wanted = [d for d in dims if d in CUSTOMER_DIMS]
    if not wanted:
        return t
    c = ctx.table("dim_customer")
    c = c.select(_c_id=c.customer_id, **{f"_c_{d}": c[CUSTOMER_DIMS[d]] for d in wanted})
    j = t.left_join(c, t[key] == c._c_id)
    return j.mutate(**{f"_by_{d}": _text(j[f"_c_{d}"]) for d in wanted}).drop(
        "_c_id", *[f"_c_{d}" for d in wanted]
    )


def order_channels(ctx: Context) -> ir.Table:
    """Each paid order's traffic channel: the channel of the session its `pay` event happened in
    (a session ends at a new channel, so this is the last non-direct click within it; sessions
    arriving direct stay direct). Columns `_o_id`, `_o_channel`."""
    ev = ctx.dated("fact_events", pad_days=1)
    pays = ev.filter((ev.event == "pay") & ev.order_id.notnull() & ctx.within(ev.date, pad_days=1))
    return pays.group_by(_o_id=pays.order_id).aggregate(_o_channel=pays.channel.argmax(pays.ts_at))


def _with_order_channel(ctx: Context, t: ir.Table) -> ir.Table:
    oc = order_channels(ctx)
    j = t.left_join(oc, t.order_id == oc._o_id)
    channel = ibis.ifelse(
        j._o_channel.isnull() | (j._o_channel == ""), "direct", j._o_channel.cast("string")
    )
    return j.mutate(_by_channel=channel).drop("_o_id", "_o_channel")


def _first_dates(t: ir.Table, key: str, date: str, name: str) -> ir.Table:
    return t.group_by(**{f"_k_{name}": t[key]}).aggregate(**{name: t[date].min()})


def _first_known(ctx: Context, derived: str, name: str) -> ir.Table | None:
    """`_first_dates` from the loader's summary when it is current. The summary holds the
    first date over all history; only first dates within the evaluation's ranges are kept:
    measures count a first date only inside a scope, and every scope lies within the ranges
    (a first date after `ctx.hi` means none up to it, so dropping it equals the facts' first
    date up to `ctx.hi`; one before or between the ranges is in no scope). Joining a few days'
    first dates, not every person's, is most of the saving."""
    known = ctx.wh.derived(derived)
    if known is None or known[1].get("min_lag_days", 0) < 0:
        return None
    d = known[0]
    d = d.filter(ctx.within(d.first_date))
    return d.select(**{f"_k_{name}": d.key, name: d.first_date})


# A source's builder: (context, dimensions wanted, extra features wanted) → table.
Builder = Callable[[Context, Sequence[str], frozenset[str]], ir.Table]


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    dims: tuple[str, ...]
    build: Builder
    # "date": rows carry `_d`; "ts": rows carry `_ts` (a UTC instant).
    scope: str = "date"
    features: frozenset[str] = field(default_factory=frozenset)


def _cols(t: ir.Table, dims: Sequence[str], direct: dict[str, str]) -> ir.Table:
    return t.mutate(**{f"_by_{d}": _text(t[direct[d]]) for d in dims if d in direct})


def _events(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    ev = ctx.dated("fact_events")
    t = ev.filter(ctx.within(ev.date)).mutate(_d=ev.date)
    t = _cols(
        t, dims, {"channel": "channel", "device": "device", "os": "os", "province": "province"}
    )
    t = _with_product(ctx, t, dims)
    t = _with_customer(ctx, t, dims, "customer_id")
    if "first_event" in features:
        # A session's date is its first event's: the first session gives the first event's
        # day from a table a fraction of the size. Later partitions cannot hold a first visit.
        first = _first_known(ctx, "first_seen", "_first_event")
        if first is None:
            s = ctx.until("fact_sessions")
            # Only the people seen in the periods: a semi-join, not a group-by over all history.
            seen = t.select(_k=t.person_id).distinct()
            hist = s.filter(s.date <= ctx.hi).semi_join(seen, s.person_id == seen._k)
            first = _first_dates(hist, "person_id", "date", "_first_event")
        t = t.left_join(first, t.person_id == first._k__first_event).drop("_k__first_event")
    return t


def _sessions(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    s = ctx.dated("fact_sessions")
    t = s.filter(ctx.within(s.date)).mutate(_d=s.date)
    return _cols(t, dims, {"channel": "channel", "device": "device", "province": "province"})


def _orders_paid(acquisition: bool) -> Builder:
    def build(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
        # Placed no later than paid: partitions after the last day cannot hold its payments,
        # and none placed more than the warehouse's longest pay lag before the first day.
        known = ctx.wh.derived("first_paid")
        if known is not None and known[1].get("min_lag_days", 0) >= 0:
            lag = int(known[1]["max_lag_days"])
            o = ctx.dated("fact_orders", before_days=lag)
            placed = ctx.within(o.date, before_days=lag)
        else:
            # Listing every partition only when it is read (a plan replays each listing).
            o = ctx.until("fact_orders")
            placed = o.date <= ctx.hi
        t = o.filter(placed & o.paid_date.notnull() & ctx.within(o.paid_date))
        t = t.mutate(_d=t.paid_date)
        t = _cols(t, dims, {"sales_channel": "sales_channel", "province": "province"})
        if acquisition:
            cust_dims = [*dims, "acquisition_channel"] if "channel" in dims else list(dims)
            t = _with_customer(ctx, t, cust_dims, "customer_id")
            if "channel" in dims:
                t = t.mutate(_by_channel=t._by_acquisition_channel)
        else:
            t = _with_customer(ctx, t, dims, "customer_id")
            if "channel" in dims or "order_channel" in features:
                t = _with_order_channel(ctx, t)
        if "first_paid" in features:
            first = _first_known(ctx, "first_paid", "_first_paid")
            if first is None:
                seen = t.select(_k=t.customer_id).distinct()
                paid = o.filter((o.date <= ctx.hi) & o.paid_date.notnull())
                paid = paid.semi_join(seen, paid.customer_id == seen._k)
                first = _first_dates(paid, "customer_id", "paid_date", "_first_paid")
            t = t.left_join(first, t.customer_id == first._k__first_paid).drop("_k__first_paid")
        return t

    return build


def _orders_placed(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    o = ctx.dated("fact_orders")
    t = o.filter(ctx.within(o.date)).mutate(_d=o.date)
    t = _cols(t, dims, {"sales_channel": "sales_channel", "province": "province"})
    return _with_customer(ctx, t, dims, "customer_id")


def _lines(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    li = ctx.dated("fact_order_lines")
    t = li.filter(ctx.within(li.date)).mutate(_d=li.date)
    t = _cols(t, dims, {"sales_channel": "sales_channel"})
    t = _with_product(ctx, t, dims)
    t = _with_customer(ctx, t, dims, "customer_id")
    if "channel" in dims:
        t = _with_order_channel(ctx, t)
    if "line_refunds" in features:
        known = ctx.wh.derived("line_refunds")
        if known is not None:
            # The loader's per-line sums over every refund (one file, not every partition).
            k = known[0]
            per_line = k.select(_r_line=k.line_id, _r_amount=k.amount, _r_cost=k.cost)
        else:
            r = ctx.wh.dated("fact_refunds")
            r = r.filter(r.line_id.notnull())
            per_line = r.group_by(_r_line=r.line_id).aggregate(
                _r_amount=r.amount.sum(), _r_cost=r.cost.sum()
            )
        j = t.left_join(per_line, t.line_id == per_line._r_line)
        t = j.mutate(
            _refund_amount=j._r_amount.fill_null(0), _refund_cost=j._r_cost.fill_null(0)
        ).drop("_r_line", "_r_amount", "_r_cost")
    return t


def _simple(table: str, direct: dict[str, str], *, product: bool = False, customer: bool = False):
    def build(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
        src = ctx.dated(table)
        t = src.filter(ctx.within(src.date)).mutate(_d=src.date)
        t = _cols(t, dims, direct)
        if product:
            t = _with_product(ctx, t, dims)
        if customer:
            t = _with_customer(ctx, t, dims, "customer_id")
        return t

    return build


def _deliveries(ctx: Context, dims: Sequence[str], features: frozenset[str]) -> ir.Table:
    # Shipped (the partition date) no later than delivered, and no earlier than the longest
    # delivery lag (UTC dates, plus a day for the shop's time zone) before the first day.
    known = ctx.wh.derived("delivery_lag")
    if known is not None:
        # UTC dates are a day off the shop's at most; a negative lag widens the far side.
        lag = known[1]
        widen = {
            "before_days": int(lag["max_lag_days"]) + 1,
            "after_days": max(0, -int(lag.get("min_lag_days", 0))) + 1,
        }
        s = ctx.dated("fact_shipments", **widen)
        shipped = (s.date <= ctx.hi) & ctx.within(s.date, **widen)
    else:
        s = ctx.until("fact_shipments")
        shipped = s.date <= ctx.hi
    t = s.filter(shipped & (s.direction == "outbound") & s.delivered_at.notnull()).mutate(
        _ts=s.delivered_at
    )
    return _cols(t, dims, {"carrier": "carrier", "province": "province"})


_PROD = tuple(PRODUCT_DIMS)
_CUST = tuple(CUSTOMER_DIMS)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "events",
            "fact_events",
            ("channel", "device", "os", "province", *_PROD, *_CUST),
            _events,
        ),
        Source("sessions", "fact_sessions", ("channel", "device", "province"), _sessions),
        Source(
            "orders",
            "fact_orders",
            ("channel", "sales_channel", "province", *_CUST),
            _orders_paid(acquisition=False),
        ),
        Source(
            "orders_acquired",
            "fact_orders",
            ("channel", "sales_channel", "province", *_CUST),
            _orders_paid(acquisition=True),
        ),
        Source(
            "orders_placed",
            "fact_orders",
            ("sales_channel", "province", *_CUST),
            _orders_placed,
        ),
        Source(
            "lines",
            "fact_order_lines",
            ("channel", "sales_channel", *_PROD, *_CUST),
            _lines,
        ),
        Source(
            "payments",
            "fact_payments",
            ("pay_channel", *_CUST),
            _simple("fact_payments", {"pay_channel": "pay_channel"}, customer=True),
        ),
        Source(
            "refunds",
            "fact_refunds",
            (*_PROD, *_CUST),
            _simple("fact_refunds", {}, product=True, customer=True),
        ),
        Source(
            "shipments",
            "fact_shipments",
            ("carrier", "province"),
            _simple("fact_shipments", {"carrier": "carrier", "province": "province"}),
        ),
        Source("deliveries", "fact_shipments", ("carrier", "province"), _deliveries, scope="ts"),
        Source(
            "returns",
            "fact_returns",
            (*_PROD, *_CUST),
            _simple("fact_returns", {}, product=True, customer=True),
        ),
        Source(
            "coupons",
            "fact_coupons",
            _CUST,
            _simple("fact_coupons", {}, customer=True),
        ),
        Source(
            "stock",
            "fact_stock_daily",
            _PROD,
            _simple("fact_stock_daily", {}, product=True),
        ),
        Source(
            "ad_spend",
            "fact_ad_spend",
            ("channel",),
            _simple("fact_ad_spend", {"channel": "channel"}),
        ),
    )
}
