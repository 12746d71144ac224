"""The daily report written plainly with pandas (the benchmark's baseline and its correctness
check): read the Parquet files the straightforward way (needed columns, partition filters),
compute every measure per scope (the day, the day before, the same day last year), then the
funnel, monthly retention cohorts and RFM. Metric formulas (ratios of measures) are the
registry's; every measure is computed here independently of the Ibis definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from shopops.analytics.metrics.registry import METRICS

PAGES = ["page_view", "product_view"]
PAID = ["paid_search", "display", "affiliate", "feed_ads", "influencer"]
NATURAL = ["organic_search", "direct", "private_domain", "referral"]
TZ_HOURS = 8


def read(
    root: Path,
    table: str,
    columns: list[str],
    days: list[dt.date] | None = None,
    hi: dt.date | None = None,
) -> pd.DataFrame:
    dataset = ds.dataset(root / table, format="parquet", partitioning="hive")
    filt = None
    if days is not None:
        filt = ds.field("date").isin([d.isoformat() for d in days])
    elif hi is not None:
        filt = ds.field("date") <= hi.isoformat()
    # Dates as datetime64, not Python date objects: groupby min/max on an object column
    # falls back to a Python call per group (a million of them for first-seen dates).
    df = dataset.to_table(columns=columns, filter=filt).to_pandas(date_as_object=False)
    if "date" in df.columns:
        df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    return df


def _dim(root: Path, table: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(root / table / "part-0.parquet", columns=columns)


def measures(root: Path, scopes: dict[str, dt.date]) -> dict[str, dict[str, float]]:
    """Every measure of the report for each single-day scope."""
    days = sorted(set(scopes.values()))
    hi = max(days)
    padded = sorted({d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)})
    ev = read(
        root, "fact_events", ["person_id", "event", "ts_at", "channel", "order_id", "date"], padded
    )
    se = read(
        root,
        "fact_sessions",
        ["person_id", "duration_seconds", "events", "page_views", "date"],
        hi=hi,
    )
    orders = read(
        root,
        "fact_orders",
        [
            "order_id",
            "customer_id",
            "paid_date",
            "paid_amount",
            "units",
            "discount_total",
            "total",
            "cancelled_at",
            "completed_at",
            "date",
        ],
        hi=hi,
    )
    lines = read(
        root,
        "fact_order_lines",
        ["order_id", "line_id", "sku_id", "quantity", "unit_cost", "total", "date"],
        days,
    )
    refunds_all = read(root, "fact_refunds", ["line_id", "amount", "cost", "date"])
    pays = read(root, "fact_payments", ["succeeded", "date"], days)
    ships = read(
        root, "fact_shipments", ["direction", "units", "shipped_at", "delivered_at", "date"], hi=hi
    )
    rets = read(root, "fact_returns", ["quantity", "date"], days)
    coupons = read(root, "fact_coupons", ["action", "date"], days)
    stock = read(
        root, "fact_stock_daily", ["on_hand", "available", "unit_cost", "listed", "date"], days
    )
    ads = read(root, "fact_ad_spend", ["spend", "date"], days)
    # Every review ever: an order completed in a scope counts as reviewed whenever it was.
    reviews = read(root, "fact_reviews", ["order_id", "status", "rating", "date"])
    reviewed_ids = reviews.order_id.dropna().unique()
    kept_reviews = reviews[reviews.status.notna() & (reviews.status != "rejected")]
    completed = orders[orders.completed_at.notna()]
    completed_day = _shop_day(completed.completed_at)
    first_seen = se.groupby("person_id")["date"].min()
    paid_all = orders[orders.paid_date.notna()]
    first_paid = paid_all.groupby("customer_id")["paid_date"].min()
    pay_ev = ev[(ev.event == "pay") & ev.order_id.notna()].sort_values("ts_at")
    channel_of = pay_ev.groupby("order_id")["channel"].last()
    per_line = refunds_all[refunds_all.line_id.notna()].groupby("line_id")[["amount", "cost"]].sum()
    out_d = ships[(ships.direction == "outbound") & ships.delivered_at.notna()]
    delivered_day = _shop_day(out_d.delivered_at)
    out: dict[str, dict[str, float]] = {}
    for scope, day in scopes.items():
        d = pd.Timestamp(day)
        m: dict[str, float] = {}
        e = ev[ev.date == d]
        m["uv"] = e.person_id.nunique()
        m["daily_uv_sum"] = m["uv"]
        m["pv"] = int(e.event.isin(PAGES).sum())
        for name, event in (
            ("product_view_uv", "product_view"),
            ("cart_uv", "add_to_cart"),
            ("search_uv", "search"),
        ):
            m[name] = e.loc[e.event == event, "person_id"].nunique()
        people = e.person_id.unique()
        m["new_visitors"] = int((first_seen.reindex(people) == d).sum())
        firsts = e.sort_values("ts_at").groupby("person_id")["channel"].first()
        m["natural_uv"] = int(firsts.isin(NATURAL).sum())
        m["paid_uv"] = int(firsts.isin(PAID).sum())
        searched = set(e.loc[e.event == "search", "person_id"])
        viewed = set(e.loc[e.event == "product_view", "person_id"])
        m["search_view_uv"] = len(searched & viewed)
        s = se[se.date == d]
        m["sessions"] = len(s)
        m["session_seconds"] = int(s.loc[s.events >= 2, "duration_seconds"].sum())
        m["bounces"] = int(((s.events == 1) & (s.page_views == 1)).sum())
        p = paid_all[paid_all.paid_date == d]
        m["gmv"] = int(p.paid_amount.sum())
        m["paid_orders"] = len(p)
        m["buyers"] = p.customer_id.nunique()
        m["units"] = int(p.units.sum())
        m["discounts"] = int(p.discount_total.sum())
        new = p[first_paid.reindex(p.customer_id).to_numpy() == np.datetime64(day, "D")]
        m["new_buyers"] = m["acquired_new_buyers"] = new.customer_id.nunique()
        m["new_buyer_gmv"] = int(new.paid_amount.sum())
        m["repeat_buyers"] = int((p.groupby("customer_id").order_id.nunique() >= 2).sum())
        ch = channel_of.reindex(p.order_id).fillna("direct").replace("", "direct")
        m["paid_channel_gmv"] = int(p.paid_amount[ch.isin(PAID).to_numpy()].sum())
        placed = orders[orders.date == d]
        m["order_buyers"] = placed.customer_id.nunique()
        m["placed_orders"] = len(placed)
        m["order_amount"] = int(placed.total.sum())
        m["cancelled_orders"] = int(placed.cancelled_at.notna().sum())
        li = lines[lines.date == d]
        ref = per_line.reindex(li.line_id).fillna(0)
        cost = li.unit_cost * li.quantity
        m["cogs"] = int(cost.sum())
        m["gross_profit"] = int((li.total - cost).sum() - ref.amount.sum() + ref.cost.sum())
        m["net_line_amount"] = int(li.total.sum() - ref.amount.sum())
        m["hit_gmv"] = int(li.groupby("sku_id").total.sum().nlargest(5).sum())
        pa_ = pays[pays.date == d]
        m["payment_attempts"], m["payment_successes"] = len(pa_), int(pa_.succeeded.sum())
        m["refund_amount"] = int(refunds_all.loc[refunds_all.date == d, "amount"].sum())
        sh = ships[ships.date == d]
        m["shipped_units"] = int(sh.loc[sh.direction == "outbound", "units"].sum())
        dl = out_d[delivered_day == d]
        m["deliveries"] = len(dl)
        m["delivery_seconds"] = float((dl.delivered_at - dl.shipped_at).dt.total_seconds().sum())
        m["returned_units"] = int(rets.loc[rets.date == d, "quantity"].sum())
        c = coupons[coupons.date == d]
        m["coupons_issued"] = int((c.action == "issued").sum())
        m["coupons_redeemed"] = int((c.action == "redeemed").sum())
        st = stock[stock.date == d]
        m["listed_sku_days"] = int(st.listed.sum())
        m["stockout_sku_days"] = int((st.listed & (st.available <= 0)).sum())
        m["stock_value_days"] = int((st.on_hand * st.unit_cost).sum())
        m["ad_spend"] = int(ads.loc[ads.date == d, "spend"].sum())
        rv = kept_reviews[kept_reviews.date == d]
        m["reviews"], m["rating_sum"] = len(rv), int(rv.rating.sum())
        m["good_reviews"] = int((rv.rating >= 4).sum())
        m["negative_reviews"] = int((rv.rating <= 2).sum())
        done = completed[(completed_day == d).to_numpy()]
        m["completed_orders"] = len(done)
        m["reviewed_completed_orders"] = int(done.order_id.isin(reviewed_ids).sum())
        out[scope] = m
    return out


def _shop_day(ts: pd.Series) -> pd.Series:
    """The shop date (UTC+8) of UTC instants, as a naive midnight."""
    return (ts + pd.Timedelta(hours=TZ_HOURS)).dt.floor("D").dt.tz_localize(None)


def metrics(root: Path, scopes: dict[str, dt.date]) -> dict[str, tuple[Any, ...]]:
    """code → (value, previous, last year), from the measures via the registry's formulas."""
    ms = measures(root, scopes)
    out = {}
    for code, metric in METRICS.items():
        if not metric.available:
            continue
        vals = [
            metric.value({**{n: 0 for n in metric.measures}, **ms[s], "_days": 1})
            for s in ("current", "previous", "last_year")
        ]
        out[code] = tuple(vals)
    return out


