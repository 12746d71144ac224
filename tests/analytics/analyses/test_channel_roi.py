"""Channel ROI by hand: spend, new customers, CAC, attributed GMV, ROI."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from tests.analytics.analyses.builders import at, customer, ev, order

from shopops.analytics.analyses.channel_roi import channel_roi, to_dict

START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def _spend(day: str, channel: str, spend: int, campaign_id: int | None = None) -> dict:
    return {
        "channel": channel,
        "campaign_id": campaign_id,
        "spend": spend,
        "impressions": 1000,
        "clicks": 10,
        "date": dt.date.fromisoformat(day),
    }


def _data():
    return {
        "fact_ad_spend": [
            _spend("2026-11-02", "paid_search", 30_000, 7),
            _spend("2026-11-03", "paid_search", 10_000, 7),
            _spend("2026-11-03", "feed_ads", 5_000, 8),
            _spend("2026-10-31", "feed_ads", 99_999, 8),  # outside the period
        ],
        "dim_customer": [
            customer(1, "2026-10-01", acquisition_channel="paid_search"),
            customer(2, "2026-10-01", acquisition_channel="paid_search"),
            customer(3, "2026-10-01", acquisition_channel="feed_ads"),
            customer(4, "2026-10-01", acquisition_channel="paid_search"),
        ],
        "fact_orders": [
            order(1, 1, at("2026-11-05"), 20_000, campaign_id=7),  # new, paid via paid search
            order(2, 2, at("2026-11-06"), 50_000, campaign_id=7),  # new, no pay event: direct
            order(3, 3, at("2026-11-07"), 8_000, campaign_id=8),  # new, via feed ads
            order(4, 4, at("2026-10-20"), 1_000),  # customer 4: first order before the period
            order(5, 4, at("2026-11-08"), 30_000),  # not new; paid via paid search
        ],
        "fact_events": [
            ev("1", "pay", at("2026-11-05"), order_id=1, channel="paid_search"),
            ev("3", "pay", at("2026-11-07"), order_id=3, channel="feed_ads"),
            ev("4", "pay", at("2026-11-08"), order_id=5, channel="paid_search"),
        ],
    }


def test_by_channel(make_wh):
    df = channel_roi(make_wh(**_data()), start=START, end=END).set_index("channel")
    ps, fa, direct = df.loc["paid_search"], df.loc["feed_ads"], df.loc["direct"]
    assert (ps.spend, ps.new_customers, ps.gmv, ps.paid_orders) == (40_000, 2, 50_000, 2)
    assert ps.cac == 20_000 and ps.roi == 1.25
    assert (fa.spend, fa.new_customers, fa.gmv) == (5_000, 1, 8_000)
    assert fa.roi == 1.6 and fa.kind == "paid" and fa.name_zh == "信息流广告"
    assert (direct.spend, direct.gmv, direct.new_customers) == (0, 50_000, 0)
    assert pd.isna(direct.roi) and pd.isna(direct.cac)
    totals = to_dict(df.reset_index())["totals"]
    assert totals == {
        "spend": 45_000,
        "gmv": 108_000,
        "new_customers": 3,
        "cac": 15_000.0,
        "roi": 2.4,
    }


def test_by_campaign(make_wh):
    df = channel_roi(make_wh(**_data()), start=START, end=END, by_campaign=True)
    rows = {(r.channel, r.campaign_id): r for r in df.itertuples()}
    assert rows[("paid_search", 7)].spend == 40_000
    # Customers 1 and 2 were acquired by paid search with first orders in campaign 7.
    assert rows[("paid_search", 7)].new_customers == 2
    assert rows[("paid_search", 7)].gmv == 20_000  # order 2 was paid outside a tracked session
    assert rows[("direct", 7)].gmv == 50_000
    assert to_dict(df)["rows"][0]["campaign_id"] == 7


def test_empty(make_wh):
    df = channel_roi(make_wh(), start=START, end=END)
    assert df.empty
    assert to_dict(df)["totals"]["roi"] is None
