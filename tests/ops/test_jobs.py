"""The scheduled operations jobs: idempotent, safe to rerun for the same day."""

from __future__ import annotations

import datetime as dt

from shopops.config import Settings
from shopops.db import session_scope
from shopops.jobs import DEFAULT_JOBS
from shopops.ops.alerts.models import Alert
from shopops.ops.jobs import evaluate_alerts, write_reviews
from tests.analytics.warehouse_fixture import write_warehouse


def test_jobs_are_scheduled():
    names = {j.name for j in DEFAULT_JOBS}
    assert {"evaluate_alerts", "write_reviews", "load_warehouse", "expire_unpaid_orders"} <= names


def test_reviews_are_written_once_per_period(tmp_path, engine):
    settings = Settings(data_dir=tmp_path, database_url=None)
    write_warehouse(tmp_path / "warehouse")
    monday = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 Monday in Shanghai
    with session_scope(engine) as s:
        s.info["now"] = monday
        assert write_reviews(s, settings) == 2  # yesterday's daily and last week's weekly
        assert write_reviews(s, settings) == 0  # a rerun writes nothing new
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert names == [
        "daily-2026-11-15.html",
        "daily-2026-11-15.pdf",
        "weekly-2026-11-09..2026-11-15.html",
        "weekly-2026-11-09..2026-11-15.pdf",
    ]


def test_evaluate_alerts_for_a_past_day_twice(tmp_path, engine):
    settings = Settings(data_dir=tmp_path, database_url=None)
    write_warehouse(tmp_path / "warehouse")
    first = evaluate_alerts(settings, engine, dt.date(2026, 11, 11))
    again = evaluate_alerts(settings, engine, dt.date(2026, 11, 11))
    assert again["opened"] == []
    with session_scope(engine, readonly=True) as s:
        assert s.query(Alert).count() == len(first["opened"])
    assert first["deliveries"] == 0  # no channels configured: nothing sent, nothing lost


def test_the_scheduled_alert_job_runs_through_the_scheduler_entry(tmp_path, engine):
    from shopops.jobs import run_job_once

    settings = Settings(data_dir=tmp_path, database_url=None)
    write_warehouse(tmp_path / "warehouse")
    job = next(j for j in DEFAULT_JOBS if j.name == "evaluate_alerts")
    first = run_job_once(engine, settings, job)
    with session_scope(engine, readonly=True) as s:
        assert s.query(Alert).count() == first
    assert run_job_once(engine, settings, job) == 0  # the same yesterday: nothing new


def test_backfill_evaluates_each_day_once_and_reruns_open_nothing(tmp_path, engine):
    import pytest

    from shopops.db import make_engine
    from shopops.migrate import upgrade
    from shopops.ops.jobs import InvalidBackfill, backfill_alerts

    write_warehouse(tmp_path / "warehouse")
    end = dt.date(2026, 11, 12)
    first = backfill_alerts(engine, tmp_path, 5, end=end)
    assert (first["first"], first["last"]) == ("2026-11-08", "2026-11-12")
    assert [d["day"] for d in first["days"]] == [f"2026-11-{d:02d}" for d in range(8, 13)]
    # The same days one by one on a fresh database: the same alerts, day for day.
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    settings = Settings(data_dir=tmp_path, database_url=None)
    one_by_one = [
        len(evaluate_alerts(settings, other, end - dt.timedelta(days=k), notify=False)["opened"])
        for k in range(4, -1, -1)
    ]
    assert [d["opened"] for d in first["days"]] == one_by_one
    assert first["opened"] == sum(one_by_one) > 0
    again = backfill_alerts(engine, tmp_path, 5, end=end)
    assert again["opened"] == 0
    with session_scope(engine, readonly=True) as s:
        assert s.query(Alert).count() == first["opened"]
    with pytest.raises(InvalidBackfill):
        backfill_alerts(engine, tmp_path, 0, end=end)
    other.dispose()


def test_alerts_evaluate_days_cli(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
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
        args = ["alerts", "evaluate", "--date", "2026-11-12", "--days", "3", "--json"]
        out = runner.invoke(app, args)
        assert out.exit_code == 0, out.output
        done = json.loads(out.output)
        assert (done["first"], done["last"], len(done["days"])) == ("2026-11-10", "2026-11-12", 3)
        again = json.loads(runner.invoke(app, args).output)
        assert again["opened"] == 0
        bad = runner.invoke(app, ["alerts", "evaluate", "--days", "400"])
        assert bad.exit_code == 2 and "1..366" in bad.output
    finally:
        get_settings.cache_clear()
