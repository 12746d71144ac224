"""Purchasing use cases on both backends: suppliers and costs, the order life, receiving into
stock through inventory (ledger exact, verify clean), scorecards and suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests import factories as f

from shopops.db import set_clock
from shopops.events import OutboxEvent
from shopops.inventory import service as inventory
from shopops.inventory.errors import UnknownWarehouse
from shopops.inventory.models import StockMovement
from shopops.purchasing import service
from shopops.purchasing.errors import (
    DuplicateSupplierCode,
    IllegalPurchaseOrderTransition,
    InvalidPurchasingField,
    LineNotOnOrder,
    NotReceivable,
    OverReceipt,
    SkuNotSupplied,
    SupplierInactive,
    SupplierNotFound,
    UnknownSku,
)
from shopops.purchasing.service import LineSpec, ReceiptSpec
from shopops.verify import run_checks

T0 = dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)


@pytest.fixture
def shop(session):
    """A supplier of two SKUs (costs agreed below the catalogue's 11,900), one warehouse."""
    wh = f.warehouse(session)
    product = f.product(session, wh=wh, stock=0, skus=2)
    a, b = product.skus
    sup = service.create_supplier(
        session, code="SZ-CHG", name="深圳快充科技", lead_time_days=5, contact_name="王经理"
    )
    service.set_supplier_costs(session, supplier_id=sup.id, costs={a.id: 11_000, b.id: 11_500})
    set_clock(session, T0)
    return sup, wh, a, b


def _po(session, shop, qa=100, qb=50, submit=True):
    sup, wh, a, b = shop
    return service.create_purchase_order(
        session,
        supplier_id=sup.id,
        warehouse_id=wh.id,
        lines=[LineSpec(a.id, qa), LineSpec(b.id, qb)],
        submit=submit,
    )


def _events(session, name):
    session.flush()
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.name == name))
    return [e.payload for e in rows]


def test_supplier_create_update_and_errors(session, shop):
    sup = shop[0]
    assert sup.active and sup.rating == 3 and not sup.vmi
    with pytest.raises(DuplicateSupplierCode):
        service.create_supplier(session, code="SZ-CHG", name="x", lead_time_days=3)
    with pytest.raises(InvalidPurchasingField):
        service.create_supplier(session, code="X", name="x", lead_time_days=-1)
    with pytest.raises(InvalidPurchasingField):
        service.create_supplier(session, code="Y", name="y", lead_time_days=3, rating=9)
    row = service.update_supplier(session, supplier_id=sup.id, vmi=True, lead_time_days=3)
    assert row.vmi and row.lead_time_days == 3
    with pytest.raises(SupplierNotFound):
        service.update_supplier(session, supplier_id=999, vmi=True)
    assert [e["code"] for e in _events(session, "supplier.updated")] == ["SZ-CHG"]
    with pytest.raises(UnknownSku):
        service.set_supplier_costs(session, supplier_id=sup.id, costs={999_999: 10})


def test_preferred_supplier_moves_to_the_last_agreed(session, shop):
    sup, _, a, b = shop
    other = service.create_supplier(session, code="SZ-2", name="备选工厂", lead_time_days=7)
    service.set_supplier_costs(session, supplier_id=other.id, costs={a.id: 10_800})
    assert service.supplier_for_sku(session, sku_id=a.id).supplier_id == other.id
    assert service.supplier_for_sku(session, sku_id=b.id).supplier_id == sup.id
    service.update_supplier(session, supplier_id=other.id, active=False)
    with pytest.raises(SkuNotSupplied):
        service.supplier_for_sku(session, sku_id=a.id)


