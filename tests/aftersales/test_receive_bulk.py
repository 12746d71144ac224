"""receive_returns: the same rows and events as receive_return on each item in order, at its
moment (restock, refund, points reversal included); refusals alone and writing nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.aftersales import service as aftersales
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.receive_bulk import receive_returns
from shopops.db import now, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.fulfillment import service as fulfillment
from shopops.members.models import PointsKind
from shopops.members.service.points import post_entry
from shopops.payments import service as payments
from shopops.payments.gateway import RefundResult

T0 = dt.datetime(2026, 6, 5, 2, 0, tzinfo=dt.UTC)
TABLES = (
    "return_request",
    "return_line",
    "sales_order",
    "order_line",
    "refund",
    "refund_line",
    "stock_level",
    "stock_movement",
    "points_entry",
    "customer",
)


class CountingGateway:
    """Refund ids by count, so both stores' refunds match (the simulated one draws uuids)."""

    def __init__(self, prefix: str = "rf") -> None:
        self.prefix = prefix
        self.n = itertools.count(1)

    def refund(self, *, gateway_txn_id: str, amount: int) -> RefundResult:
        return RefundResult(gateway_refund_id=f"{self.prefix}{next(self.n)}", succeeded=True)


def _in_transit(s: Session, order: Any, lines: list[tuple[int, int]], kind: str = "return") -> int:
    request = aftersales.request_return(
        s, customer_id=order.customer_id, order_number=order.number, kind=kind, lines=lines
    )
    aftersales.approve_return(s, return_id=request.id)
    aftersales.ship_return(
        s, customer_id=order.customer_id, return_id=request.id, carrier_code="sf"
    )
    return request.id


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(days=3))
    fulfillment.ensure_default_carriers(s)
    shopper = f.customer(s)
    whole = f.delivered_order(s, cust=shopper, price=3333, quantity=2, skus=2)
    twice = f.delivered_order(s, cust=shopper, price=1999, quantity=3)
    swap = f.delivered_order(s, quantity=1)
    waiting = f.delivered_order(s, quantity=1)
    goodwill = f.delivered_order(s, price=5000, quantity=1)
    set_clock(s, T0 - dt.timedelta(days=2))
    ids = {
        "whole": _in_transit(s, whole, [(line.id, 2) for line in whole.lines]),
        "twice1": _in_transit(s, twice, [(twice.lines[0].id, 1)]),
        "twice2": _in_transit(s, twice, [(twice.lines[0].id, 2)]),
        "swap": _in_transit(s, swap, [(swap.lines[0].id, 1)], kind="exchange"),
        "goodwill": _in_transit(s, goodwill, [(goodwill.lines[0].id, 1)]),
    }
    # The shopper spends most points: the later reversals find them already spent.
    s.refresh(shopper)
    post_entry(
        s, customer_id=shopper.id, kind=PointsKind.ADJUST, amount=-(shopper.points_balance - 5),
        ref="spent", reason="spent elsewhere",
    )  # fmt: skip
    # Its money already went back: received, restocked, nothing refunded.
    payments.refund_order(s, order_id=goodwill.id, amount=5000, gateway=CountingGateway("goodwill"))
    ids["waiting"] = aftersales.request_return(
        s,
        customer_id=waiting.customer_id,
        order_number=waiting.number,
        kind="return",
        lines=[(waiting.lines[0].id, 1)],
    ).id
    return ids


def _items(ids: dict[str, int]) -> list[tuple[int, dt.datetime]]:
    hours = [T0 + dt.timedelta(hours=h) for h in range(1, 9)]
    return [
        (ids["twice1"], hours[0]),
        (ids["waiting"], hours[1]),  # not shipped back: refused
        (ids["whole"], hours[2]),
        (10**6, hours[3]),  # no such request
        (ids["twice2"], hours[4]),  # the same order again: on what the first left
        (ids["swap"], hours[5]),  # an exchange
        (ids["whole"], hours[6]),  # received just before: refused
        (ids["goodwill"], hours[7]),
    ]


def _outcome(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ShopOpsError) else r.status for r in results]


def test_receive_returns_equals_receive_return_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built)
    single: list[Any] = []
    with session_scope(a) as s:
        gateway = CountingGateway()
        for return_id, at in items:
            set_clock(s, at)
            try:
                with s.begin_nested():
                    single.append(
                        aftersales.receive_return(s, return_id=return_id, gateway=gateway)  # type: ignore[arg-type]
                    )
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = receive_returns(s, items=items, gateway=CountingGateway())  # type: ignore[arg-type]
        assert now(s) == T0  # the caller's clock is left as it was
        bulk_codes = _outcome(bulk)
    assert (
        bulk_codes
        == single_codes
        == [
            "refunded",
            "illegal_transition",
            "refunded",
            "return_not_found",
            "refunded",
            "exchanged",
            "illegal_transition",
            "refunded",
        ]
    )
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    for table in (*TABLES, "outbox_event"):
        assert sa[table] == sb[table], table
    names = [e[0] for e in sb["outbox_event"]]
    assert names.count("return.refunded") == 4 and names.count("return.exchanged") == 1
    reversals = [e[3] for e in sb["outbox_event"] if e[0] == "points.reversed"]
    assert any("already spent" in r for r in reversals), reversals


def test_a_refused_refund_writes_nothing(session):
    set_clock(session, T0 - dt.timedelta(days=3))
    fulfillment.ensure_default_carriers(session)
    order = f.delivered_order(session, quantity=1)
    return_id = _in_transit(session, order, [(order.lines[0].id, 1)])
    order.status = "cancelled"  # nothing paid to refund now: the whole receipt is refused
    session.flush()
    before = f.stock_levels(session)
    results = receive_returns(session, items=[(return_id, T0)], gateway=CountingGateway())  # type: ignore[arg-type]
    assert _outcome(results) == ["order_not_refundable"]
    assert f.stock_levels(session) == before
    session.expire_all()
    row = session.execute(select(ReturnRequest.status).where(ReturnRequest.id == return_id))
    assert row.scalar_one() == "in_transit"
    assert receive_returns(session, items=[]) == []


def test_naive_times_are_refused(session):
    with pytest.raises(ValueError):
        receive_returns(session, items=[(1, dt.datetime(2026, 6, 3))])
