"""Fixtures: small hand-written warehouses (Parquet per the contract in docs/warehouse.md)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.analytics.analyses.builders import write_table

from shopops.analytics.engine import Warehouse

WarehouseFactory = Callable[..., Warehouse]


@pytest.fixture
def make_wh(tmp_path: Path) -> WarehouseFactory:
    """`make_wh(fact_events=[...], fact_orders=[...], backend="duckdb")` → a Warehouse over
    tables written under tmp_path/warehouse (the API's data dir in the `settings` fixture)."""
    counter = itertools.count()

    def _make(backend: str = "duckdb", fresh: bool = True, **tables: list[dict]) -> Warehouse:
        root = tmp_path / "warehouse" if not fresh else tmp_path / f"wh{next(counter)}"
        for name, rows in tables.items():
            write_table(root, name, rows)
        return Warehouse(root, backend=backend)

    return _make
