"""Return requests and parcels back in bulk: `request_returns` and `ship_returns`.

Each follows its single call (`service.request_return`, `service.ship_return`) on every item
in order at the item's own time — the same checks, rows and events — but set-based: the
batch's orders (or requests) are read and locked in one query, what they need besides (units
already taken back, SKU weights) in one or two, the new rows written in one flush and the
events announced with one `emit_many`. A refused item is checked before anything is written
and leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from shopops.aftersales import events
from shopops.aftersales.errors import ReturnNotFound
from shopops.aftersales.models import ReturnLine, ReturnRequest
from shopops.aftersales.rules import ReturnAction, ReturnStatus, next_status
from shopops.aftersales.service import (
    ReturnPolicy,
    _order_facts,
    check_request,
    parse_request,
)
from shopops.aftersales.service_bulk import lock_returns
from shopops.catalog import service as catalog
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.fulfillment.service.returns_bulk import ReturnParcel, create_return_shipments
from shopops.orders import service as orders
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order
from shopops.payments.service.refunds import refunded_units_outside_returns

Announced = list[tuple[str, int | str, dict[str, Any], dt.datetime | None]]


@dataclass(frozen=True, slots=True)
class Ask:
    """`request_return(customer_id=…, order_number=…, kind=…, lines=…, no_reason=…,
    reason=…)` at `at`."""

    customer_id: int
    order_number: str
    kind: str
    lines: Sequence[tuple[int, int]]
    no_reason: bool
    reason: str
    at: dt.datetime


# The asked orders with lines and discounts (as get_customer_order), locked in id order.
_LOCK_ORDERS = (
    select(Order)
    .where(Order.number.in_(bindparam("numbers", expanding=True)))
    .order_by(Order.id)
    .options(joinedload(Order.lines), selectinload(Order.discounts))
    .with_for_update(of=Order)
    .execution_options(populate_existing=True)
)
# Units per line in requests that were not rejected, for many orders (lines are unique).
_RETURNED = (
    select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
    .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
    .where(
        ReturnRequest.order_id.in_(bindparam("order_ids", expanding=True)),
        ReturnRequest.status != ReturnStatus.REJECTED,
    )
    .group_by(ReturnLine.order_line_id)
)


def _check_times(times: Sequence[dt.datetime]) -> None:
    for at in times:
        if at.tzinfo is None:
            raise ValueError("a move's time needs a timezone-aware datetime")


def request_returns(
    session: Session, *, asks: Sequence[Ask], policy: ReturnPolicy | None = None
) -> list[ReturnRequest | ShopOpsError]:
    """`request_return` of each ask in order, at its time; per ask, the new request or the
    error that refused it. A later ask of the same order sees the earlier ones' units taken."""
    _check_times([a.at for a in asks])
    if not asks:
        return []
    policy = policy or ReturnPolicy()
    session.flush()  # pending changes first: the orders are re-read under the lock
    numbers = sorted({a.order_number for a in asks})
    by_number = {o.number: o for o in session.scalars(_LOCK_ORDERS, {"numbers": numbers}).unique()}
    order_ids = sorted(o.id for o in by_number.values())
    taken: dict[int, int] = {}
    if order_ids:
        for line_id, q in session.execute(_RETURNED, {"order_ids": order_ids}):
            taken[int(line_id)] = int(q or 0)
        for line_id, q in refunded_units_outside_returns(session, order_ids=order_ids).items():
            taken[line_id] = taken.get(line_id, 0) + q
    out: list[ReturnRequest | ShopOpsError] = []
    made: list[tuple[ReturnRequest, Order]] = []
    for ask in asks:
        try:
            kind, reason, requested = parse_request(
                ask.kind, ask.lines, no_reason=ask.no_reason, reason=ask.reason
            )
            order = by_number.get(ask.order_number)
            if order is None or order.customer_id != ask.customer_id:
                raise OrderNotFound("no such order", details={"number": ask.order_number})
            check_request(order, ask.at, requested, taken, no_reason=ask.no_reason, policy=policy)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        for line_id, q in requested.items():
            taken[line_id] = taken.get(line_id, 0) + q
        request = ReturnRequest(
            order_id=order.id,
            customer_id=ask.customer_id,
            kind=kind.value,
            status=ReturnStatus.REQUESTED,
            no_reason=ask.no_reason,
            reason=reason,
            reject_reason="",
            requested_at=ask.at,
            lines=[
                ReturnLine(order_line_id=lid, quantity=q) for lid, q in sorted(requested.items())
            ],
        )
        session.add(request)
        made.append((request, order))
        out.append(request)
    session.flush()  # every request and line in one flush: the events carry their ids
    announced: Announced = []
    for request, order in made:
        number, skus = _order_facts(order)
        payload = events.return_payload(request, order_number=number, sku_by_line=skus)
        announced.append((events.AGGREGATE, request.id, payload, request.requested_at))
    emit_many(session, events.RETURN_REQUESTED, announced)
    return out


