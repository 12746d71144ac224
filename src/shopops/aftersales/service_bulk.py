"""After-sales moves in bulk: many return requests approved in one set of statements.

`approve_returns` follows `service.approve_return` exactly (the same transition check, status,
decision time and `return.approved` event at the item's own time), but the batch's requests
are read and locked in one query, their orders' numbers and line SKUs in two, the moves
written in one flush and announced with one `emit_many`. A refused item is checked before
anything is written, so it leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from shopops.aftersales import events
from shopops.aftersales.errors import ReturnNotFound
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.rules import ReturnAction, next_status
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.orders import service as orders

Item = tuple[int, dt.datetime]  # (return id, when)


def _check_times(items: Sequence[Item]) -> None:
    for _, at in items:
        if at.tzinfo is None:
            raise ValueError("a move's time needs a timezone-aware datetime")


# Built once with bound ids: building and keying the statement per batch cost more than its SQL.
_LOCK_RETURNS = (
    select(ReturnRequest)
    .where(ReturnRequest.id.in_(bindparam("ids", expanding=True)))
    .order_by(ReturnRequest.id)
    .options(selectinload(ReturnRequest.lines))
    .with_for_update(of=ReturnRequest)
    .execution_options(populate_existing=True)
)


def lock_returns(session: Session, return_ids: Sequence[int]) -> dict[int, ReturnRequest]:
    """These requests with their lines, locked in id order (two batches cannot deadlock) and
    re-read even if this session loaded them before; unknown ids are absent."""
    ids = sorted(set(return_ids))
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(_LOCK_RETURNS, {"ids": ids})}


def order_facts(
    session: Session, requests: Sequence[ReturnRequest]
) -> dict[int, tuple[str, dict[int, int]]]:
    """Order id → (number, line id → SKU) for the events of these requests, in two queries."""
    numbers = orders.order_numbers(session, order_ids=[r.order_id for r in requests])
    line_ids = [line.order_line_id for r in requests for line in r.lines]
    skus = orders.line_skus(session, line_ids=line_ids)
    return {order_id: (number, skus) for order_id, number in numbers.items()}


def approve_returns(
    session: Session, *, items: Sequence[Item]
) -> list[ReturnRequest | ShopOpsError]:
    """`approve_return` (requested → approved) of each (return id, at) in order, at that
    time; per item, the request or the error that refused it (404 `return_not_found`, 409
    `illegal_transition`). A request named twice is refused the second time, as it would be."""
    _check_times(items)
    session.flush()  # pending changes first: the requests are re-read under the lock
    found = lock_returns(session, [return_id for return_id, _ in items])
    facts = order_facts(session, list(found.values()))
    out: list[ReturnRequest | ShopOpsError] = []
    announced: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    for return_id, at in items:
        request = found.get(return_id)
        if request is None:
            out.append(
                ReturnNotFound(f"no return request {return_id}", details={"return_id": return_id})
            )
            continue
        try:
            target = next_status(request.status, ReturnAction.APPROVE, kind=request.kind)
        except ShopOpsError as exc:
            out.append(exc)
            continue
        request.status = target.value
        request.decided_at = at
        number, sku_by_line = facts[request.order_id]
        payload = events.return_payload(request, order_number=number, sku_by_line=sku_by_line)
        announced.append((events.AGGREGATE, request.id, payload, at))
        out.append(request)
    session.flush()
    emit_many(session, events.RETURN_APPROVED, announced)
    return out
