"""Use cases of after-sales: return and exchange requests, from the shopper's request to the
refund (or the replacement).

requested → approved / rejected (staff) → in_transit (the shopper ships it back) → received
(staff) → refunded (a return: each unit goes back on hand and the money back to the payer) or
exchanged (an exchange: a replacement of the same SKU goes out, so stock does not move — the
received unit takes its place; replacements of another SKU are not modelled).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from shopops.aftersales import events, rules
from shopops.aftersales.errors import OrderNotReturnable, ReturnNotFound
from shopops.aftersales.models import ReturnLine, ReturnRequest
from shopops.aftersales.rules import ReturnAction, ReturnKind, ReturnStatus
from shopops.catalog import service as catalog
from shopops.config import Settings
from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.fulfillment import service as fulfillment
from shopops.inventory import service as inventory
from shopops.orders import service as orders
from shopops.orders.models import Order
from shopops.orders.rules import OrderStatus
from shopops.payments import service as payments
from shopops.payments.errors import NothingToRefund
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.rules import merge_units
from shopops.payments.service.refunds import refund_loaded_order

A = ReturnAction
# Goods can come back once they arrived; a partly refunded order keeps its other lines.
RETURNABLE_ORDER_STATUSES = frozenset(
    {OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED}
)
RESTOCK_REF = "return"
MAX_REASON = 200
MAX_PAGE = 500


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    """The settings returns obey; the API builds it from the app's settings."""

    return_window_days: int = _default("return_window_days")
    quality_return_window_days: int = _default("quality_return_window_days")
    timezone: str = _default("timezone")

    @classmethod
    def from_settings(cls, settings: Settings) -> ReturnPolicy:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


# ---------------------------------------------------------------------------------------------
# Reads


# The lines come in the same query (a request has one to a few); built once, bound id.
_GET_RETURN = (
    select(ReturnRequest)
    .where(ReturnRequest.id == bindparam("return_id"))
    .options(joinedload(ReturnRequest.lines))
)
_LOCK_RETURN = _GET_RETURN.with_for_update(of=ReturnRequest).execution_options(
    populate_existing=True
)


def get_return(session: Session, *, return_id: int, for_update: bool = False) -> ReturnRequest:
    """The request with its lines (locked with `for_update`); 404 `return_not_found`."""
    stmt = _LOCK_RETURN if for_update else _GET_RETURN
    found = session.scalars(stmt, {"return_id": return_id}).unique().one_or_none()
    if found is None:
        raise ReturnNotFound(f"no return request {return_id}", details={"return_id": return_id})
    return found


def list_returns(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    order_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ReturnRequest]:
    """Requests with their lines; the staff queue is oldest first, a shopper's newest first."""
    stmt = select(ReturnRequest).options(selectinload(ReturnRequest.lines))
    if customer_id is not None:
        stmt = stmt.where(ReturnRequest.customer_id == customer_id)
    if status is not None:
        if status not in set(ReturnStatus):
            raise InvalidInput(
                f"unknown status {status!r}",
                details={"status": status, "allowed": [x.value for x in ReturnStatus]},
            )
        stmt = stmt.where(ReturnRequest.status == status)
    if order_id is not None:
        stmt = stmt.where(ReturnRequest.order_id == order_id)
    if customer_id is None:
        stmt = stmt.order_by(ReturnRequest.requested_at, ReturnRequest.id)
    else:
        stmt = stmt.order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc())
    page = stmt.limit(min(max(limit, 1), MAX_PAGE)).offset(max(offset, 0))
    return list(session.scalars(page))


def count_returns(session: Session) -> dict[str, int]:
    """How many requests are in each status (every status present, 0 when none)."""
    counts = dict.fromkeys((x.value for x in ReturnStatus), 0)
    stmt = select(ReturnRequest.status, func.count()).group_by(ReturnRequest.status)
    for status, n in session.execute(stmt):
        counts[status] = int(n)
    return counts


def returned_lines(session: Session, *, order_ids: Sequence[int]) -> list[tuple[int, bool]]:
    """(order line id, no-reason return?) of every line of these orders in a return that was
    not rejected: one read for many orders (reviews and reports ask it in batches)."""
    if not order_ids:
        return []
    stmt = (
        select(ReturnLine.order_line_id, ReturnRequest.no_reason)
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(ReturnRequest.order_id.in_(sorted(set(order_ids))))
        .where(ReturnRequest.status != ReturnStatus.REJECTED)
        .order_by(ReturnLine.id)
    )
    return [(line_id, bool(no_reason)) for line_id, no_reason in session.execute(stmt)]


def _returned_units(session: Session, *, order_id: int) -> dict[int, int]:
    """Units of each line in this order's requests that were not rejected."""
    stmt = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .where(
            ReturnRequest.order_id == order_id,
            ReturnRequest.status != ReturnStatus.REJECTED,
        )
        .group_by(ReturnLine.order_line_id)
    )
    return {int(line_id): int(q or 0) for line_id, q in session.execute(stmt)}


# ---------------------------------------------------------------------------------------------
# Moves


