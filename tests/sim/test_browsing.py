"""Non-buyers' browsing, decided by the engine and made at ingestion: the count the engine
records is what is made, the same wherever it is made, and a seed gives the same events."""

from __future__ import annotations

import datetime as dt
import pickle
import random

import pytest

from shopops.sim import SimulationConfig, personas, simulate, traffic
from shopops.sim.browsing import Browsing
from shopops.sim.catalog import Shop
from shopops.sim.visit import Visit, browse_shape, epoch_ms, shape_events
from shopops.tracking import service as tracking
from shopops.tracking.feed import Batch, batch_events
from tests.sim.conftest import END, settings_for


def _shop() -> Shop:
    shop = Shop()
    for i, category in enumerate(["chargers", "cables", "earphones"] * 4, start=1):
        shop.sku_ids.append(i)
        shop.sku_category[i] = category
        shop.sku_role[i] = "tail"
        shop.sku_price[i] = 9900
        shop.sku_weight[i] = 1.0 + i % 3
        shop.sku_product[i] = 100 + i
        shop.categories.setdefault(category, []).append(i)
    return shop


def _browsing(n: int) -> Browsing:
    rng = random.Random(1)
    browsing = Browsing.start("browse-test", "always_on", _shop())
    start = dt.datetime(2026, 11, 20, 1, tzinfo=dt.UTC)
    for i in range(n):
        channel = rng.choice(traffic.CHANNELS).code
        persona = rng.choice(personas.PERSONAS)
        customer = i if i % 7 == 0 else None
        visit = Visit(f"a-{i}", channel, persona, start + dt.timedelta(seconds=i), customer)
        browsing.add(visit, epoch_ms(visit.start), browse_shape(rng))
    return browsing


def test_the_count_is_what_expand_makes_and_a_pickle_makes_the_same():
    browsing = _browsing(400)
    events = browsing.expand()
    assert len(events) == browsing.count > 400
    assert max(e["timestamp"] for e in events) <= browsing.latest_ms
    names = {e["event"] for e in events}
    assert {"page_view", "search", "product_view", "add_to_cart", "begin_checkout"} <= names
    assert pickle.loads(pickle.dumps(browsing)).expand() == events  # as in the child
    assert all(
        e.get("customer_id") == int(e["distinct_id"][2:]) for e in events if "customer_id" in e
    )


def test_batch_events_puts_the_sources_after_the_events_and_numbers_them_all():
    browsing = _browsing(20)
    own = [{"event": "pay", "distinct_id": "x", "timestamp": 1, "properties": {}}]
    events = batch_events(Batch(events=own, sources=[browsing], id_base=5 << 48))
    assert events[0] is own[0] and len(events) == 1 + browsing.count
    assert [e["uuid"] for e in events[:2]] == [
        "00000000-0000-0000-0005-000000000000",
        "00000000-0000-0000-0005-000000000001",
    ]
    assert len({e["uuid"] for e in events}) == len(events)


def _events(data_dir) -> list[tuple]:
    table = tracking.read_events(data_dir)
    cols = ["event_id", "event", "distinct_id", "ts_at", "sku_id", "search_query", "path"]
    return sorted(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


def test_same_seed_same_events(tmp_path):
    stored = []
    for name in ("a", "b"):
        settings = settings_for(tmp_path / name)
        result = simulate(settings, SimulationConfig(days=2, visitors=150, seed=9, end=END))
        rows = _events(settings.data_dir)
        assert sum(1 for r in rows if r[1] != "$identify") == result.events
        stored.append(rows)
    assert stored[0] == stored[1]


def test_columns_count_what_expand_makes_in_time_order_with_the_rows():
    import numpy as np

    from shopops.sim import arrivals
    from shopops.sim.browsing import Columns

    crowd = arrivals.stream("test-columns")
    new = arrivals.draw(crowd, 3000, [1.0] * len(traffic.CHANNELS), [1.0] * len(traffic.CHANNELS))
    assert len(new) == 3000 and 0 < new.buys.sum() < 300
    start = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp() * 1000)
    leave = ~new.buys
    browsing = _browsing(30)
    rows_count = browsing.count
    browsing.add_many(
        Columns(
            "n-", np.arange(1, len(new) + 1)[leave], new.channel[leave], new.persona[leave],
            start + (new.seconds[leave] * 1000).astype(np.int64), new.shape[leave],
        )
    )  # fmt: skip
    browsing.add_many(Columns("e-", *(np.zeros(0, dtype=np.int64) for _ in range(5))))
    events = pickle.loads(pickle.dumps(browsing)).expand()
    assert len(events) == browsing.count > rows_count + leave.sum()
    assert max(e["timestamp"] for e in events) <= browsing.latest_ms
    firsts = [e["timestamp"] for e in events if e["event"] == "page_view"]
    assert firsts == sorted(firsts)  # sessions in the order they start
    # The shapes are distributed as browse_shape's: about BOUNCE of them bounce.
    shapes = arrivals.shapes(arrivals.stream("shapes"), 20000)
    rng = random.Random(3)
    one_by_one = [browse_shape(rng) for _ in range(20000)]
    assert abs((shapes == 0).mean() - one_by_one.count(0) / 20000) < 0.02
    assert arrivals.shape_events(shapes).sum() == pytest.approx(
        sum(shape_events(s) for s in one_by_one), rel=0.03
    )
    assert [shape_events(int(s)) for s in shapes[:500]] == arrivals.shape_events(
        shapes[:500]
    ).tolist()


def test_the_same_key_draws_the_same_visitors_and_a_drop_keeps_fewer():
    from shopops.sim import arrivals

    ones = [1.0] * len(traffic.CHANNELS)
    a = arrivals.draw(arrivals.stream("k"), 2000, ones, ones)
    b = arrivals.draw(arrivals.stream("k"), 2000, ones, ones)
    assert (a.seconds == b.seconds).all() and (a.shape == b.shape).all()
    dropped = arrivals.draw(arrivals.stream("k"), 2000, [0.0, *ones[1:]], ones)
    assert not (dropped.channel == 0).any() and len(dropped) < 2000
    assert len(arrivals.draw(arrivals.stream("k"), 0, ones, ones)) == 0
