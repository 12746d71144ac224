"""A long run hands its events to an ingestion child and compacts beside it: every event
arrives once, the state file never runs ahead of the events, and Ctrl-C stays consistent."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from shopops.db import make_engine
from shopops.orders.models import Order
from shopops.sim import SimulationConfig, engine, feeder, simulate
from shopops.sim.engine import load_state
from shopops.tracking import service as tracking
from shopops.verify import run_checks
from tests.sim.conftest import END, settings_for

DAYS = feeder.MIN_DAYS  # the shortest run that uses the child and the compactor


def _stored_events(data_dir) -> tuple[int, int]:
    table = tracking.read_events(data_dir)
    names = table.column("event").to_pylist()
    return sum(1 for n in names if n != "$identify"), len(set(table.column("event_id").to_pylist()))


@pytest.mark.slow
def test_every_event_arrives_once_through_the_child(tmp_path):
    settings = settings_for(tmp_path)
    result = simulate(settings, SimulationConfig(days=DAYS, visitors=40, seed=3, end=END))
    events, unique = _stored_events(settings.data_dir)
    assert events == result.events > 0
    assert not list((settings.data_dir / "events").glob("*.seg"))  # all compacted
    assert unique == len(tracking.read_events(settings.data_dir))  # no row twice
    state = load_state(settings.data_dir)
    assert state is not None and state.next_day == END + dt.timedelta(days=1)


@pytest.mark.slow
def test_interrupt_with_the_child_keeps_store_events_and_state_together(tmp_path, monkeypatch):
    settings = settings_for(tmp_path)
    calls = {"n": 0}
    real = engine.DayRun.run

    def run_then_stop(self):
        calls["n"] += 1
        if calls["n"] == DAYS - 2:
            raise KeyboardInterrupt  # Ctrl-C before that day's store work commits
        return real(self)

    monkeypatch.setattr(engine.DayRun, "run", run_then_stop)
    with pytest.raises(KeyboardInterrupt):
        simulate(settings, SimulationConfig(days=DAYS, visitors=40, seed=3, end=END))
    state = load_state(settings.data_dir)
    assert state is not None
    done = (state.next_day - (END - dt.timedelta(days=DAYS - 1))).days
    assert done == DAYS - 3  # the days before the interrupted one, each with its state
    db = make_engine(settings.resolved_database_url)
    assert [r.check.name for r in run_checks(db) if not r.ok] == []
    with db.connect() as conn:
        placed = conn.scalar(select(func.count()).select_from(Order))
    db.dispose()
    truth = json.loads((settings.data_dir / "ground_truth.json").read_text())
    assert placed == sum(sum(d["orders"].values()) for d in truth["days"]) == state.orders
    events, _ = _stored_events(settings.data_dir)
    assert events == state.events
