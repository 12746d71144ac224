"""Reads other domains make of after-sales in batches: units that came back per SKU over a
period (supplier scorecards). Call as `shopops.aftersales.reads.units_returned`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.aftersales.models import ReturnLine, ReturnRequest
from shopops.aftersales.rules import ReturnKind
from shopops.orders import service as orders


def units_returned(
    session: Session,
    *,
    sku_ids: Sequence[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kinds: Sequence[str] = (ReturnKind.RETURN, ReturnKind.EXCHANGE),
) -> dict[int, int]:
    """SKU id → units of returns (and exchanges, by default) received in `[since, until)`
    (either end open when None): the goods that came back, whatever happened to the money.
    Requests not received (requested, approved, rejected, in transit) count nothing; SKUs with
    none are absent."""
    if sku_ids is not None and not sku_ids:
        return {}
    stmt = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.received_at.is_not(None), ReturnRequest.kind.in_(list(kinds)))
        .group_by(ReturnLine.order_line_id)
    )
    if since is not None:
        stmt = stmt.where(ReturnRequest.received_at >= since)
    if until is not None:
        stmt = stmt.where(ReturnRequest.received_at < until)
    by_line = {int(line): int(n or 0) for line, n in session.execute(stmt)}
    # The line's SKU is the orders domain's to say.
    skus = orders.line_skus(session, line_ids=list(by_line))
    wanted = None if sku_ids is None else set(sku_ids)
    out: dict[int, int] = {}
    for line, units in by_line.items():
        sku = skus.get(line)
        if sku is None or units <= 0 or (wanted is not None and sku not in wanted):
            continue
        out[sku] = out.get(sku, 0) + units
    return out


def orders_to_return(
    session: Session, *, order_ids: Sequence[int]
) -> dict[int, tuple[str, list[tuple[int, int]]]]:
    """Order id → (number, [(line id, units bought)] in line order), what a shopper picks a
    return from; one query for many orders, unknown ids absent."""
    from shopops.orders.models import Order, OrderLine

    if not order_ids:
        return {}
    stmt = (
        select(Order.id, Order.number, OrderLine.id, OrderLine.quantity)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.id.in_(sorted(set(order_ids))))
        .order_by(Order.id, OrderLine.id)
    )
    out: dict[int, tuple[str, list[tuple[int, int]]]] = {}
    for order_id, number, line_id, quantity in session.execute(stmt):
        out.setdefault(order_id, (number, []))[1].append((line_id, quantity))
    return out
