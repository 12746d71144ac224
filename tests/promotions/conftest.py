"""Fixtures of the store-level promotion tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.orders.shop import Shop, build_shop

from shopops.promotions import service


@pytest.fixture
def shop(engine: Engine) -> Iterator[Shop]:
    """Three listed SKUs at ¥30.00 with 10 units each, a customer with an address."""
    service.clear_cache()
    yield build_shop(engine)
