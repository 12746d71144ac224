"""Inventory use cases on both backends: reserve/commit/release/restock/adjust keep the ledger
exact (on_hand = Σ on_hand_delta, reserved = Σ reserved_delta = Σ active reservations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from tests import factories as f

from shopops.catalog.models import Sku
from shopops.errors import InvalidInput
from shopops.events import OutboxEvent
from shopops.inventory import service
from shopops.inventory.errors import (
    DuplicateWarehouseCode,
    InvalidQuantity,
    InvalidRef,
    NegativeStock,
    NoActiveWarehouse,
    OutOfStock,
    StockBelowReserved,
    UnknownSku,
    UnknownWarehouse,
    WarehouseInactive,
)
from shopops.inventory.models import Reservation, StockMovement
from shopops.inventory.service import reservations

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def reserve(session, ref_id, items, ref_type="order"):
    return service.reserve(
        session, ref_type=ref_type, ref_id=str(ref_id), items=items, expires_at=LATER
    )


def levels(session):
    return f.stock_levels(session)


def level(session, sku_id, warehouse_id):
    return levels(session)[(sku_id, warehouse_id)]


def assert_ledger(session):
    f.assert_stock_ledger(session)


def stock_events(session, reason=None):
    session.flush()
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.name == "stock.changed").order_by(OutboxEvent.seq)
    )
    return [e.payload for e in rows if reason is None or e.payload["reason"] == reason]


@pytest.fixture
def shop(session):
    """Two warehouses (A preferred), SKU 1 with 3 in A and 10 in B, SKU 2 with 5 in B."""
    wa = f.warehouse(session, priority=10)
    wb = f.warehouse(session, priority=50)
    p = f.product(session, skus=2, stock=0, wh=wa)
    s1, s2 = p.skus
    f.receive(session, s1, wa, 3)
    f.receive(session, s1, wb, 10)
    f.receive(session, s2, wb, 5)
    return {"wa": wa.id, "wb": wb.id, "s1": s1.id, "s2": s2.id, "product": p}


# ---- reserve ---------------------------------------------------------------------------------


def test_a_one_sku_reservation_takes_three_statements(engine, session, shop):
    with f.StatementCounter(engine) as sql:
        (r,) = reserve(session, 1, [(shop["s1"], 2)])
    # conditional UPDATE of the first warehouse with stock, INSERT reservation, INSERT movement
    assert sql.count == 3, sql.statements
    assert (r.sku_id, r.warehouse_id, r.quantity, r.status) == (shop["s1"], shop["wa"], 2, "active")
    assert level(session, shop["s1"], shop["wa"]) == (3, 2)
    with f.StatementCounter(engine) as sql:
        session.flush()
    assert sql.count == 1  # the stock.changed event, in the outbox's batched INSERT
    (event,) = stock_events(session, "reservation")
    assert event == {
        **event,
        "sku_id": shop["s1"],
        "warehouse_id": shop["wa"],
        "on_hand_delta": 0,
        "reserved_delta": 2,
        "on_hand": 3,
        "reserved": 2,
        "ref_type": "order",
        "ref_id": "1",
    }
    assert_ledger(session)


def test_lines_split_over_warehouses_by_priority(engine, session, shop):
    s1, s2, wa, wb = shop["s1"], shop["s2"], shop["wa"], shop["wb"]
    with f.StatementCounter(engine) as sql:
        got = reserve(session, 1, [(s2, 2), (s1, 5), (s1, 1)])
    # SKU 1 does not fit in A alone: its one-statement take misses, then the plan: a read,
    # 3 conditional UPDATEs; then 2 batched INSERTs.
    assert sql.count == 7, sql.statements
    assert [(r.sku_id, r.warehouse_id, r.quantity) for r in got] == [
        (s1, wa, 3),
        (s1, wb, 3),
        (s2, wb, 2),
    ]
    assert service.available(session, sku_ids=[s1, s2, 999]) == {s1: 7, s2: 3, 999: 0}
    assert len(stock_events(session, "reservation")) == 3
    assert_ledger(session)


def test_a_warehouse_with_nothing_free_is_passed_over_in_one_statement(engine, session, shop):
    s1, wa, wb = shop["s1"], shop["wa"], shop["wb"]
    reserve(session, 1, [(s1, 3)])  # A (preferred) is now fully reserved
    with f.StatementCounter(engine) as sql:
        (r,) = reserve(session, 2, [(s1, 4)])
    assert sql.count == 3, sql.statements
    assert (r.warehouse_id, r.quantity) == (wb, 4)
    assert level(session, s1, wa) == (3, 3)
    assert level(session, s1, wb) == (10, 4)
    assert_ledger(session)


def test_inactive_warehouses_are_not_sold_from(session, shop):
    service.update_warehouse(session, warehouse_id=shop["wa"], active=False)
    assert service.available(session, sku_ids=[shop["s1"]]) == {shop["s1"]: 10}
    (r,) = reserve(session, 1, [(shop["s1"], 2)])
    assert r.warehouse_id == shop["wb"]


def test_out_of_stock_is_all_or_nothing(session, shop):
    s1, s2 = shop["s1"], shop["s2"]
    before = levels(session)
    with pytest.raises(OutOfStock) as err:
        reserve(session, 1, [(s1, 5), (s2, 6)])
    assert err.value.details == {
        "sku_id": s2,
        "requested": 6,
        "available": 5,
        "shortages": [{"sku_id": s2, "requested": 6, "available": 5}],
    }
    assert err.value.status_code == 409
    assert levels(session) == before
    assert session.scalar(select(func.count()).select_from(Reservation)) == 0
    # Two lines of one SKU are checked together (one line each would fit).
    with pytest.raises(OutOfStock) as err:
        reserve(session, 2, [(s2, 3), (s2, 3)])
    assert err.value.details["requested"] == 6
    with pytest.raises(OutOfStock) as err:
        reserve(session, 3, [(999, 1)])
    assert err.value.details["available"] == 0
    assert_ledger(session)


def test_reserve_validates_its_input(session, shop):
    with pytest.raises(InvalidQuantity):
        reserve(session, 1, [(shop["s1"], 0)])
    with pytest.raises(InvalidQuantity):
        reserve(session, 1, [(shop["s1"], -2)])
    with pytest.raises(InvalidRef):
        reserve(session, "", [(shop["s1"], 1)])
    with pytest.raises(InvalidInput):
        service.reserve(
            session,
            ref_type="order",
            ref_id="1",
            items=[(shop["s1"], 1)],
            expires_at=dt.datetime(2030, 1, 1),
        )
    assert reserve(session, 1, []) == []


def test_a_lost_race_is_retried_and_may_reach_back_without_waiting(
    engine, session, shop, monkeypatch
):
    """The first read is stale (another order took stock after it): the conditional UPDATE
    misses, the call re-reads and fills the rest elsewhere, including from a warehouse earlier
    in the lock order than a row it holds (taken only if free: SKIP LOCKED, never waited for)."""
    s2, wb = shop["s2"], shop["wb"]  # SKU 2: 5 units in B (priority 50)
    wc = f.warehouse(session, priority=20)
    wd = f.warehouse(session, priority=5)
    f.receive(session, _sku(session, s2), wc, 2)
    f.receive(session, _sku(session, s2), wd, 1)
    real = reservations._read_levels
    calls = []

    def stale(sess, sku_ids):
        calls.append(sku_ids)
        out = real(sess, sku_ids)
        if len(calls) == 1:  # pretend D still had 3 units
            out = [replace(lv, available=3) if lv.warehouse_id == wd.id else lv for lv in out]
        return out

    monkeypatch.setattr(reservations, "_read_levels", stale)
    with f.StatementCounter(engine) as sql:
        got = reserve(session, 1, [(s2, 5)])
    # Plan 1: D 3, C 2 → C taken, D missed. Plan 2: D 1, B 2; B is behind C in lock order.
    assert len(calls) == 2
    assert {r.warehouse_id: r.quantity for r in got} == {wb: 2, wc.id: 2, wd.id: 1}
    # The one-statement take (its subquery joins the warehouses) missed first: D cannot fill 5.
    try_takes = [
        q
        for q in sql.statements
        if q.startswith("UPDATE") and "SELECT" in q and "warehouse" not in q
    ]
    assert len(try_takes) == 1
    if engine.dialect.name == "postgresql":
        assert "SKIP LOCKED" in try_takes[0]
    assert_ledger(session)


def _sku(session, sku_id):
    return session.get(Sku, sku_id)


def test_giving_up_after_repeated_lost_races_puts_everything_back(session, shop, monkeypatch):
    s1, s2 = shop["s1"], shop["s2"]
    real = reservations._read_levels

    def always_stale(sess, sku_ids):
        return [
            replace(lv, available=lv.available + 1) if lv.sku_id == s2 else lv
            for lv in real(sess, sku_ids)
        ]

    monkeypatch.setattr(reservations, "_read_levels", always_stale)
    before = levels(session)
    with pytest.raises(OutOfStock) as err:
        reserve(session, 1, [(s1, 2), (s2, 6)])
    assert err.value.details["sku_id"] == s2
    assert levels(session) == before
    assert_ledger(session)


# ---- commit, release ------------------------------------------------------------------------


def test_commit_is_the_sale_and_happens_once(engine, session, shop):
    s1, wa, wb = shop["s1"], shop["wa"], shop["wb"]
    reserve(session, 1, [(s1, 5)])
    with f.StatementCounter(engine) as sql:
        service.commit_reservations(session, ref_type="order", ref_id="1")
    assert sql.count == 4  # claim, two stock rows, INSERT movements
    assert level(session, s1, wa) == (0, 0)
    assert level(session, s1, wb) == (8, 0)
    with f.StatementCounter(engine) as sql:
        service.commit_reservations(session, ref_type="order", ref_id="1")
        service.release_reservations(session, ref_type="order", ref_id="1")
    assert sql.count == 2  # each claims nothing and stops
    assert level(session, s1, wb) == (8, 0)
    sales = stock_events(session, "sale")
    assert [(e["warehouse_id"], e["on_hand_delta"], e["reserved_delta"]) for e in sales] == [
        (wa, -3, -3),
        (wb, -2, -2),
    ]
    assert sales[1]["on_hand"] == 8
    statuses = session.scalars(select(Reservation.status)).all()
    assert statuses == ["committed", "committed"]
    assert_ledger(session)


def test_release_gives_stock_back_once(session, shop):
    s1, s2, wa, wb = shop["s1"], shop["s2"], shop["wa"], shop["wb"]
    reservations = reserve(session, 1, [(s1, 4), (s2, 1)])
    reserve(session, 2, [(s2, 2)])
    service.release_reservations(session, ref_type="order", ref_id="1")
    assert [r.status for r in reservations] == ["released"] * 3  # objects in the session too
    assert level(session, s1, wa) == (3, 0)
    assert level(session, s2, wb) == (5, 2)  # order 2 still holds its units
    service.release_reservations(session, ref_type="order", ref_id="1")
    service.commit_reservations(session, ref_type="order", ref_id="1")
    assert level(session, s1, wb) == (10, 0)
    assert len(stock_events(session, "release")) == 3
    service.release_reservations(session, ref_type="order", ref_id="unknown")
    with pytest.raises(InvalidRef):
        service.release_reservations(session, ref_type="", ref_id="1")
    assert_ledger(session)


# ---- receipts, returns, adjustments -------------------------------------------------------------


def test_receive_stock(session, shop):
    s2, wa = shop["s2"], shop["wa"]
    lvl = service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=7, ref_id="PO-1")
    assert (lvl.on_hand, lvl.reserved) == (7, 0)
    again = service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=3)
    assert again is lvl and lvl.on_hand == 10
    (event, _) = stock_events(session, "receipt")
    assert (event["on_hand_delta"], event["on_hand"], event["ref_type"], event["ref_id"]) == (
        7,
        7,
        "purchase",
        "PO-1",
    )
    with pytest.raises(UnknownSku):
        service.receive_stock(session, sku_id=999, warehouse_id=wa, quantity=1)
    with pytest.raises(UnknownWarehouse):
        service.receive_stock(session, sku_id=s2, warehouse_id=999, quantity=1)
    with pytest.raises(InvalidQuantity):
        service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=0)
    with pytest.raises(InvalidQuantity):
        service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=10**7)
    with pytest.raises(InvalidInput):
        service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=1, note="x" * 201)
    service.update_warehouse(session, warehouse_id=wa, active=False)
    with pytest.raises(WarehouseInactive):
        service.receive_stock(session, sku_id=s2, warehouse_id=wa, quantity=1)
    assert_ledger(session)


def test_restock_returns(session, shop):
    s2, wa, wb = shop["s2"], shop["wa"], shop["wb"]
    # SKU 2 is stocked only in B: a return goes there, though A has the higher priority.
    service.restock(session, sku_id=s2, quantity=2, ref_type="return", ref_id="R1")
    assert level(session, s2, wb) == (7, 0)
    service.restock(session, sku_id=s2, quantity=1, ref_type="return", ref_id="R2", warehouse_id=wa)
    assert level(session, s2, wa) == (1, 0)
    (first, _) = stock_events(session, "return")
    assert (first["warehouse_id"], first["on_hand_delta"], first["ref_id"]) == (wb, 2, "R1")
    with pytest.raises(UnknownSku):
        service.restock(session, sku_id=999, quantity=1, ref_type="return", ref_id="R3")
    with pytest.raises(UnknownWarehouse):
        service.restock(
            session, sku_id=s2, quantity=1, ref_type="return", ref_id="R3", warehouse_id=999
        )
    with pytest.raises(InvalidQuantity):
        service.restock(session, sku_id=s2, quantity=-1, ref_type="return", ref_id="R3")
    for wid in (wa, wb):
        service.update_warehouse(session, warehouse_id=wid, active=False)
    with pytest.raises(NoActiveWarehouse):
        service.restock(session, sku_id=s2, quantity=1, ref_type="return", ref_id="R3")
    assert_ledger(session)


def test_adjustments_never_go_below_zero_or_reserved(session, shop):
    s1, s2, wa, wb = shop["s1"], shop["s2"], shop["wa"], shop["wb"]
    reserve(session, 1, [(s1, 3)])  # all of A
    lvl = service.adjust_stock(session, sku_id=s1, warehouse_id=wb, delta=-4, note="盘点")
    assert (lvl.on_hand, lvl.reserved) == (6, 0)
    lvl = service.adjust_stock(session, sku_id=s1, warehouse_id=wb, delta=2, note="found")
    assert lvl.on_hand == 8
    with pytest.raises(StockBelowReserved) as err:
        service.adjust_stock(session, sku_id=s1, warehouse_id=wa, delta=-1, note="broken")
    assert err.value.details["reserved"] == 3
    with pytest.raises(NegativeStock):
        service.adjust_stock(session, sku_id=s1, warehouse_id=wb, delta=-9, note="x")
    with pytest.raises(NegativeStock):
        service.adjust_stock(session, sku_id=s2, warehouse_id=wa, delta=-1, note="no row")
    with pytest.raises(InvalidQuantity):
        service.adjust_stock(session, sku_id=s1, warehouse_id=wb, delta=0, note="x")
    with pytest.raises(UnknownSku):
        service.adjust_stock(session, sku_id=999, warehouse_id=wb, delta=1, note="x")
    with pytest.raises(UnknownWarehouse):
        service.adjust_stock(session, sku_id=s1, warehouse_id=999, delta=1, note="x")
    events = stock_events(session, "adjustment")
    assert [e["on_hand_delta"] for e in events] == [-4, 2]
    notes = session.scalars(
        select(StockMovement.note).where(StockMovement.reason == "adjustment")
    ).all()
    assert sorted(notes) == ["found", "盘点"]
    assert_ledger(session)


def test_the_ledger_holds_over_a_mixed_day(session, shop):
    s1, s2, wb = shop["s1"], shop["s2"], shop["wb"]
    reserve(session, 1, [(s1, 4), (s2, 2)])
    reserve(session, 2, [(s1, 6)])
    reserve(session, 3, [(s2, 3)])
    service.commit_reservations(session, ref_type="order", ref_id="1")
    service.release_reservations(session, ref_type="order", ref_id="2")
    service.restock(session, sku_id=s1, quantity=1, ref_type="return", ref_id="R1")
    service.receive_stock(session, sku_id=s2, warehouse_id=wb, quantity=4)
    service.adjust_stock(session, sku_id=s2, warehouse_id=wb, delta=-1, note="damaged")
    service.commit_reservations(session, ref_type="order", ref_id="3")
    assert_ledger(session)
    assert service.available(session, sku_ids=[s1, s2]) == {s1: 10, s2: 3}


# ---- reads, safety stock, warehouses ---------------------------------------------------------


def test_safety_stock_and_health(session, shop):
    s1, s2, wa = shop["s1"], shop["s2"], shop["wa"]
    extra = f.sku(session, shop["product"])
    service.set_safety_stock(session, sku_id=s2, safety_stock=6)
    service.set_safety_stock(session, sku_id=extra.id, safety_stock=1)  # no stock at all
    policy = service.set_safety_stock(session, sku_id=s1, safety_stock=13)
    assert policy.safety_stock == 13
    health = {h.sku_id: h for h in service.stock_health(session).items}
    assert (health[s1].available, health[s1].below_safety) == (13, False)
    assert (health[s2].available, health[s2].safety_stock, health[s2].below_safety) == (5, 6, True)
    assert health[extra.id].below_safety is True
    low = service.stock_health(session, below_safety_only=True)
    assert ([h.sku_id for h in low.items], low.total) == ([s2, extra.id], 2)
    reserve(session, 1, [(s1, 1)])
    assert service.stock_health(session, sku_ids=[s1]).items[0].below_safety is True

    rows = service.list_stock_levels(session, below_safety_only=True)
    assert sorted((r.sku_id, r.warehouse_id) for r in rows.items) == sorted(
        [(s1, wa), (s1, shop["wb"]), (s2, shop["wb"])]
    )
    only_a = service.list_stock_levels(session, warehouse_id=wa)
    assert [(r.sku_id, r.on_hand, r.reserved, r.available) for r in only_a.items] == [(s1, 3, 1, 2)]
    assert only_a.items[0].sku_available == 12
    with pytest.raises(UnknownSku):
        service.set_safety_stock(session, sku_id=999, safety_stock=1)
    with pytest.raises(InvalidQuantity):
        service.set_safety_stock(session, sku_id=s1, safety_stock=-1)


def test_movements_and_reservations_lists(session, shop):
    s1 = shop["s1"]
    reserve(session, 1, [(s1, 4)])
    page = service.list_movements(session, sku_id=s1, limit=2)
    assert page.total == 4  # two receipts, two reservation rows
    assert [m.reason for m in page.items] == ["reservation", "reservation"]
    assert service.list_movements(session, reason="receipt").total == 3
    assert service.list_movements(session, ref_type="order", ref_id="1").total == 2
    res = service.list_reservations(session, ref_type="order", ref_id="1", status="active")
    assert res.total == 2


def test_warehouses(session):
    wh = service.create_warehouse(session, code="SH-1", name="上海仓", priority=5)
    with pytest.raises(DuplicateWarehouseCode):
        service.create_warehouse(session, code="SH-1", name="x")
    service.create_warehouse(session, code="BJ-1", name="北京仓", priority=9, active=False)
    assert [w.code for w in service.list_warehouses(session)] == ["SH-1", "BJ-1"]
    assert [w.code for w in service.list_warehouses(session, active=True)] == ["SH-1"]
    updated = service.update_warehouse(session, warehouse_id=wh.id, priority=50, city="上海")
    assert (updated.priority, updated.city) == (50, "上海")
    with pytest.raises(UnknownWarehouse):
        service.update_warehouse(session, warehouse_id=999, priority=1)