def test_order_life_and_errors(session, shop):
    sup, wh, a, _ = shop
    po = _po(session, shop, submit=False)
    assert po.status == "draft" and po.number == f"PO{po.id:08d}"
    assert service.list_purchase_orders(session, status="draft").total == 1
    with pytest.raises(InvalidPurchasingField):
        service.list_purchase_orders(session, status="lost")
    assert po.expected_at == T0 + dt.timedelta(days=5)
    assert [ln.unit_cost for ln in po.lines] == [11_000, 11_500]
    with pytest.raises(NotReceivable):
        service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(a.id, 1)])
    service.submit_purchase_order(session, po_id=po.id)
    with pytest.raises(IllegalPurchaseOrderTransition):
        service.submit_purchase_order(session, po_id=po.id)
    submitted = _events(session, "purchase_order.submitted")
    assert submitted[0]["total_cost"] == 100 * 11_000 + 50 * 11_500
    service.cancel_purchase_order(session, po_id=po.id, reason="供应商缺货")
    with pytest.raises(IllegalPurchaseOrderTransition):
        service.cancel_purchase_order(session, po_id=po.id)
    lone = f.product(session, wh=wh, stock=0).skus[0]
    with pytest.raises(SkuNotSupplied):
        service.create_purchase_order(
            session, supplier_id=sup.id, warehouse_id=wh.id, lines=[LineSpec(lone.id, 5)]
        )
    with pytest.raises(UnknownWarehouse):
        service.create_purchase_order(
            session, supplier_id=sup.id, warehouse_id=9999, lines=[LineSpec(a.id, 5)]
        )
    with pytest.raises(InvalidPurchasingField):
        service.create_purchase_order(
            session, supplier_id=sup.id, warehouse_id=wh.id, lines=[LineSpec(a.id, 0)]
        )
    with pytest.raises(InvalidPurchasingField):
        service.create_purchase_order(
            session,
            supplier_id=sup.id,
            warehouse_id=wh.id,
            lines=[LineSpec(a.id, 1), LineSpec(a.id, 2)],
        )
    service.update_supplier(session, supplier_id=sup.id, active=False)
    with pytest.raises(SupplierInactive):
        _po(session, shop)


def test_partial_receipts_put_accepted_units_in_stock(session, shop, engine):
    _, _, a, b = shop
    po = _po(session, shop)
    set_clock(session, T0 + dt.timedelta(days=4))
    service.receive_purchase_order(
        session, po_id=po.id, lines=[ReceiptSpec(a.id, 60, 2), ReceiptSpec(b.id, 0, 0)]
    )
    assert po.status == "partially_received"
    assert inventory.available(session, sku_ids=[a.id, b.id]) == {a.id: 60, b.id: 0}
    assert service.on_order(session, sku_ids=[a.id, b.id]) == {a.id: 38, b.id: 50}
    with pytest.raises(OverReceipt) as refused:
        service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(a.id, 39)])
    assert refused.value.status_code == 409 and refused.value.details["outstanding"] == 38
    with pytest.raises(LineNotOnOrder):
        service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(12345, 1)])
    with pytest.raises(InvalidPurchasingField):
        service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(a.id, 0)])
    set_clock(session, T0 + dt.timedelta(days=6))  # a day late
    service.receive_in_full(session, po_id=po.id, rejected={b.id: 1})
    assert po.status == "received" and po.closed_at == T0 + dt.timedelta(days=6)
    assert inventory.available(session, sku_ids=[a.id, b.id]) == {a.id: 98, b.id: 49}
    moves = session.scalars(
        select(StockMovement).where(StockMovement.ref_type == "purchase_order")
    ).all()
    assert {m.ref_id for m in moves} == {po.number}
    assert sum(m.on_hand_delta for m in moves) == 98 + 49
    received = _events(session, "purchase_order.received")
    assert [(e["on_time"], e["complete"]) for e in received] == [(True, False), (False, True)]
    f.assert_stock_ledger(session)
    session.commit()
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    with pytest.raises(NotReceivable):
        service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(a.id, 1)])


def test_scorecard_and_suggestions(session, shop):
    sup, _, a, b = shop
    po = _po(session, shop, qa=100, qb=100)
    set_clock(session, T0 + dt.timedelta(days=2))
    service.receive_purchase_order(session, po_id=po.id, lines=[ReceiptSpec(a.id, 98, 2)])
    set_clock(session, T0 + dt.timedelta(days=7))
    service.receive_in_full(session, po_id=po.id)
    _po(session, shop, submit=False)  # drafts buy nothing
    card = service.supplier_scorecards(session)[sup.id]
    assert (card.receipts, card.on_time_receipts, card.on_time_rate) == (2, 1, 0.5)
    assert card.rejected_units == 2 and card.reject_rate == pytest.approx(0.01)
    assert card.average_cost == 11_250 and card.catalogue_cost == 11_900
    assert card.cost_index == pytest.approx(11_250 / 11_900)
    # 98 of a in stock; 10 a day over a 5-day lead + 3 safety days → reorder at 80.
    tips = service.replenishment_suggestions(session, daily_sales={a.id: 10.0, b.id: 30.0})
    assert [(t.sku_id, t.reorder_point) for t in tips] == [(b.id, 240)]
    assert tips[0].quantity == 240 + 30 * 14 - 100
