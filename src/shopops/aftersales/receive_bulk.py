"""Receiving returns in bulk: `receive_returns` of many requests in one set of statements.

It follows `service.receive_return` on each (return id, at) in order at that time: in_transit
→ received → refunded (every unit back on hand, the units' paid amounts refunded) or →
exchanged, with the same rows and events. The requests are read and locked in one query, their
orders (a return's, for the refund) in one; every line's restock is checked and its warehouse
picked in one pass (`inventory.return_targets`), every refund planned in one
(`payments.plan_refunds`) — a refused item is refused there, before anything is written — then
the stock goes back in one `restock_many`, the refunds in one `write_refunds` (its
`refund.succeeded` subscribers set-based) and the moves are announced with one `emit_many`
per event name. Items of an order already in the batch go in a later round, on what the
earlier ones left, as they would one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from shopops.aftersales import events
from shopops.aftersales.errors import ReturnNotFound
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.rules import ReturnAction, ReturnKind, ReturnStatus, next_status
from shopops.aftersales.service_bulk import lock_returns, order_facts
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.inventory.service.restock_bulk import Restock, restock_many, return_targets
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order
from shopops.payments.errors import NothingToRefund
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.rules import merge_units
from shopops.payments.service.refunds_bulk import (
    PlannedRefund,
    RefundItem,
    plan_refunds,
    write_refunds,
)

Item = tuple[int, dt.datetime]  # (return id, when)
Announced = list[tuple[str, int | str, dict[str, Any], dt.datetime | None]]
RESTOCK_REF = "return"  # as service.RESTOCK_REF

# The returns' orders with lines and discounts (as get_order(details=True)), locked in id
# order and re-read under the lock; built once, bound ids.
_LOCK_ORDERS = (
    select(Order)
    .where(Order.id.in_(bindparam("order_ids", expanding=True)))
    .order_by(Order.id)
    .options(joinedload(Order.lines), selectinload(Order.discounts))
    .with_for_update(of=Order)
    .execution_options(populate_existing=True)
)


def _rounds(items: Sequence[Item], found: dict[int, ReturnRequest]) -> list[list[Item]]:
    """The items cut where an order (or request) comes back: each round holds an order once."""
    rounds: list[list[Item]] = [[]]
    seen: set[int] = set()
    for return_id, at in items:
        request = found.get(return_id)
        if request is not None and request.order_id in seen:
            rounds.append([])
            seen = set()
        if request is not None:
            seen.add(request.order_id)
        rounds[-1].append((return_id, at))
    return rounds


def receive_returns(
    session: Session, *, items: Sequence[Item], gateway: SimulatedGateway | None = None
) -> list[ReturnRequest | ShopOpsError]:
    """`receive_return` of each (return id, at) in order, at that time; per item, the request
    or the error that refused it (404 `return_not_found`, 409 `illegal_transition`, a restock's
    or refund's refusal), which wrote nothing. The caller's clock is left as it was."""
    for _, at in items:
        if at.tzinfo is None:
            raise ValueError("a move's time needs a timezone-aware datetime")
    if not items:
        return []
    session.flush()  # pending changes first: the requests are re-read under the lock
    found = lock_returns(session, [return_id for return_id, _ in items])
    order_ids = sorted({r.order_id for r in found.values() if r.kind == ReturnKind.RETURN})
    loaded: dict[int, Order] = {}
    if order_ids:
        rows = session.scalars(_LOCK_ORDERS, {"order_ids": order_ids}).unique()
        loaded = {o.id: o for o in rows}
    out: list[ReturnRequest | ShopOpsError] = []
    for batch in _rounds(items, found):
        out.extend(_receive_round(session, batch, found, loaded, gateway))
    return out


def _receive_round(
    session: Session,
    items: list[Item],
    found: dict[int, ReturnRequest],
    loaded: dict[int, Order],
    gateway: SimulatedGateway | None,
) -> list[ReturnRequest | ShopOpsError]:
    results: list[ReturnRequest | ShopOpsError | None] = []
    moves: dict[int, tuple[ReturnStatus, ReturnStatus]] = {}  # item index → (received, final)
    for k, (return_id, _at) in enumerate(items):
        request = found.get(return_id)
        if request is None:
            results.append(
                ReturnNotFound(f"no return request {return_id}", details={"return_id": return_id})
            )
            continue
        try:
            received = next_status(request.status, ReturnAction.RECEIVE, kind=request.kind)
            finish = (
                ReturnAction.REFUND if request.kind == ReturnKind.RETURN else ReturnAction.EXCHANGE
            )
            final = next_status(received, finish, kind=request.kind)
            if request.kind == ReturnKind.RETURN and request.order_id not in loaded:
                raise OrderNotFound("no such order", details={"order_id": request.order_id})
        except ShopOpsError as exc:
            results.append(exc)
            continue
        moves[k] = (received, final)
        results.append(None)
    returns = [k for k in moves if found[items[k][0]].kind == ReturnKind.RETURN]
    # Every returned line's restock checked (and its warehouse picked) before any write.
    restocks: dict[int, list[Restock]] = {}
    for k in returns:
        request = found[items[k][0]]
        skus = {line.id: line.sku_id for line in loaded[request.order_id].lines}
        restocks[k] = [
            Restock(
                skus[line.order_line_id], line.quantity, RESTOCK_REF, str(request.id), items[k][1]
            )
            for line in request.lines
        ]
    flat = [(k, line) for k in returns for line in restocks[k]]
    targets = return_targets(session, [line for _, line in flat])
    placed: dict[int, list[tuple[Restock, int]]] = {k: [] for k in returns}
    for (k, line), target in zip(flat, targets, strict=True):
        if k not in moves:
            continue
        if isinstance(target, ShopOpsError):
            results[k] = target  # the first refused line speaks, as restock would raise
            del moves[k]
            continue
        placed[k].append((line, target))
    returns = [k for k in returns if k in moves]
    refund_items = []
    for k in returns:
        request = found[items[k][0]]
        units = merge_units([(line.order_line_id, line.quantity) for line in request.lines])
        refund_items.append(
            RefundItem(
                loaded[request.order_id], units, f"return #{request.id}", request.id, items[k][1]
            )
        )
    planned: dict[int, PlannedRefund | None] = {}
    for k, plan in zip(returns, plan_refunds(session, refund_items), strict=True):
        if isinstance(plan, NothingToRefund):
            planned[k] = None  # the units' money already went back: the goods still came home
        elif isinstance(plan, ShopOpsError):
            results[k] = plan
            del moves[k]
        else:
            planned[k] = plan
    return _write(session, items, found, loaded, moves, placed, planned, results, gateway)


def _write(
    session: Session,
    items: list[Item],
    found: dict[int, ReturnRequest],
    loaded: dict[int, Order],
    moves: dict[int, tuple[ReturnStatus, ReturnStatus]],
    placed: dict[int, list[tuple[Restock, int]]],
    planned: dict[int, PlannedRefund | None],
    results: list[ReturnRequest | ShopOpsError | None],
    gateway: SimulatedGateway | None,
) -> list[ReturnRequest | ShopOpsError]:
    """The accepted items' writes, in item order inside each kind of write."""
    exchanges = [found[items[k][0]] for k in moves if k not in planned]
    facts = order_facts(session, exchanges) if exchanges else {}
    for order in {found[items[k][0]].order_id for k in planned}:
        o = loaded[order]
        facts[order] = (o.number, {line.id: line.sku_id for line in o.lines})
    received: Announced = []
    for k, (status, _final) in sorted(moves.items()):
        request, at = found[items[k][0]], items[k][1]
        request.status = status.value
        request.received_at = at
        number, skus = facts[request.order_id]
        payload = events.return_payload(request, order_number=number, sku_by_line=skus)
        received.append((events.AGGREGATE, request.id, payload, at))
    restock_many(session, [pair for k in sorted(placed) if k in moves for pair in placed[k]])
    to_write = [(k, p) for k, p in sorted(planned.items()) if p is not None]
    refunds = dict(
        zip(
            [k for k, _ in to_write],
            write_refunds(session, [p for _, p in to_write], gateway),
            strict=True,
        )
    )
    refunded: Announced = []
    exchanged: Announced = []
    for k, (_status, final) in sorted(moves.items()):
        request, at = found[items[k][0]], items[k][1]
        request.status = final.value
        number, skus = facts[request.order_id]
        if final is ReturnStatus.EXCHANGED:
            payload = events.return_payload(request, order_number=number, sku_by_line=skus)
            exchanged.append((events.AGGREGATE, request.id, payload, at))
            continue
        extra: dict[str, Any] = {"refund_id": None, "amount": 0, "refund_lines": []}
        refund = refunds.get(k)
        if refund is not None:
            request.refund_id = refund.id
            extra = {
                "refund_id": refund.id,
                "amount": refund.amount,
                "refund_lines": [
                    {"order_line_id": p.order_line_id, "quantity": p.quantity, "amount": p.amount}
                    for p in refund.lines
                ],
            }
        payload = events.return_payload(request, order_number=number, sku_by_line=skus, extra=extra)
        refunded.append((events.AGGREGATE, request.id, payload, at))
        results[k] = request
    for k in moves:
        results[k] = found[items[k][0]]
    session.flush()
    emit_many(session, events.RETURN_RECEIVED, received)
    emit_many(session, events.RETURN_REFUNDED, refunded)
    emit_many(session, events.RETURN_EXCHANGED, exchanged)
    return [r for r in results if r is not None]