def _emit(
    session: Session,
    name: str,
    request: ReturnRequest,
    facts: tuple[str, Mapping[int, int]],
    extra: Mapping[str, Any] | None = None,
) -> None:
    number, sku_by_line = facts
    emit(
        session,
        name,
        aggregate_type=events.AGGREGATE,
        aggregate_id=request.id,
        payload=events.return_payload(
            request, order_number=number, sku_by_line=sku_by_line, extra=extra
        ),
    )


def _order_facts(order: Order) -> tuple[str, dict[int, int]]:
    """What a return's events say of its order: the number and each line's SKU."""
    return order.number, {line.id: line.sku_id for line in order.lines}


def _facts(session: Session, request: ReturnRequest) -> tuple[str, dict[int, int]]:
    """`_order_facts` read lightly (two small queries, no order loaded): the payload names
    only the request's lines, so their SKUs are all it needs."""
    numbers = orders.order_numbers(session, order_ids=[request.order_id])
    number = numbers.get(request.order_id)
    if number is None:  # as get_order would: the order must exist
        return _order_facts(orders.get_order(session, order_id=request.order_id, details=True))
    line_ids = [line.order_line_id for line in request.lines]
    return number, orders.line_skus(session, line_ids=line_ids)


def parse_request(
    kind: str, lines: Sequence[tuple[int, int]], *, no_reason: bool, reason: str
) -> tuple[ReturnKind, str, dict[int, int]]:
    """A request's kind, stripped reason and units per line, checked (422 `invalid_input`)."""
    try:
        parsed_kind = ReturnKind(kind)
    except ValueError as exc:
        raise InvalidInput(
            f"unknown kind {kind!r}",
            details={"kind": kind, "allowed": [k.value for k in ReturnKind]},
        ) from exc
    reason = reason.strip()
    if len(reason) > MAX_REASON or (not no_reason and not reason):
        raise InvalidInput(
            f"a return for a problem says what it is (1 to {MAX_REASON} characters)",
            details={"reason": reason[:MAX_REASON], "no_reason": no_reason},
        )
    requested: dict[int, int] = {}
    for line_id, quantity in lines:
        if quantity <= 0:
            raise InvalidInput(
                "return quantities are positive",
                details={"order_line_id": line_id, "quantity": quantity},
            )
        requested[line_id] = requested.get(line_id, 0) + quantity
    if not requested:
        raise InvalidInput("name at least one line to return", details={"lines": []})
    return parsed_kind, reason, requested


def check_request(
    order: Order,
    at: dt.datetime,
    requested: Mapping[int, int],
    taken: Mapping[int, int],
    *,
    no_reason: bool,
    policy: ReturnPolicy,
) -> None:
    """The order may take this request at `at`: delivered, inside its window, enough units
    left (`taken`: already in returns or refunded without one)."""
    if order.delivered_at is None or order.status not in RETURNABLE_ORDER_STATUSES:
        raise OrderNotReturnable(
            f"order {order.number} is {order.status}: only delivered orders can be returned",
            details={"order_id": order.id, "status": order.status},
        )
    rules.check_return_window(
        order.delivered_at,
        at,
        no_reason=no_reason,
        return_window_days=policy.return_window_days,
        quality_window_days=policy.quality_return_window_days,
        timezone=policy.timezone,
    )
    rules.check_return_quantities(
        requested, bought={line.id: line.quantity for line in order.lines}, taken=taken
    )


def request_return(
    session: Session,
    *,
    customer_id: int,
    order_number: str,
    kind: str,
    lines: Sequence[tuple[int, int]],
    no_reason: bool = True,
    reason: str = "",
    policy: ReturnPolicy | None = None,
) -> ReturnRequest:
    """A shopper asks to return or exchange `(order_line_id, quantity)` of their own order.

    The order must have been delivered (409 `order_not_returnable`); a no-reason return must
    come within the 7-day window, a quality return within the longer one (409
    `return_window_closed`, with the deadline); at most bought − already returned or refunded
    units per line (422 `return_quantity_exceeded`). Emits `return.requested`.
    """
    policy = policy or ReturnPolicy()
    parsed_kind, reason, requested = parse_request(kind, lines, no_reason=no_reason, reason=reason)
    # Lock the order: two requests at once must not both take the last returnable unit.
    order = orders.get_customer_order(
        session, customer_id=customer_id, number=order_number, for_update=True
    )
    at = now(session)
    taken = _returned_units(session, order_id=order.id)
    for line_id, q in payments.refunded_units(
        session, order_id=order.id, outside_returns=True
    ).items():
        taken[line_id] = taken.get(line_id, 0) + q
    check_request(order, at, requested, taken, no_reason=no_reason, policy=policy)
    request = ReturnRequest(
        order_id=order.id,
        customer_id=customer_id,
        kind=parsed_kind.value,
        status=ReturnStatus.REQUESTED,
        no_reason=no_reason,
        reason=reason,
        reject_reason="",
        requested_at=at,
        lines=[ReturnLine(order_line_id=lid, quantity=q) for lid, q in sorted(requested.items())],
    )
    session.add(request)
    session.flush()
    _emit(session, events.RETURN_REQUESTED, request, _order_facts(order))
    return request


