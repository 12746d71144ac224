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
