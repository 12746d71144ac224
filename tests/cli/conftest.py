"""A fresh data directory for each CLI test, with the settings cache cleared around it."""

from __future__ import annotations

import pytest

from shopops.config import get_settings


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPOPS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
