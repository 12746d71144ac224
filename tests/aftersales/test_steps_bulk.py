"""request_returns and ship_returns: the same rows and events as request_return and
ship_return on each item in order, at its moment; refusals alone and writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.aftersales import service as aftersales
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.steps_bulk import Ask, Shipped, request_returns, ship_returns
from shopops.db import now, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.fulfillment import service as fulfillment
from shopops.fulfillment.models import Shipment
from shopops.payments import service as payments

T0 = dt.datetime(2026, 6, 5, 2, 0, tzinfo=dt.UTC)
TABLES = ("return_request", "return_line", "sales_order", "shipment", "tracking_event")
HOURS = [T0 + dt.timedelta(hours=h) for h in range(1, 12)]


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(days=2))
    fulfillment.ensure_default_carriers(s)
    two = f.delivered_order(s, quantity=2, skus=2)
    three = f.delivered_order(s, quantity=3)
    partly = f.delivered_order(s, price=4000, quantity=2)
    payments.refund_order(s, order_id=partly.id, lines=[(partly.lines[0].id, 1)])
    unpaid = f.placed_order(s)
    old = f.delivered_order(s)
    set_clock(s, T0 - dt.timedelta(days=12))
    old_delivered = f.delivered_order(s)
    set_clock(s, T0 - dt.timedelta(days=1))
    approved = []
    for order in (two, three):
        request = aftersales.request_return(
            s,
            customer_id=order.customer_id,
            order_number=order.number,
            kind="return",
            lines=[(order.lines[0].id, 1)],
        )
        aftersales.approve_return(s, return_id=request.id)
        approved.append(request.id)
    waiting = aftersales.request_return(
        s,
        customer_id=old.customer_id,
        order_number=old.number,
        kind="exchange",
        lines=[(old.lines[0].id, 1)],
    )
    orders = {"two": two, "three": three, "partly": partly, "unpaid": unpaid, "late": old_delivered}
    return {
        "orders": {
            k: (o.id, o.customer_id, o.number, [x.id for x in o.lines]) for k, o in orders.items()
        },
        "approved": approved,
        "waiting": (waiting.id, old.customer_id),
        "customers": {k: o.customer_id for k, o in (("two", two), ("three", three))},
    }


def _asks(built: dict[str, Any]) -> list[Ask]:
    o = built["orders"]

    def ask(name: str, lines: list[tuple[int, int]], at: int, **kw: Any) -> Ask:
        _, customer, number, _ = o[name]
        return Ask(
            kw.pop("customer", customer), number, kw.pop("kind", "return"), lines,
            kw.pop("no_reason", True), kw.pop("reason", ""), HOURS[at],
        )  # fmt: skip

    two, three, partly = o["two"][3], o["three"][3], o["partly"][3]
    return [
        ask("three", [(three[0], 1)], 0),  # one more of the line already asked for
        ask("three", [(three[0], 2)], 1),  # only one is left after the ask before
        ask("two", [(two[0], 1), (two[1], 2)], 2, kind="exchange"),
        ask("partly", [(partly[0], 1)], 3, no_reason=False, reason="屏幕坏了"),
        ask("partly", [(partly[0], 1)], 4),  # one refunded, one asked: none left
        ask("unpaid", [(o["unpaid"][3][0], 1)], 5),  # never delivered
        ask("late", [(o["late"][3][0], 1)], 6),  # outside the 7-day window
        ask("late", [(o["late"][3][0], 1)], 7, no_reason=False, reason="质量问题"),
        ask("two", [(two[1], 1)], 8, customer=o["three"][1]),  # someone else's order
        ask("two", [], 9),  # nothing named
        ask("two", [(two[1], 1)], 10, kind="swap"),
    ]


def _outcome(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ShopOpsError) else r.status for r in results]


def test_request_returns_equals_request_return_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    asks = _asks(built)
    single: list[Any] = []
    with session_scope(a) as s:
        for x in asks:
            set_clock(s, x.at)
            try:
                with s.begin_nested():
                    single.append(
                        aftersales.request_return(
                            s,
                            customer_id=x.customer_id,
                            order_number=x.order_number,
                            kind=x.kind,
                            lines=x.lines,
                            no_reason=x.no_reason,
                            reason=x.reason,
                        )
                    )
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = request_returns(s, asks=asks)
        assert now(s) == T0
        bulk_codes = _outcome(bulk)
    assert bulk_codes == single_codes
    assert bulk_codes.count("requested") == 4 and "return_quantity_exceeded" in bulk_codes
    assert {"order_not_returnable", "return_window_closed", "order_not_found"} <= set(bulk_codes)
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    for table in (*TABLES, "outbox_event"):
        assert sa[table] == sb[table], table


def _shipped(built: dict[str, Any]) -> list[Shipped]:
    first, second = built["approved"]
    c = built["customers"]
    waiting, waiting_customer = built["waiting"]
    return [
        Shipped(second, c["three"], "sf", HOURS[0]),
        Shipped(first, c["three"], "sf", HOURS[1]),  # someone else's request: 404
        Shipped(waiting, waiting_customer, "sf", HOURS[2]),  # not approved
        Shipped(first, c["two"], "nope", HOURS[3]),  # no such carrier: stays approved
        Shipped(first, c["two"], "jd", HOURS[4]),
        Shipped(second, c["three"], "sf", HOURS[5]),  # in transit already
        Shipped(10**6, c["two"], "sf", HOURS[6]),
    ]


def test_ship_returns_equals_ship_return_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _shipped(built)
    single: list[Any] = []
    with session_scope(a) as s:
        for x in items:
            set_clock(s, x.at)
            try:
                with s.begin_nested():
                    single.append(
                        aftersales.ship_return(
                            s,
                            customer_id=x.customer_id,
                            return_id=x.return_id,
                            carrier_code=x.carrier_code,
                        )
                    )
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = ship_returns(s, items=items)
        assert now(s) == T0
        bulk_codes = _outcome(bulk)
    assert (
        bulk_codes
        == single_codes
        == [
            "in_transit",
            "return_not_found",
            "illegal_transition",
            "unknown_carrier",
            "in_transit",
            "illegal_transition",
            "return_not_found",
        ]
    )
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    for table in (*TABLES, "outbox_event"):
        assert sa[table] == sb[table], table


def test_refused_items_write_nothing(session):
    set_clock(session, T0)
    fulfillment.ensure_default_carriers(session)
    order = f.delivered_order(session)
    results = request_returns(
        session,
        asks=[
            Ask(order.customer_id, order.number, "return", [(order.lines[0].id, 5)], True, "", T0)
        ],
    )
    assert _outcome(results) == ["return_quantity_exceeded"]
    assert session.scalar(select(func.count()).select_from(ReturnRequest)) == 0
    shipments = session.scalar(select(func.count()).select_from(Shipment))
    assert _outcome(ship_returns(session, items=[Shipped(1, order.customer_id, "sf", T0)])) == [
        "return_not_found"
    ]
    assert session.scalar(select(func.count()).select_from(Shipment)) == shipments
    assert request_returns(session, asks=[]) == [] and ship_returns(session, items=[]) == []


def test_naive_times_are_refused(session):
    with pytest.raises(ValueError):
        ship_returns(session, items=[Shipped(1, 1, "sf", dt.datetime(2026, 6, 3))])
