"""The simulator builds a consistent, deterministic shop through the real services."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select

from shopops.db import make_engine
from shopops.orders.models import Order
from shopops.sim import SimulationConfig, simulate
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
