"""Fixtures of the orders tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.orders.shop import Shop, build_shop


@pytest.fixture
def shop(engine: Engine) -> Shop:
    """Three listed SKUs with 10 units each, one delisted SKU, a customer with an address."""
    return build_shop(engine)
