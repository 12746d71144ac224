"""A small simulated shop shared by the simulator tests (a few days, few visitors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shopops.config import Settings
from shopops.sim import SimulationConfig, SimulationResult, build_sample_shop

END = dt.date(2026, 11, 20)


def settings_for(path: Path) -> Settings:
    return Settings(data_dir=path, database_url=None)


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory) -> tuple[Settings, SimulationResult]:
    settings = settings_for(tmp_path_factory.mktemp("shop"))
    result = build_sample_shop(settings, SimulationConfig(days=4, visitors=400, seed=5, end=END))
    return settings, result
