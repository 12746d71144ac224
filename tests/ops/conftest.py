"""A simulated shop with injected incidents in its last week (shared by the truth tests), and
a store database with the ops tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shopops.config import Settings
from shopops.db import make_engine
from shopops.migrate import upgrade
from shopops.sim import Incident, SimulationConfig, build_sample_shop

END = dt.date(2026, 11, 30)
INCIDENTS = (
    # The simulator empties its best-selling hit SKU (and records which one).
    Incident("stockout", dt.date(2026, 11, 21), days=2),
    Incident("cpc_spike", dt.date(2026, 11, 25), channel="paid_search", depth=1.0),
    Incident("traffic_drop", dt.date(2026, 11, 27), channel="paid_search", depth=0.9),
    Incident("conversion_slump", dt.date(2026, 11, 29), days=2, depth=0.6),
)


@pytest.fixture(scope="session")
def incident_shop(tmp_path_factory):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("ops_shop")), database_url=None)
    config = SimulationConfig(days=38, visitors=500, seed=12, end=END, incidents=INCIDENTS)
    result = build_sample_shop(settings, config)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return settings, engine, result


@pytest.fixture()
def engine(tmp_path):  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()
