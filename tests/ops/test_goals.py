"""Goals: the pure rules on numbers counted by hand, the service on the hand-built warehouse
(against the independent reference computation), the routes and their roles, the reviews'
'vs target' column."""

from __future__ import annotations

import datetime as dt

import pytest

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import METRICS
from shopops.analytics.periods import month_period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.db import session_scope
from shopops.errors import InvalidInput
from shopops.ops.goals.defaults import DEFAULT_GOALS
from shopops.ops.goals.rules import (
    attainment,
    elapsed_days,
    goal_period,
    pace,
    run_rate_forecast,
)
from shopops.ops.goals.service import (
    goal_progress,
    install_default_goals,
    list_goals,
    parse_goal,
    save_goal,
)
from shopops.ops.reviews.render import render_html, render_pdf
from shopops.ops.reviews.service import build_review
from tests.analytics.reference import expected
from tests.analytics.warehouse_fixture import write_warehouse

NOV = month_period(2026, 11)  # 2026-11-01 is a Sunday


def test_goal_periods_and_elapsed_days():
    day = dt.date(2026, 11, 11)
    assert goal_period("day", day).start == goal_period("day", day).end == day
    m = goal_period("month", day)
    assert (m.start, m.end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    q = goal_period("quarter", day)
    assert (q.start, q.end, q.days) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31), 92)
    y = goal_period("year", dt.date(2026, 2, 3))
    assert (y.start, y.end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert elapsed_days(m, day) == 11
    assert elapsed_days(m, dt.date(2026, 10, 31)) == 0
    assert elapsed_days(m, dt.date(2027, 1, 5)) == 30


def test_weekday_aware_run_rate():
    # Sun 10, Mon 20, Tue 30, Wed 40 seen. Left 11-05..11-30: Thu/Fri/Sat ×4 (unseen: the
    # mean 25), Sun ×4, Mon ×4, Tue ×3, Wed ×3 → 12·25 + 4·10 + 4·20 + 3·30 + 3·40 = 630.
    daily = {dt.date(2026, 11, 1 + i): v for i, v in enumerate([10, 20, 30, 40])}
    as_of = dt.date(2026, 11, 4)
    assert run_rate_forecast(100, daily, NOV, as_of) == pytest.approx(730)
    # A distinct count (UV over the month: 50 though the days add to 100) scales in proportion.
    assert run_rate_forecast(50, daily, NOV, as_of) == pytest.approx(365)
    assert run_rate_forecast(0, {as_of: 0}, NOV, as_of) is None


def test_pace_additive_vs_ratio_vs_down_is_good():
    gmv, cvr, refund = METRICS["gmv"], METRICS["conversion_rate"], METRICS["refund_rate"]
    day10 = dt.date(2026, 11, 10)  # 10 of 30 days: a third of the target is due
    assert pace(gmv, 3000, 999, NOV, day10).status == "behind"
    p = pace(gmv, 3000, 1000, NOV, day10)
    assert (p.status, p.expected, p.share_elapsed) == ("on_track", pytest.approx(1000), 1 / 3)
    # A ratio is judged as is, whatever share of the period has passed.
    assert pace(cvr, 0.032, 0.031, NOV, day10).status == "behind"
    assert pace(cvr, 0.032, 0.033, NOV, day10).expected == 0.032
    assert pace(refund, 0.05, 0.04, NOV, day10).status == "on_track"
    assert pace(refund, 0.05, 0.06, NOV, day10).status == "behind"
    assert pace(gmv, 3000, None, NOV, day10).status == "no_data"
    assert attainment(gmv, 3000, 1500) == 0.5
    assert attainment(refund, 0.05, 0.1) == 0.5


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"metric": "nope"}, "unknown metric"),
        ({"period": "week"}, "period"),
        ({"dimension": "planet", "member": "mars"}, "unknown dimension"),
        ({"metric": "gmv", "dimension": "category", "member": "cables"}, "cannot be scoped"),
        ({"dimension": "channel"}, "both dimension and member"),
        ({"metric": "conversion_rate", "target": 3.2}, "ratio"),
        ({"target": 0}, "greater than 0"),
        ({"metric": "complaint_rate"}, "no data source"),
    ],
)
def test_goals_are_validated_against_the_registry(patch, needle):
    with pytest.raises(InvalidInput) as exc:
        parse_goal({"code": "g1", "metric": "uv", "period": "day", "target": 10, **patch})
    assert exc.value.code == "invalid_goal" and needle in exc.value.message


