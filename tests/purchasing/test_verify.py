"""`shopops verify` ties purchase receipts to the stock ledger's purchase_order rows."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests import factories as f

from shopops.purchasing import service
from shopops.purchasing.service import LineSpec, ReceiptSpec
from shopops.verify import run_checks


def _broken(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.check.name for r in run_checks(engine) if not r.ok}


@pytest.fixture
def received(engine, uow):  # type: ignore[no-untyped-def]
    with uow() as s:
        wh = f.warehouse(s)
        sku = f.product(s, wh=wh, stock=3).skus[0]
        sup = service.create_supplier(s, code="SZ-T", name="测试工厂", lead_time_days=3)
        service.set_supplier_costs(s, supplier_id=sup.id, costs={sku.id: 9_000})
        po = service.create_purchase_order(
            s, supplier_id=sup.id, warehouse_id=wh.id, lines=[LineSpec(sku.id, 20)], submit=True
        )
        service.receive_purchase_order(s, po_id=po.id, lines=[ReceiptSpec(sku.id, 9, 1)])
    return engine


def test_received_orders_pass(received):
    assert _broken(received) == set()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE purchase_receipt_line SET accepted = accepted + 1",
            {"purchase_receipts_in_ledger", "purchase_lines_add_up"},
        ),
        (
            "UPDATE stock_movement SET on_hand_delta = on_hand_delta - 1"
            " WHERE ref_type = 'purchase_order'",
            {"purchase_receipts_in_ledger", "ledger_on_hand"},
        ),
        ("UPDATE purchase_order_line SET rejected = 0", {"purchase_lines_add_up"}),
    ],
)
def test_tampering_is_caught(received, sql, expected):
    with received.begin() as conn:
        conn.execute(text(sql))
    assert _broken(received) == expected
