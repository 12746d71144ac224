"""The evaluation's direct reads equal the registry's numbers (shopops.analytics.metrics
.evaluate) on the hand-built warehouse, so the fast path can never drift from the
definitions: visitors per member per day, paid-search sessions and spend per day."""

from __future__ import annotations

import datetime as dt

import pytest

from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.ops.anomaly import reads
from shopops.ops.anomaly.service import daily_series
from tests.analytics.warehouse_fixture import write_warehouse

START, END = dt.date(2026, 11, 8), dt.date(2026, 11, 12)
DAYS = [START + dt.timedelta(days=i) for i in range(5)]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("reads")
    write_warehouse(root / "warehouse")
    return open_warehouse(root)


@pytest.mark.parametrize("dim", reads.EVENT_DIMS)
def test_members_per_day_equal_the_registry_breakdown(wh, dim):
    got = reads.members_daily(wh, dim, DAYS, {})
    for d in DAYS:
        ev = evaluate(wh, ["uv"], Period(d, d), by=dim, compare=())
        want = {r["key"]: r["value"] for r in ev["uv"].breakdown if r["value"]}
        assert {m: s[d] for m, s in got.items() if s.get(d)} == want, (dim, d)
    assert sum(s.get(dt.date(2026, 11, 11), 0) for s in got.values()) > 0  # not vacuous


def test_filtered_members_equal_the_registry(wh):
    f = {"device": ["mobile"]}
    got = reads.members_daily(wh, "channel", DAYS, f)
    for d in DAYS:
        ev = evaluate(wh, ["uv"], Period(d, d), by="channel", filters=f, compare=())
        want = {r["key"]: r["value"] for r in ev["uv"].breakdown if r["value"]}
        assert {m: s[d] for m, s in got.items() if s.get(d)} == want


@pytest.mark.parametrize("metric", ["sessions", "ad_spend"])
@pytest.mark.parametrize("channel", ["paid_search", "display", "nowhere"])
def test_daily_sessions_and_spend_equal_the_registry_series(wh, metric, channel):
    f = {"channel": [channel]}
    got = reads.daily(wh, metric, f, START, END)
    ev = evaluate(wh, [metric], Period(START, END), grain="day", filters=f, compare=())
    want = {dt.date.fromisoformat(p["start"]): p["value"] or 0 for p in ev[metric].series}
    assert got == want


def test_paid_search_cpc_series_by_hand(wh):
    s = daily_series(wh, [("ad_spend/sessions", (("channel", ("paid_search",)),))], START, END,
                     "Asia/Shanghai")  # fmt: skip
    series = s[("ad_spend/sessions", (("channel", ("paid_search",)),))]
    sessions = reads.daily(wh, "sessions", {"channel": ["paid_search"]}, START, END)
    # ¥80 on 11-10 and ¥100 on 11-11 (the fixture's spend) over that day's sessions.
    for d, spend in ((dt.date(2026, 11, 10), 8000), (dt.date(2026, 11, 11), 10000)):
        assert series[d] == (spend / sessions[d] if sessions[d] else None)
