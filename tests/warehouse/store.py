"""A small store built through the real services, and independent SQL over its tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from shopops.db import session_scope
from shopops.fulfillment import service as fulfillment
from shopops.orders import service as orders
from shopops.payments import service as payments
from tests import factories as f


@dataclass
class Store:
    customer_id: int
    order_ids: list[int]


def add_orders(engine: Engine, n: int = 1) -> list[int]:
    """`n` orders paid, shipped and delivered, one with a partial refund and one cancelled
    unpaid order besides."""
    ids = []
    with session_scope(engine) as s:
        cust = f.customer(s)
        fulfillment.ensure_default_carriers(s)
        for _ in range(n):
            order = f.paid_order(s, cust=cust, skus=2, quantity=2, price=12900)
            fulfillment.ship_order(s, order_id=order.id, carrier_code="sf")
            ids.append(order.id)
        cancelled = f.placed_order(s, cust=cust)
        orders.cancel_order(s, order_id=cancelled.id, reason="买家取消")
        ids.append(cancelled.id)
        refunded = f.paid_order(s, cust=cust, skus=1, quantity=3, price=5000)
        line = refunded.lines[0]
        payments.refund_order(s, order_id=refunded.id, lines=[(line.id, 1)], gateway=f.gateway())
        ids.append(refunded.id)
    return ids


def pay_later(engine: Engine) -> int:
    """An order left unpaid (the loader sees it placed), returned for a later payment."""
    with session_scope(engine) as s:
        return f.placed_order(s, price=7700).id


def pay(engine: Engine, order_id: int) -> None:
    with session_scope(engine) as s:
        payments.pay_order(s, order_id=order_id, channel="alipay", gateway=f.gateway())


def store_figures(engine: Engine) -> dict[str, int]:
    """What the warehouse must agree with, computed straight from the store's tables."""
    queries = {
        "orders": "SELECT COUNT(*) FROM sales_order",
        "paid_orders": "SELECT COUNT(*) FROM sales_order WHERE paid_at IS NOT NULL",
        "paid_gmv": "SELECT COALESCE(SUM(paid_amount), 0) FROM sales_order",
        "lines": "SELECT COUNT(*) FROM order_line l JOIN sales_order o ON o.id = l.order_id"
        " WHERE o.paid_at IS NOT NULL",
        "line_total": "SELECT COALESCE(SUM(l.total), 0) FROM order_line l"
        " JOIN sales_order o ON o.id = l.order_id WHERE o.paid_at IS NOT NULL",
        "refunded": "SELECT COALESCE(SUM(amount), 0) FROM refund WHERE status = 'succeeded'",
        "order_refunded": "SELECT COALESCE(SUM(refunded_amount), 0) FROM sales_order",
        "payments": "SELECT COUNT(*) FROM payment WHERE status <> 'pending'",
        "shipments": "SELECT COUNT(*) FROM shipment",
    }
    with engine.connect() as conn:
        return {k: int(conn.execute(text(q)).scalar() or 0) for k, q in queries.items()}
