"""The demo shop: built through the services, consistent, reproducible, and usable by key."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from shopops.api.app import create_app
from shopops.cli import app
from shopops.config import get_settings
from shopops.orders.models import Order
from shopops.sim.demo import build_demo_shop
from shopops.verify import run_checks

TODAY = dt.datetime(2026, 11, 11, 12, tzinfo=dt.UTC)


def test_demo_shop_is_consistent_on_both_backends(engine):
    shop = build_demo_shop(engine, days=10, customers=25, seed=7, today=TODAY)
    assert (shop.products, shop.skus, shop.customers) == (20, 40, 25)
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(select(Order.status, func.count()).group_by(Order.status)).all()
        )
        last = conn.scalar(select(func.max(Order.placed_at)))
    assert sum(statuses.values()) == shop.orders > 0
    assert statuses.get("cancelled", 0) == shop.cancelled
    assert statuses.get("completed", 0) == shop.completed > 0
    assert shop.paid == shop.orders - shop.cancelled
    assert last is not None and last <= TODAY  # nothing happens after "today"
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []


def test_same_seed_same_shop(tmp_path):
    from shopops.db import Base, make_engine

    counts = []
    for name in ("a", "b"):
        eng = make_engine(f"sqlite:///{tmp_path / name}.db")
        Base.metadata.create_all(eng)
        shop = build_demo_shop(eng, days=5, customers=12, seed=3, today=TODAY)
        counts.append((shop.orders, shop.paid, shop.completed, shop.cancelled))
        eng.dispose()
    assert counts[0] == counts[1]


runner = CliRunner()


@pytest.mark.usefixtures("data_dir")
def test_demo_command_builds_once_and_prints_working_keys():
    result = runner.invoke(app, ["demo", "--no-serve", "--customers", "8", "--days", "3"])
    assert result.exit_code == 0, result.output
    keys = [w for w in result.output.split() if w.startswith("sk_")]
    assert len(keys) == 2
    client = TestClient(create_app(get_settings()))
    ops = client.get("/admin/orders", headers={"Authorization": f"Bearer {keys[0]}"})
    assert ops.status_code == 200 and ops.json()["total"] > 0
    mine = client.get("/storefront/orders", headers={"Authorization": f"Bearer {keys[1]}"})
    assert mine.status_code == 200

    again = runner.invoke(app, ["demo", "--no-serve"])
    assert again.exit_code == 0 and "already has 20 products" in again.output
    fresh = runner.invoke(app, ["demo", "--no-serve", "--fresh", "--customers", "3", "--days", "2"])
    assert fresh.exit_code == 0 and "sk_" in fresh.output
