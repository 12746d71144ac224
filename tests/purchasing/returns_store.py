"""A store where two suppliers' SKUs sold and came back, built through the real services, and
plain SQL over its tables for what the return rates must be."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session
from tests import factories as f

from shopops.aftersales import service as aftersales
from shopops.db import set_clock
from shopops.fulfillment import service as fulfillment
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.purchasing import service

T0 = dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)
RECEIVED = T0 + dt.timedelta(days=5)


@dataclass
class ReturnsStore:
    s_id: int  # supplies x and y
    t_id: int  # supplies z
    x: int
    y: int
    z: int


def _back(session: Session, order, line_id: int, kind: str = "return", receive: bool = True):  # type: ignore[no-untyped-def]
    req = aftersales.request_return(
        session,
        customer_id=order.customer_id,
        order_number=order.number,
        kind=kind,
        lines=[(line_id, 1)],
        no_reason=kind == "return",
        reason="" if kind == "return" else "尺码不对",
    )
    if not receive:
        return req
    aftersales.approve_return(session, return_id=req.id)
    aftersales.ship_return(
        session, customer_id=order.customer_id, return_id=req.id, carrier_code="sf"
    )
    return aftersales.receive_return(session, return_id=req.id, gateway=f.gateway())


def build(session: Session) -> ReturnsStore:
    """Paid at T0: order A (x 3, y 3), order B (x 2), order Z (z 5); x 7 on an unpaid order.
    Back by T0 + 5 days: 1 x returned, 1 y exchanged, 2 z returned (two requests); 1 x of B
    only requested (not received: counts nothing)."""
    fulfillment.ensure_default_carriers(session)
    set_clock(session, T0)
    a = f.delivered_order(session, skus=2, quantity=3)
    x, y = (ln.sku_id for ln in a.lines)
    b = orders.place_order(session, customer_id=a.customer_id, lines=[(x, 2)])
    payments.pay_order(session, order_id=b.id, channel="alipay", gateway=f.gateway())
    orders.mark_shipped(session, order_id=b.id)
    orders.mark_delivered(session, order_id=b.id)
    orders.place_order(session, customer_id=a.customer_id, lines=[(x, 7)])  # never paid
    zo = f.delivered_order(session, quantity=5)
    z = zo.lines[0].sku_id
    sup_s = service.create_supplier(session, code="S-XY", name="深圳甲供应", lead_time_days=5)
    sup_t = service.create_supplier(session, code="T-Z", name="东莞乙供应", lead_time_days=5)
    service.set_supplier_costs(session, supplier_id=sup_s.id, costs={x: 1000, y: 1000})
    service.set_supplier_costs(session, supplier_id=sup_t.id, costs={z: 1000})
    set_clock(session, RECEIVED)
    _back(session, a, a.lines[0].id)
    _back(session, a, a.lines[1].id, kind="exchange")
    _back(session, zo, zo.lines[0].id)
    _back(session, zo, zo.lines[0].id)
    _back(session, b, b.lines[0].id, receive=False)
    session.flush()
    return ReturnsStore(sup_s.id, sup_t.id, x, y, z)


def sql_rates(session: Session) -> dict[int, tuple[int, int]]:
    """supplier → (units sold, units returned) of its SKUs, by plain SQL."""
    sold = session.execute(
        text(
            "SELECT ss.supplier_id, COALESCE(SUM(l.quantity), 0) FROM supplier_sku ss"
            " JOIN order_line l ON l.sku_id = ss.sku_id"
            " JOIN sales_order o ON o.id = l.order_id AND o.paid_at IS NOT NULL"
            " GROUP BY ss.supplier_id"
        )
    )
    back = session.execute(
        text(
            "SELECT ss.supplier_id, COALESCE(SUM(rl.quantity), 0) FROM supplier_sku ss"
            " JOIN order_line l ON l.sku_id = ss.sku_id"
            " JOIN return_line rl ON rl.order_line_id = l.id"
            " JOIN return_request r ON r.id = rl.return_id AND r.received_at IS NOT NULL"
            " GROUP BY ss.supplier_id"
        )
    )
    out: dict[int, list[int]] = {}
    for sup, n in sold:
        out.setdefault(int(sup), [0, 0])[0] = int(n)
    for sup, n in back:
        out.setdefault(int(sup), [0, 0])[1] = int(n)
    return {k: (v[0], v[1]) for k, v in out.items()}
