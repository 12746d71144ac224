"""The simulator's purchasing: five Shenzhen suppliers, each SKU given to its category's maker
at cost; orders open and arrive (some late, some in parts, ~1.5% rejected), ledger exact."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from tests import factories as f

from shopops.catalog.models import Category
from shopops.inventory import service as inventory
from shopops.purchasing import service
from shopops.sim import purchasing as sim
from shopops.verify import run_checks

AT = dt.datetime(2026, 11, 3, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))


def _shop(session):
    wh = f.warehouse(session)
    cats = {}
    for slug in ("chargers", "earphones", "power-banks"):
        cats[slug] = Category(name=slug, slug=slug)
        session.add(cats[slug])
    other = Category(name="其他", slug="misc")
    session.add(other)
    session.flush()
    skus = {
        slug: f.product(session, wh=wh, stock=0, cat=cat, cost=5_000 + i).skus[0].id
        for i, (slug, cat) in enumerate(cats.items())
    }
    skus["misc"] = f.product(session, wh=wh, stock=0, cat=other).skus[0].id
    return wh, skus


def test_seed_gives_every_sku_to_its_maker(session):
    _, skus = _shop(session)
    owner = sim.seed_suppliers(session, sku_ids=list(skus.values()))
    suppliers = {s.id: s for s in service.list_suppliers(session)}
    assert len(suppliers) == 5 and sum(s.vmi for s in suppliers.values()) == 1
    assert {s.lead_time_days for s in suppliers.values()} <= set(range(3, 8))
    assert set(owner) == set(skus.values())
    assert suppliers[owner[skus["chargers"]]].code == "SZ-CHG"
    assert suppliers[owner[skus["power-banks"]]].vmi
    terms = service.supplier_for_sku(session, sku_id=skus["earphones"])
    assert terms.unit_cost == 5_001 and suppliers[terms.supplier_id].code == "SZ-AUD"


def test_orders_arrive_late_or_in_parts_and_reach_stock(session, engine):
    wh, skus = _shop(session)
    sim.seed_suppliers(session, sku_ids=list(skus.values()))
    rng = random.Random(4)
    accepted = rejected = late = 0
    for n in range(60):
        sku = list(skus.values())[n % len(skus)]
        at = AT + dt.timedelta(days=n)
        po_id, expected = sim.open_purchase_order(
            session, lines=[(sku, 200)], warehouse_id=wh.id, at=at
        )
        lead = service.get_supplier(
            session, supplier_id=service.get_purchase_order(session, po_id=po_id).supplier_id
        ).lead_time_days
        assert expected == at + dt.timedelta(days=lead)
        when: dt.datetime | None = expected - dt.timedelta(hours=3)
        calls = 0
        while when is not None:
            got = sim.receive_purchase_order(session, po_id=po_id, at=when, rng=rng)
            accepted, rejected = accepted + got.accepted, rejected + got.rejected
            late += when > expected
            when, calls = got.next_at, calls + 1
            assert calls < 5
        assert service.get_purchase_order(session, po_id=po_id).status == "received"
    assert accepted + rejected == 60 * 200
    later = AT + dt.timedelta(days=12)
    _, expected = sim.open_purchase_order(
        session, lines=[(skus["misc"], 5)], warehouse_id=wh.id, at=AT, expected_at=later
    )
    assert expected == later
    assert 0.005 < rejected / (accepted + rejected) < 0.025
    assert late > 0
    stock = inventory.available(session, sku_ids=list(skus.values()))
    assert sum(stock.values()) == accepted  # the last order is still on its way
    cards = service.supplier_scorecards(session)
    vmi = next(s.id for s in service.list_suppliers(session) if s.vmi)
    assert cards[vmi].on_time_rate is not None
    f.assert_stock_ledger(session)
    session.commit()
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
