"""The analytics recover what the simulator knows (its ground truth), within stated tolerances."""

from __future__ import annotations

import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import parse_period
from shopops.db import make_engine, session_scope
from shopops.inventory.models import Reservation, StockMovement
from shopops.sim import Incident, SimulationConfig, build_sample_shop
from shopops.sim.catalog import plan_range
from tests.sim.conftest import settings_for

END = dt.date(2026, 9, 12)  # a plain stretch of the calendar (no campaign)
DROP_DAY = dt.date(2026, 9, 10)
STOCKOUT_DAY = dt.date(2026, 9, 9)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("truth"))
    config = SimulationConfig(
        days=6,
        visitors=700,
        seed=21,
        end=END,
        scenario="flat",
        incidents=(
            Incident("traffic_drop", DROP_DAY, 1, channel="paid_search", depth=0.8),
            Incident("stockout", STOCKOUT_DAY, 2),
        ),
    )
    result = build_sample_shop(settings, config)
    truth = json.loads(result.ground_truth_path.read_text())
    return settings, result, truth, open_warehouse(settings.data_dir)


def _period(text: str):
    return parse_period(text, today=END)


def test_sessions_per_channel_and_day_are_the_simulated_visits(shop):
    _, _, truth, wh = shop
    for day in truth["days"]:
        got = evaluate(wh, ["sessions"], _period(day["date"]), by="channel", compare=[])
        seen = {row["key"]: row["value"] for row in got["sessions"].breakdown}
        # Paid channels have no returning (signed-in) visitors, so sessions = visits exactly.
        for code in ("paid_search", "feed_ads", "display", "affiliate", "influencer"):
            assert seen.get(code, 0) == day["visitors"][code], (day["date"], code)


def test_conversion_per_channel_within_sampling_error(shop):
    _, _, truth, wh = shop
    got = evaluate(
        wh, ["conversion_rate"], _period("2026-09-07..2026-09-12"), by="channel", compare=[]
    )
    measured = {row["key"]: row["value"] for row in got["conversion_rate"].breakdown}
    for code, row in truth["channels"].items():
        n = row["visits"]
        if n < 100:
            continue
        # The realised paid share of visits is what the tracking saw: near exact.
        assert measured[code] == pytest.approx(row["paid_rate"], abs=0.01), code
        # And the true order probability × payment completion explains it within 3.5 σ.
        p = row["true_order_rate"] * 0.915
        sigma = math.sqrt(p * (1 - p) / n)
        assert abs(row["paid_rate"] - p) < 3.5 * sigma + 0.004, (code, row, p)


def test_injected_traffic_drop_is_visible_on_its_day_and_channel(shop):
    _, _, truth, wh = shop
    series = evaluate(
        wh, ["sessions"], _period("2026-09-07..2026-09-12"), grain="day", compare=[],
        filters={"channel": ["paid_search"]},
    )["sessions"].series  # fmt: skip
    by_day = {p["bucket"]: p["value"] for p in series}
    drop = by_day[DROP_DAY.isoformat()]
    others = [v for k, v in by_day.items() if k != DROP_DAY.isoformat()]
    assert drop < 0.4 * (sum(others) / len(others))  # depth 0.8: about a fifth of normal
    # Other channels that day are normal (within 30% of their other days).
    feed = evaluate(
        wh, ["sessions"], _period("2026-09-07..2026-09-12"), grain="day", compare=[],
        filters={"channel": ["feed_ads"]},
    )["sessions"].series  # fmt: skip
    values = {p["bucket"]: p["value"] for p in feed}
    rest = [v for k, v in values.items() if k != DROP_DAY.isoformat()]
    assert values[DROP_DAY.isoformat()] > 0.7 * (sum(rest) / len(rest))
    assert any(
        i["kind"] == "traffic_drop" and i["day"] == DROP_DAY.isoformat() for i in truth["incidents"]
    )


def test_injected_stockout_is_visible(shop):
    _, _, truth, wh = shop
    (injected,) = [s for s in truth["stockouts"] if s["injected"]]
    assert injected["start"] == STOCKOUT_DAY.isoformat()
    series = evaluate(
        wh, ["stockout_rate"], _period("2026-09-07..2026-09-12"), grain="day", compare=[],
        filters={"role": ["hit"]},
    )["stockout_rate"].series  # fmt: skip
    by_day = {p["bucket"]: p["value"] for p in series}
    hits = sum(len(skus) for _c, _t, role, _tier, skus in plan_range(21) if role == "hit")
    assert by_day["2026-09-09"] >= 1 / hits and by_day["2026-09-10"] >= 1 / hits
    assert by_day["2026-09-08"] < by_day["2026-09-09"]


def test_no_checkout_takes_the_sku_while_it_is_out(shop):
    # The incident writes off every spare unit, and any returned unit received while it lasts
    # (a window's receipts are written off before the next window's checkouts), so no order
    # reserves the SKU from its first minute until the replenishment day.
    settings, _, truth, _ = shop
    (inc,) = [s for s in truth["stockouts"] if s["injected"]]
    tz = ZoneInfo(settings.timezone)
    start = dt.datetime.combine(STOCKOUT_DAY, dt.time(0, 1), tz)
    end = dt.datetime.combine(dt.date.fromisoformat(inc["end"]), dt.time(0), tz)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(engine, readonly=True) as session:
        taken = session.scalars(
            select(Reservation.created_at).where(Reservation.sku_id == inc["sku_id"])
        ).all()
        written_off = session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.sku_id == inc["sku_id"], StockMovement.note.like("模拟断货%"))
        )
    engine.dispose()
    assert taken and written_off
    assert not [t for t in taken if start <= t < end]
