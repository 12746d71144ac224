"""The loader's summaries (`shopops.warehouse.derived`) on a random store (benchmarks/gen_store.py,
two seeds): every metric with its comparisons, RFM and retention read through them equal the
same read from the facts alone (the store copied without its summaries)."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from shopops.analytics.analyses.retention import retention
from shopops.analytics.analyses.rfm import rfm
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import parse_period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.warehouse import derived

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import gen_store

ARGS = ["--events", "6000", "--orders", "900", "--customers", "150", "--skus", "40"]
START = dt.date(2025, 6, 1)
DAYS = 75


@pytest.fixture(scope="module", params=[5, 618])
def stores(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp(f"random-{request.param}")
    argv = ["--out", str(root), *ARGS, "--days", str(DAYS), "--seed", str(request.param)]
    gen_store.generate(gen_store.parse_args(argv))
    bare = tmp_path_factory.mktemp(f"bare-{request.param}") / "wh"
    shutil.copytree(root, bare)
    shutil.rmtree(bare / derived.DERIVED)
    return root, bare


def _warehouses(stores: tuple[Path, Path]) -> tuple[Warehouse, Warehouse]:
    via, facts = (Warehouse(r, schemas=READ_SCHEMAS) for r in stores)
    assert all(via.derived(d.name) is not None for d in derived.ALL)
    assert all(facts.derived(d.name) is None for d in derived.ALL)
    return via, facts


@pytest.mark.parametrize("text", ["2025-07-20", "2025-08-14", "2025-07", "2025-W30"])
def test_every_metric_through_the_summaries_equals_the_facts(stores, text):
    via, facts = _warehouses(stores)
    period = parse_period(text)
    a, b = (evaluate(w, None, period).to_dict() for w in (via, facts))
    assert a == b
    assert any(m["value"] for m in a["metrics"] if m["code"] == "review_rate")
    assert any(m["value"] for m in a["metrics"] if m["code"] == "gross_profit")


@pytest.mark.parametrize("as_of", [dt.date(2025, 7, 20), dt.date(2025, 8, 14)])
def test_rfm_and_retention_through_the_summaries_equal_the_facts(stores, as_of):
    via, facts = _warehouses(stores)
    a, b = rfm(via, as_of=as_of), rfm(facts, as_of=as_of)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.acca, b.acca)
    assert a.medians == b.medians and len(a.customers) > 0
    for grain in ("month", "week"):
        for mode in ("first_time", "recurring"):
            ra, rb = (
                retention(w, start=START, end=as_of, grain=grain, mode=mode, periods=4)
                for w in (via, facts)
            )
            assert ra.to_dict() == rb.to_dict() and ra.rows
