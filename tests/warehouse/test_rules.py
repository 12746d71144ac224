"""Pure rules: festivals and dates, ad spend CSV validation, stock replay."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shopops.warehouse import stock
from shopops.warehouse.adspend import merge, parse_csv, yuan_to_fen
from shopops.warehouse.rules import date_row, festival_of, shop_date

CHANNELS = ["paid_search", "feed_ads", "direct"]


def test_festivals() -> None:
    assert festival_of(dt.date(2026, 11, 11)) == "双11"
    assert festival_of(dt.date(2026, 6, 18)) == "618"
    assert festival_of(dt.date(2026, 12, 12)) == "双12"
    assert festival_of(dt.date(2026, 3, 8)) == "38节"
    assert festival_of(dt.date(2026, 1, 25)) == "年货节"  # Spring Festival 2026-02-17
    assert festival_of(dt.date(2027, 1, 10)) == "年货节"  # Spring Festival 2027-02-06
    assert festival_of(dt.date(2026, 9, 18)) == "会员日"
    assert festival_of(dt.date(2026, 9, 17)) == ""
    row = date_row(dt.date(2026, 11, 14))
    assert (row["weekday"], row["is_weekend"], row["quarter"]) == (6, True, 4)


def test_shop_date_is_in_the_shop_zone() -> None:
    late = dt.datetime(2026, 11, 10, 16, 0, tzinfo=dt.UTC)
    assert shop_date(late, "Asia/Shanghai") == dt.date(2026, 11, 11)
    assert shop_date(late, "UTC") == dt.date(2026, 11, 10)


@given(st.integers(min_value=0, max_value=10**12))
def test_yuan_to_fen_is_exact(fen: int) -> None:
    assert yuan_to_fen(f"{fen // 100}.{fen % 100:02d}") == fen


def test_ad_spend_rejects_bad_rows_with_line_numbers() -> None:
    text = (
        "date,channel,campaign_id,spend,impressions,clicks\n"
        "2026-11-11,paid_search,,1234.5,1000,40\n"  # 2: ok
        "2026-11-11,feed_ads,3,0.105,10,1\n"  # 3: three decimals
        "2026-13-01,feed_ads,,1,1,1\n"  # 4: bad date
        "2026-11-11,tv,,1,1,1\n"  # 5: unknown channel
        "2026-11-11,direct,,-1,1,1\n"  # 6: negative
        "2026-11-11,direct,,1,5,9\n"  # 7: clicks > impressions
        "2026-11-11,paid_search,,1,1,1\n"  # 8: duplicate of line 2
        "2026-11-11,direct,x,1,1,1\n"  # 9: campaign not a number
        "2026-11-12,feed_ads,3,99,,1\n"  # 10: impressions missing
    )
    parsed = parse_csv(text, CHANNELS)
    assert [r["spend"] for r in parsed.rows] == [123450]
    assert [r.line for r in parsed.rejected] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "line 2" in parsed.rejected[5].reason
    assert parse_csv("date,channel\n", CHANNELS).rejected[0].line == 1
    fen = parse_csv("date,channel,campaign_id,spend_fen,impressions,clicks\n"
                    "2026-11-11,direct,,12345,0,0\n", CHANNELS)  # fmt: skip
    assert fen.rows[0]["spend"] == 12345 and not fen.rejected


def test_ad_spend_reload_replaces() -> None:
    old = [{"channel": "direct", "campaign_id": None, "spend": 1},
           {"channel": "feed_ads", "campaign_id": 3, "spend": 2}]  # fmt: skip
    new = [{"channel": "direct", "campaign_id": None, "spend": 5}]
    assert merge(merge(old, new), new) == merge(old, new)
    assert sorted(r["spend"] for r in merge(old, new)) == [2, 5]


def test_stock_replay_out_of_time_order() -> None:
    d1, d2, d3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    skus = {1: (100, True)}
    # First load: +10 on d1, -2 on d3 → d1 10, d2 10 (carried), d3 8.
    written: dict[dt.date, dict[int, tuple[int, int]]] = {}
    changes = {d1: {1: (10, 0)}, d3: {1: (-2, 0)}}
    days = stock.days_to_write([], changes, today=d3)
    assert days == [d1, d2, d3]
    for day, rows in stock.rebuild(days, [], written.get, changes, skus).items():
        written[day] = {r["sku_id"]: (r["on_hand"], r["reserved"]) for r in rows}
    assert {d: v[1][0] for d, v in written.items()} == {d1: 10, d2: 10, d3: 8}
    # A late event dated d2 (a simulator replaying history) moves d2 and every day after.
    late = {d2: {1: (-1, 1)}}
    days = stock.days_to_write(sorted(written), late, today=d3)
    assert days == [d2, d3]
    for day, rows in stock.rebuild(days, sorted(written), written.__getitem__, late, skus).items():
        written[day] = {r["sku_id"]: (r["on_hand"], r["reserved"]) for r in rows}
    assert written == {d1: {1: (10, 0)}, d2: {1: (9, 1)}, d3: {1: (7, 1)}}
    # Nothing new, today a day later: today's snapshot carries the last day forward.
    assert stock.days_to_write(sorted(written), {}, today=d3 + dt.timedelta(days=1)) == [
        d3 + dt.timedelta(days=1)
    ]
    # A store whose ledger stopped long ago grows no year of copies.
    assert stock.days_to_write(sorted(written), {}, today=d3 + dt.timedelta(days=400)) == []
