"""Channel ROI: spend, new customers, CAC, GMV and ROI per channel (and campaign).

Definitions (METRICS.md):
* spend: `fact_ad_spend.spend` of the period (shop dates, inclusive).
* new customers: customers whose first-ever paid order is in the period, counted under their
  acquisition channel (`dim_customer.acquisition_channel`; `direct` when unknown) and, by
  campaign, under the campaign of that first order (`fact_orders.campaign_id`).
* CAC = spend / new customers of the channel (null without new customers).
* GMV: paid amount of orders paid in the period, attributed to the channel of the session in
  which the order was paid (the `pay` event's `channel` in `fact_events`: a session is cut at
  every new non-direct source, so its channel is the last non-direct click; `direct` when the
  order has no tracked pay event), by campaign under the order's `campaign_id`.
* ROI = attributed GMV / spend (null without spend).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from shopops.analytics.analyses._common import (
    check_period,
    execute_df,
    records,
    table,
)
from shopops.analytics.engine import Warehouse
from shopops.tracking.rules import CHANNEL_NAMES, PAID_CHANNELS

COLUMNS = [
    "channel",
    "campaign_id",
    "name_zh",
    "name_en",
    "kind",
    "spend",
    "impressions",
    "clicks",
    "new_customers",
    "cac",
    "paid_orders",
    "gmv",
    "roi",
]


def channel_roi(
    wh: Warehouse, *, start: dt.date, end: dt.date, by_campaign: bool = False
) -> pd.DataFrame:
    """One row per channel (and campaign), COLUMNS, sorted by spend then GMV."""
    check_period(start, end)
    keys = ["channel", "campaign_id"] if by_campaign else ["channel"]
    s = table(wh, "fact_ad_spend")
    s = s.filter(s.date >= start, s.date <= end)
    spend = execute_df(
        wh,
        s.group_by(*keys).aggregate(
            spend=s.spend.sum(), impressions=s.impressions.sum(), clicks=s.clicks.sum()
        ),
    )
    o = table(wh, "fact_orders")
    paid = o.filter(o.paid_date.notnull(), o.customer_id.notnull())
    first = paid.group_by("customer_id").aggregate(
        first_date=paid.paid_date.min(), campaign_id=paid.campaign_id.argmin(paid.paid_at)
    )
    first = first.filter(first.first_date >= start, first.first_date <= end)
    c = table(wh, "dim_customer")
    cs = c.select(cid="customer_id", acq="acquisition_channel")
    acq = first.left_join(cs, first.customer_id == cs.cid)
    acq = acq.select(
        "customer_id",
        "campaign_id",
        channel=acq.acq.fill_null("").nullif("").fill_null("direct"),
    )
    new = execute_df(wh, acq.group_by(*keys).aggregate(new_customers=acq.customer_id.nunique()))
    e = table(wh, "fact_events")
    pays = e.filter(e.event == "pay", e.order_id.notnull())
    pay_channel = pays.group_by("order_id").aggregate(pch=pays.channel.argmin(pays.ts_at))
    period = paid.filter(paid.paid_date >= start, paid.paid_date <= end)
    att = period.left_join(pay_channel, period.order_id == pay_channel.order_id)
    att = att.select(
        campaign_id=att.campaign_id,
        paid_amount=att.paid_amount,
        channel=att.pch.fill_null("").nullif("").fill_null("direct"),
    )
    gmv = execute_df(
        wh, att.group_by(*keys).aggregate(paid_orders=att.count(), gmv=att.paid_amount.sum())
    )
    frames = [f.set_index(keys) for f in (spend, new, gmv)]
    df = pd.concat(frames, axis=1).reset_index() if any(len(f) for f in frames) else None
    if df is None or df.empty:
        return pd.DataFrame(columns=COLUMNS)
    df["campaign_id"] = df["campaign_id"].astype("Int64") if by_campaign else None
    for col in ("spend", "impressions", "clicks", "new_customers", "paid_orders", "gmv"):
        df[col] = df[col].fillna(0).astype("int64")
    df["cac"] = [sp / n if n else None for sp, n in zip(df.spend, df.new_customers, strict=True)]
    df["roi"] = [g / sp if sp else None for g, sp in zip(df.gmv, df.spend, strict=True)]
    names = {str(k): v for k, v in CHANNEL_NAMES.items()}
    df["name_zh"] = [names.get(ch, (ch, ch))[0] for ch in df.channel]
    df["name_en"] = [names.get(ch, (ch, ch))[1] for ch in df.channel]
    paid_names = {str(p) for p in PAID_CHANNELS}
    df["kind"] = ["paid" if ch in paid_names else "natural" for ch in df.channel]
    df = df.sort_values(["spend", "gmv", "channel"], ascending=[False, False, True], kind="stable")
    return df[COLUMNS].reset_index(drop=True)


def to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """The rows, and totals with the blended CAC and ROI."""
    spend, gmv, new = int(df.spend.sum()), int(df.gmv.sum()), int(df.new_customers.sum())
    return {
        "rows": records(df),
        "totals": {
            "spend": spend,
            "gmv": gmv,
            "new_customers": new,
            "cac": spend / new if new else None,
            "roi": gmv / spend if spend else None,
        },
    }
