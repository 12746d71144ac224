"""Reads other domains make of orders in batches: orders with their lines (reviews), the SKU of
order lines (after-sales), and units sold per SKU over a period (supplier scorecards)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.orders.models import Order, OrderLine


@dataclass(slots=True)
class OrderWithLines:
    """What another domain reads of an order and its lines (no amounts)."""

    number: str
    status: str
    customer_id: int
    delivered_at: dt.datetime | None
    lines: dict[int, tuple[int, int]] = field(default_factory=dict)  # line → (product, SKU)


def orders_with_lines(session: Session, *, order_ids: Sequence[int]) -> dict[int, OrderWithLines]:
    """These orders with their lines (in line order) in one query; unknown ids are absent."""
    found: dict[int, OrderWithLines] = {}
    if not order_ids:
        return found
    stmt = (
        select(Order.id, Order.number, Order.status, Order.customer_id, Order.delivered_at,
               OrderLine.id, OrderLine.product_id, OrderLine.sku_id)
        .outerjoin(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.id.in_(sorted(set(order_ids))))
        .order_by(Order.id, OrderLine.id)
    )  # fmt: skip
    for oid, number, status, cid, delivered, lid, pid, sid in session.execute(stmt):
        o = found.setdefault(oid, OrderWithLines(number, status, cid, delivered))
        if lid is not None:
            o.lines[lid] = (pid, sid)
    return found


def line_skus(session: Session, *, line_ids: Sequence[int]) -> dict[int, int]:
    """Order line id → its SKU id (unknown lines are absent), one query."""
    if not line_ids:
        return {}
    stmt = select(OrderLine.id, OrderLine.sku_id).where(OrderLine.id.in_(sorted(set(line_ids))))
    return {int(lid): int(sid) for lid, sid in session.execute(stmt)}


def units_sold(
    session: Session,
    *,
    sku_ids: Sequence[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[int, int]:
    """SKU id → units on the lines of orders paid in `[since, until)` (either end open when
    None), before refunds and returns: the base a return rate divides by. SKUs that sold
    nothing are absent."""
    stmt = (
        select(OrderLine.sku_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.paid_at.is_not(None))
        .group_by(OrderLine.sku_id)
    )
    if sku_ids is not None:
        if not sku_ids:
            return {}
        stmt = stmt.where(OrderLine.sku_id.in_(sorted(set(sku_ids))))
    if since is not None:
        stmt = stmt.where(Order.paid_at >= since)
    if until is not None:
        stmt = stmt.where(Order.paid_at < until)
    return {int(sku): int(n or 0) for sku, n in session.execute(stmt) if n}