def _move(request: ReturnRequest, action: ReturnAction) -> ReturnStatus:
    return rules.next_status(request.status, action, kind=request.kind)


def approve_return(session: Session, *, return_id: int) -> ReturnRequest:
    """requested → approved: the shopper may now ship it back. Emits `return.approved`."""
    request = get_return(session, return_id=return_id, for_update=True)
    request.status = _move(request, A.APPROVE).value
    request.decided_at = now(session)
    facts = _facts(session, request)
    session.flush()
    _emit(session, events.RETURN_APPROVED, request, facts)
    return request


def reject_return(session: Session, *, return_id: int, reason: str) -> ReturnRequest:
    """requested → rejected, saying why; its units become returnable again."""
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise InvalidInput(
            f"a rejection says why in 1 to {MAX_REASON} characters", details={"reason": reason}
        )
    request = get_return(session, return_id=return_id, for_update=True)
    request.status = _move(request, A.REJECT).value
    request.reject_reason = reason
    request.decided_at = now(session)
    facts = _facts(session, request)
    session.flush()
    _emit(session, events.RETURN_REJECTED, request, facts, {"reject_reason": reason})
    return request


def get_customer_return(session: Session, *, customer_id: int, return_id: int) -> ReturnRequest:
    """The shopper's own request; someone else's is 404 like a missing one."""
    request = get_return(session, return_id=return_id)
    if request.customer_id != customer_id:
        raise ReturnNotFound(f"no return request {return_id}", details={"return_id": return_id})
    return request


def ship_return(
    session: Session,
    *,
    customer_id: int,
    return_id: int,
    carrier_code: str,
    tracking_number: str | None = None,
) -> ReturnRequest:
    """approved → in_transit: the shopper's parcel back, as a return shipment (weighed by the
    returned units)."""
    request = get_return(session, return_id=return_id, for_update=True)
    if request.customer_id != customer_id:  # someone else's request is 404 like a missing one
        raise ReturnNotFound(f"no return request {return_id}", details={"return_id": return_id})
    target = _move(request, A.SHIP)
    # Only the returned lines weigh: their SKUs are all the parcel needs.
    sku_by_line = orders.line_skus(session, line_ids=[line.order_line_id for line in request.lines])
    skus = catalog.get_sellable_skus(session, sku_ids=sorted(set(sku_by_line.values())))
    weight = sum(
        skus[sku_by_line[line.order_line_id]].weight_grams * line.quantity
        for line in request.lines
        if sku_by_line[line.order_line_id] in skus
    )
    shipment = fulfillment.create_return_shipment(
        session,
        order_id=request.order_id,
        carrier_code=carrier_code,
        tracking_number=tracking_number,
        weight_grams=weight,
    )
    request.reverse_shipment_id = shipment.id
    request.status = target.value
    session.flush()
    return request


def receive_return(
    session: Session, *, return_id: int, gateway: SimulatedGateway | None = None
) -> ReturnRequest:
    """in_transit → received → refunded (a return: every unit back on hand, the units'
    paid amounts refunded with `return_id`) or → exchanged (an exchange: recorded only).

    Emits `return.received` and then `return.refunded` (with the refund) or `return.exchanged`.
    """
    request = get_return(session, return_id=return_id, for_update=True)
    received = _move(request, A.RECEIVE)
    finish = A.REFUND if request.kind == ReturnKind.RETURN else A.EXCHANGE
    final = rules.next_status(received, finish, kind=request.kind)
    order: Order | None = None
    if request.kind == ReturnKind.RETURN:
        # Locked and read once here for the refund too (refund_order would lock it again).
        order = orders.get_order(session, order_id=request.order_id, for_update=True, details=True)
        facts = _order_facts(order)
    else:
        facts = _facts(session, request)
    sku_by_line = facts[1]
    request.status = received.value
    request.received_at = now(session)
    if request.kind == ReturnKind.RETURN:
        # Nothing pending bears on the stock reads: the lines' writes go in the refund's flush.
        with session.no_autoflush:
            for line in request.lines:
                inventory.restock(
                    session,
                    sku_id=sku_by_line[line.order_line_id],
                    quantity=line.quantity,
                    ref_type=RESTOCK_REF,
                    ref_id=str(request.id),
                )
    else:
        session.flush()
    # A return's refund flushes next: its stock events and this one go in one INSERT.
    _emit(session, events.RETURN_RECEIVED, request, facts)
    if final is ReturnStatus.EXCHANGED or order is None:
        request.status = final.value
        session.flush()
        _emit(session, events.RETURN_EXCHANGED, request, facts)
        return request
    extra: dict[str, Any] = {"refund_id": None, "amount": 0, "refund_lines": []}
    try:
        refund = refund_loaded_order(
            session,
            order,
            units=merge_units([(line.order_line_id, line.quantity) for line in request.lines]),
            reason=f"return #{request.id}",
            return_id=request.id,
            gateway=gateway,
        )
    except NothingToRefund:
        # The units' money already went back (a goodwill refund): the goods still came home.
        refund = None
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
    request.status = final.value
    session.flush()
    _emit(session, events.RETURN_REFUNDED, request, facts, extra)
    return request
