"""The simulator builds a consistent, deterministic shop through the real services."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import func, select

from shopops.db import make_engine
from shopops.orders.models import Order
from shopops.sim import Incident, SimulationConfig, simulate
from shopops.verify import run_checks
from tests.sim.conftest import END, settings_for


def _store_digest(settings) -> str:
    """Orders (status, total, customer, time: numbers are random) and the truth, hashed."""
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Order.status, Order.total, Order.customer_id, Order.placed_at).order_by(Order.id)
        ).all()
    engine.dispose()
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    blob = json.dumps([[list(r) for r in rows], truth["days"]], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_verify_passes_and_counts_match_the_store(small_shop):
    settings, result = small_shop
    engine = make_engine(settings.resolved_database_url)
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    with engine.connect() as conn:
        orders = conn.scalar(select(func.count()).select_from(Order))
        paid = conn.scalar(select(func.count()).select_from(Order).where(Order.paid_amount > 0))
    engine.dispose()
    assert orders == result.orders > 0
    assert paid == result.paid_orders
    truth = json.loads(result.ground_truth_path.read_text())
    assert sum(sum(d["orders"].values()) for d in truth["days"]) == result.orders
    assert [d["date"] for d in truth["days"]] == [
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
    ]


def test_same_seed_same_shop(tmp_path):
    digests = []
    for name in ("a", "b"):
        settings = settings_for(tmp_path / name)
        simulate(settings, SimulationConfig(days=2, visitors=150, seed=9, end=END))
        digests.append(_store_digest(settings))
    assert digests[0] == digests[1]
    other = settings_for(tmp_path / "c")
    simulate(other, SimulationConfig(days=2, visitors=150, seed=10, end=END))
    assert _store_digest(other) != digests[0]


def test_interrupted_run_leaves_a_consistent_store_that_continues(tmp_path):
    settings = settings_for(tmp_path)

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    config = SimulationConfig(days=4, visitors=150, seed=4, end=END)
    with pytest.raises(KeyboardInterrupt):
        simulate(settings, config, progress=stop_after_two)
    engine = make_engine(settings.resolved_database_url)
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    assert [d["date"] for d in truth["days"]] == ["2026-11-17", "2026-11-18"]
    with engine.connect() as conn:
        placed = conn.scalar(select(func.count()).select_from(Order))
    assert placed == sum(sum(d["orders"].values()) for d in truth["days"])
    # Going on picks up the next day; the ramp and the end stay those of the first run.
    result = simulate(settings, config)
    assert result.continued and result.days == 2
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    assert [d["date"] for d in truth["days"]][-1] == END.isoformat()
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    engine.dispose()


def test_interrupt_inside_a_day_rolls_that_day_back(tmp_path, monkeypatch):
    from shopops.sim import shoppers

    settings = settings_for(tmp_path)
    simulate(settings, SimulationConfig(days=1, visitors=100, seed=4, end=END))
    calls = {"n": 0}
    real = shoppers.checkout

    def checkout_then_stop(run, session, buyers):
        real(run, session, buyers)
        calls["n"] += bool(buyers)
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the day's unit of work

    monkeypatch.setattr(shoppers, "checkout", checkout_then_stop)
    with pytest.raises(KeyboardInterrupt):
        simulate(
            settings, SimulationConfig(days=1, visitors=100, seed=4, end=END + dt.timedelta(days=1))
        )
    engine = make_engine(settings.resolved_database_url)
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    with engine.connect() as conn:
        placed = conn.scalar(select(func.count()).select_from(Order))
    engine.dispose()
    assert [d["date"] for d in truth["days"]] == [END.isoformat()]
    assert placed == sum(truth["days"][0]["orders"].values())


def test_bad_configs_are_refused_before_anything_is_written(tmp_path):
    settings = settings_for(tmp_path / "x")
    for bad, message in [
        (SimulationConfig(days=-1), "days must be"),
        (SimulationConfig(visitors=0), "visitors must be"),
        (SimulationConfig(scenario="nope"), "known: default, flat, incidents, quiet"),
        (SimulationConfig(incidents=(Incident("traffic_drop", END),)), "needs a channel"),
        (SimulationConfig(incidents=(Incident("meteor", END),)), "unknown incident kind"),
    ]:
        with pytest.raises(ValueError, match=message):
            simulate(settings, bad)
    assert not settings.data_dir.exists()


def test_serve_job_keeps_a_simulated_shop_alive_up_to_now(tmp_path):
    from zoneinfo import ZoneInfo

    from shopops.jobs import DEFAULT_JOBS, run_job_once

    settings = settings_for(tmp_path)
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    simulate(
        settings, SimulationConfig(days=1, visitors=60, seed=2, end=today - dt.timedelta(days=2))
    )
    job = next(j for j in DEFAULT_JOBS if j.name == "simulate_demo_shop")
    engine = make_engine(settings.resolved_database_url)
    assert run_job_once(engine, settings, job) == 2  # yesterday, and today up to now
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    assert truth["last_day"] == today.isoformat()
    assert run_job_once(engine, settings, job) <= 1  # nothing (or the last minutes) to add
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    engine.dispose()
    empty = settings_for(tmp_path / "plain")
    empty.data_dir.mkdir()
    assert run_job_once(make_engine(empty.resolved_database_url), empty, job) == 0
