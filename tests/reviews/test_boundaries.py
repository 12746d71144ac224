"""Reviews talk to orders only through the orders service (no reads of its tables)."""

from __future__ import annotations

import ast
from pathlib import Path

import shopops.reviews as package
from shopops.orders import service as orders
from shopops.reviews import service_bulk
from tests import factories as f


def test_no_module_of_reviews_imports_the_orders_models() -> None:
    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
            a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
        }
        assert "shopops.orders.models" not in imported, path.name


def test_orders_to_review_is_the_orders_read(session) -> None:
    order = f.delivered_order(session, skus=2)
    other = f.paid_order(session)
    found = service_bulk.orders_to_review(session, order_ids=[order.id, other.id, 10**9])
    assert set(found) == {order.id, other.id}
    got = found[order.id]
    assert (got.number, got.status, got.customer_id) == (
        order.number,
        "delivered",
        order.customer_id,
    )
    assert got.delivered_at is not None and found[other.id].delivered_at is None
    assert got.lines == {ln.id: (ln.product_id, ln.sku_id) for ln in order.lines}
    assert list(got.lines) == sorted(got.lines)
    assert found == orders.orders_with_lines(session, order_ids=[order.id, other.id])
    assert orders.orders_with_lines(session, order_ids=[]) == {}