def funnel(root: Path, steps: list[str], day: dt.date, window: dt.timedelta) -> dict[str, Any]:
    """Strict-order, first-entry funnel of people entering on `day`, by entry channel."""
    last = day + dt.timedelta(days=window.days + 2)
    days = [day + dt.timedelta(days=k) for k in range((last - day).days + 1)]
    df = read(root, "fact_events", ["person_id", "event", "ts_at", "channel", "date"], days)
    df = df[df.event.isin(steps)]
    first = df[(df.event == steps[0]) & (df.date == pd.Timestamp(day))].sort_values("ts_at")
    per = first.groupby("person_id").agg(t1=("ts_at", "first"), bd=("channel", "first"))
    per = per.reset_index()
    prev = "t1"
    for k, step in enumerate(steps[1:], start=2):
        cand = df[df.event == step][["person_id", "ts_at"]]
        reached = per[list(dict.fromkeys(["person_id", "t1", prev]))].dropna()
        j = cand.merge(reached, on="person_id")
        j = j[(j.ts_at > j[prev]) & (j.ts_at <= j.t1 + window)]
        tk = j.groupby("person_id")["ts_at"].min().rename(f"t{k}").reset_index()
        per = per.merge(tk, on="person_id", how="left")
        prev = f"t{k}"
    cols = [f"t{k}" for k in range(1, len(steps) + 1)]
    groups = per.groupby("bd")[cols].count()
    return {
        "counts": [int(per[c].notna().sum()) for c in cols],
        "groups": {str(b): [int(v) for v in row] for b, row in groups.iterrows()},
    }