def test_defaults_are_the_seed_targets(engine):
    with session_scope(engine) as s:
        install_default_goals(s)
        got = {(g.metric, g.period, g.target) for g in list_goals(s)}
        s.delete(list_goals(s)[0])
        s.flush()
        assert install_default_goals(s) == []  # a deleted default stays deleted
    assert got == {
        ("uv", "day", 5000),
        ("conversion_rate", "month", 0.032),
        ("repurchase_rate", "year", 0.18),
        ("natural_traffic_share", "month", 0.28),
        ("gmv", "year", 800_000_000),
        ("hit_product_share", "month", 0.45),
    }
    assert len(DEFAULT_GOALS) == 6


@pytest.fixture(scope="module")
def hand_wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("goals_wh")
    rows = write_warehouse(root)
    return Warehouse(root, schemas=READ_SCHEMAS), rows


def test_progress_on_the_hand_built_warehouse(engine, hand_wh):
    wh, rows = hand_wh
    as_of = dt.date(2026, 11, 11)
    with session_scope(engine) as s:
        daily = save_goal(
            s, parse_goal({"code": "dd", "metric": "uv", "period": "day", "target": 4})
        )
        p = goal_progress(wh, daily, as_of)
        # 5 visitors on 11-11 (customers 1, 2, 3, anon-x, anon-y): on track, the day is over.
        assert (p.actual, p.pace, p.forecast, p.attainment) == (5, "on_track", 5, 1.25)

        month = save_goal(
            s, parse_goal({"code": "mm", "metric": "gmv", "period": "month", "target": 300_000})
        )
        p = goal_progress(wh, month, as_of)
        lo = dt.date(2026, 11, 1)
        actual = expected("gmv", rows, lo, as_of)
        assert p.actual == actual and p.share_elapsed == pytest.approx(11 / 30)
        assert p.expected == pytest.approx(300_000 * 11 / 30)
        assert p.pace == ("on_track" if actual >= 110_000 else "behind")
        # Forecast by hand: each left day like the mean of its weekday so far (or of all days).
        days = {
            lo + dt.timedelta(i): expected("gmv", rows, lo + dt.timedelta(i), lo + dt.timedelta(i))
            for i in range(11)
        }
        start = next(d for d in sorted(days) if days[d])  # days before the shop opened: no data
        seen = {d: v for d, v in days.items() if d >= start}
        rest = 0.0
        for i in range(12, 31):
            d = dt.date(2026, 11, i)
            same = [v for k, v in seen.items() if k.weekday() == d.weekday()]
            rest += sum(same) / len(same) if same else sum(seen.values()) / len(seen)
        assert p.forecast == pytest.approx(
            actual * (sum(seen.values()) + rest) / sum(seen.values())
        )

        ratio = save_goal(
            s,
            parse_goal(
                {"code": "rr", "metric": "natural_traffic_share", "period": "month", "target": 0.5}
            ),
        )
        p = goal_progress(wh, ratio, as_of)
        share = expected("natural_traffic_share", rows, lo, as_of)
        assert p.actual == pytest.approx(share) and p.forecast == p.actual
        assert p.expected == 0.5 and p.pace == ("on_track" if share >= 0.5 else "behind")


