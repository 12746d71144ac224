"""Fixtures of the pricing tests: a fresh live snapshot around every test (tables are
truncated between tests, so one test's flash sales must never price the next one's carts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.pricing.support import Store, build_store

from shopops.pricing.service import invalidate_live_snapshot


@pytest.fixture(autouse=True)
def _fresh_snapshot() -> Iterator[None]:
    invalidate_live_snapshot()
    yield
    invalidate_live_snapshot()


@pytest.fixture
def store(engine: Engine) -> Store:
    """Two SKUs at ¥299 (cost ¥179.40: a 40% margin) with 50 units each, a customer."""
    return build_store(engine)
