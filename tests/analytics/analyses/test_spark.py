"""The same analysis definitions on Spark give DuckDB's answers."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.analytics.analyses.builders import at, customer, ev
from tests.analytics.analyses.test_funnel import STEPS, _case_events
from tests.analytics.analyses.test_rfm import _orders

from shopops.analytics.analyses.funnel import funnel
from shopops.analytics.analyses.rfm import rfm

pytestmark = pytest.mark.slow


def test_funnel_and_rfm_on_spark_equal_duckdb(make_wh):
    pytest.importorskip("pyspark")
    extra = [ev("z", "product_view", at("2026-11-10", 3), channel="feed_ads", device="desktop")]
    tables = {
        "fact_events": _case_events() + extra,
        "fact_orders": _orders(),
        "dim_customer": [customer(1, "2026-01-01"), customer(2, "2026-01-01", referred_by=1)],
    }
    duck = make_wh(**tables)
    spark = make_wh(backend="pyspark", **tables)
    day = dt.date(2026, 11, 10)
    for breakdown in (None, "channel"):
        a = funnel(duck, STEPS, start=day, end=day, breakdown=breakdown).to_dict()
        b = funnel(spark, STEPS, start=day, end=day, breakdown=breakdown).to_dict()
        assert a == b
    a, b = rfm(duck, as_of=dt.date(2026, 11, 30)), rfm(spark, as_of=dt.date(2026, 11, 30))
    assert a.customers.to_dict(orient="records") == b.customers.to_dict(orient="records")
    assert a.acca.to_dict(orient="records") == b.acca.to_dict(orient="records")
    assert a.to_dict() == b.to_dict()