def test_reviews_show_vs_target(engine, hand_wh, tmp_path):
    wh, rows = hand_wh
    day = dt.date(2026, 11, 11)
    with session_scope(engine) as s:
        save_goal(s, parse_goal({"code": "dd", "metric": "uv", "period": "day", "target": 4}))
        save_goal(s, parse_goal({"code": "yy", "metric": "gmv", "period": "year", "target": 1}))
        save_goal(
            s,
            parse_goal(
                {"code": "cv", "metric": "conversion_rate", "period": "month", "target": 0.5}
            ),
        )
        rev = build_review(s, wh, "daily", day)
        weekly = build_review(s, wh, "weekly", day)
        monthly = build_review(s, wh, "monthly", day)
    uv = next(k for k in rev.kpis if k["code"] == "uv")
    assert (uv["vs_target"], uv["met"]) == ("125%", True)
    # Only the day's goals compare with a daily review; weekly reviews have none.
    assert all(k["vs_target"] == "—" for k in rev.kpis if k["code"] != "uv")
    assert rev.has_targets and not weekly.has_targets
    assert "达成 vs target" in render_html(rev)
    assert render_pdf(rev, tmp_path / "d.pdf").read_bytes().startswith(b"%PDF")
    # The monthly review compares with month goals: conversion over November vs 50%.
    cv = next(k for k in monthly.kpis if k["code"] == "conversion_rate")
    rate = expected("conversion_rate", rows, NOV.start, NOV.end)
    assert cv["vs_target"] == f"{rate / 0.5:.0%}" and cv["met"] is (rate >= 0.5)
    assert next(k for k in monthly.kpis if k["code"] == "uv")["vs_target"] == "—"


@pytest.fixture
def api(client, settings, api_headers):  # type: ignore[no-untyped-def]
    write_warehouse(settings.data_dir / "warehouse")
    return client, api_headers("operator"), api_headers("analyst")


def test_goal_routes_and_roles(api):
    client, op, analyst = api
    body = {"metric": "uv", "period": "day", "target": 4}
    r = client.put("/ops/goals/dd", json={**body, "metric": "nope"}, headers=op)
    assert r.status_code == 422 and r.json()["code"] == "invalid_goal"
    assert client.put("/ops/goals/dd", json=body, headers=analyst).status_code == 403
    assert client.put("/ops/goals/dd", json=body, headers=op).status_code == 200
    assert [g["code"] for g in client.get("/ops/goals", headers=analyst).json()] == ["dd"]
    r = client.get("/ops/goals/progress", params={"date": "2026-11-11"}, headers=analyst)
    assert r.status_code == 200
    (g,) = r.json()["goals"]
    assert (g["actual"], g["pace"], g["period"]) == (5, "on_track", "2026-11-11")
    assert client.post("/ops/goals/defaults", headers=op).json() == []  # goals exist
    assert client.delete("/ops/goals/dd", headers=op).status_code == 204
    assert client.delete("/ops/goals/dd", headers=op).status_code == 404
    assert len(client.post("/ops/goals/defaults", headers=op).json()) == 6


def test_goals_cli(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from shopops.cli import app
    from shopops.config import get_settings

    monkeypatch.setenv("SHOPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPOPS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    write_warehouse(tmp_path / "warehouse")
    runner = CliRunner()
    try:
        bad = runner.invoke(app, ["goals", "set", "g1", "--metric", "nope", "--target", "1"])
        assert bad.exit_code == 2 and "unknown metric" in bad.output
        bad = runner.invoke(
            app, ["goals", "set", "g1", "--metric", "uv", "--target", "1", "--period", "week"]
        )
        assert bad.exit_code == 2
        ok = runner.invoke(
            app, ["goals", "set", "uv_day", "--metric", "uv", "--target", "4", "--period", "day"]
        )
        assert ok.exit_code == 0, ok.output
        listed = runner.invoke(app, ["goals", "list"])
        assert listed.exit_code == 0 and "uv_day" in listed.output
        out = runner.invoke(app, ["goals", "progress", "--date", "2026-11-11", "--json"])
        assert out.exit_code == 0, out.output
        (g,) = json.loads(out.output)["goals"]
        assert (g["code"], g["actual"], g["pace"]) == ("uv_day", 5, "on_track")
    finally:
        get_settings.cache_clear()