def retention(root: Path, start: dt.date, end: dt.date, periods: int = 12) -> list[tuple]:
    """Monthly first-order cohorts: (cohort month, size, retained per offset, repeat in first)."""
    o = read(root, "fact_orders", ["customer_id", "paid_date"], hi=end)
    o = o[o.paid_date.notna() & o.customer_id.notna()]
    o = o[o.paid_date <= pd.Timestamp(end)]
    # Months as integers (year * 12 + month - 1): Period objects box one by one in groupbys.
    month = o.paid_date.dt.year * 12 + o.paid_date.dt.month - 1
    act = pd.DataFrame({"c": o.customer_id.to_numpy(), "p": month.to_numpy()})
    act = act.groupby(["c", "p"]).size().rename("n").reset_index()
    first = act.sort_values("p").groupby("c").first().reset_index()
    lo, hi = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    first = first[(first.p >= lo) & (first.p <= hi)]
    j = first[["c", "p"]].rename(columns={"p": "cohort"}).merge(act, on="c")
    j["k"] = j.p - j.cohort
    rows = []
    for cohort, members in first.groupby("p"):
        size = len(members)
        cj = j[j.cohort == cohort]
        observable = hi - cohort
        retained = [
            (size if k == 0 else int(cj[cj.k == k].c.nunique())) if k <= observable else None
            for k in range(periods)
        ]
        month_start = dt.date(int(cohort) // 12, int(cohort) % 12 + 1, 1)
        rows.append((month_start, size, retained, int((members.n >= 2).sum())))
    return rows


def rfm(root: Path, as_of: dt.date) -> dict[str, Any]:
    """RFM over all history to `as_of`: segment sizes and the medians."""
    o = read(root, "fact_orders", ["customer_id", "paid_date", "paid_amount"], hi=as_of)
    o = o[o.paid_date.notna() & o.customer_id.notna()]
    o = o[o.paid_date <= pd.Timestamp(as_of)]
    g = o.groupby("customer_id").agg(
        last=("paid_date", "max"), f=("paid_date", "size"), m=("paid_amount", "sum")
    )
    r = (pd.Timestamp(as_of) - g["last"]).dt.days.to_numpy()
    f, m = g.f.to_numpy(), g.m.fillna(0).to_numpy()
    hi_r, hi_f, hi_m = r <= np.median(r), f >= np.median(f), m >= np.median(m)
    code = hi_r.astype(int) * 4 + hi_f.astype(int) * 2 + hi_m.astype(int)
    counts = np.bincount(code, minlength=8)
    return {
        "customers": len(g),
        "by_code": [int(c) for c in counts],
        "medians": (float(np.median(r)), float(np.median(f)), float(np.median(m))),
    }