@dataclass(frozen=True, slots=True)
class Shipped:
    """`ship_return(customer_id=…, return_id=…, carrier_code=…)` at `at` (a drawn number)."""

    return_id: int
    customer_id: int
    carrier_code: str
    at: dt.datetime


def ship_returns(
    session: Session, *, items: Sequence[Shipped]
) -> list[ReturnRequest | ShopOpsError]:
    """`ship_return` of each item in order, at its time; per item, the request (now in
    transit, with its return parcel) or the error that refused it."""
    _check_times([item.at for item in items])
    if not items:
        return []
    ids = [item.return_id for item in items]
    if len(set(ids)) < len(ids):
        # A request named again goes in a later round, on what the first one left.
        cut = next(k for k, rid in enumerate(ids) if rid in ids[:k])
        return ship_returns(session, items=items[:cut]) + ship_returns(session, items=items[cut:])
    session.flush()  # pending changes first: the requests are re-read under the lock
    found = lock_returns(session, ids)
    out: list[ReturnRequest | ShopOpsError | None] = []
    accepted: list[tuple[int, ReturnRequest]] = []
    for item in items:
        request = found.get(item.return_id)
        try:
            if request is None or request.customer_id != item.customer_id:
                raise ReturnNotFound(
                    f"no return request {item.return_id}",
                    details={"return_id": item.return_id},
                )
            next_status(request.status, ReturnAction.SHIP, kind=request.kind)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        accepted.append((len(out), request))
        out.append(None)
    if accepted:
        _ship(session, items, accepted, out)
    return out  # type: ignore[return-value]  # every None was filled


def _ship(
    session: Session,
    items: Sequence[Shipped],
    accepted: list[tuple[int, ReturnRequest]],
    out: list[ReturnRequest | ShopOpsError | None],
) -> None:
    line_ids = [line.order_line_id for _, r in accepted for line in r.lines]
    sku_by_line = orders.line_skus(session, line_ids=line_ids)
    skus = catalog.get_sellable_skus(session, sku_ids=sorted(set(sku_by_line.values())))
    parcels = []
    for k, request in accepted:
        # Only the returned lines weigh: their SKUs are all the parcel needs.
        weight = sum(
            skus[sku_by_line[line.order_line_id]].weight_grams * line.quantity
            for line in request.lines
            if sku_by_line[line.order_line_id] in skus
        )
        parcels.append(ReturnParcel(request.order_id, items[k].carrier_code, weight, items[k].at))
    shipments = create_return_shipments(session, parcels=parcels)
    for (k, request), shipment in zip(accepted, shipments, strict=True):
        if isinstance(shipment, ShopOpsError):
            out[k] = shipment
            continue
        request.reverse_shipment_id = shipment.id
        request.status = ReturnStatus.IN_TRANSIT.value
        out[k] = request
    session.flush()
