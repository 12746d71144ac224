"""approve_returns: the same rows and events as approve_return on each item in order, at its
moment; refusals alone and writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.aftersales import service as aftersales
from shopops.aftersales.models import ReturnRequest
from shopops.aftersales.service_bulk import approve_returns
from shopops.db import now, session_scope, set_clock
from shopops.errors import ShopOpsError

T0 = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.UTC)
TABLES = ("return_request", "return_line", "sales_order")


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(days=2))
    ids: list[int] = []
    for quantity in (1, 2, 3, 1):
        order = f.delivered_order(s, quantity=quantity)
        request = aftersales.request_return(
            s,
            customer_id=order.customer_id,
            order_number=order.number,
            kind="exchange" if quantity == 3 else "return",
            lines=[(order.lines[0].id, quantity)],
        )
        ids.append(request.id)
    aftersales.reject_return(s, return_id=ids[3], reason="已拆封")
    return {"ids": ids}


def _items(ids: list[int]) -> list[tuple[int, dt.datetime]]:
    hours = [T0 + dt.timedelta(hours=h) for h in range(1, 7)]
    return [
        (ids[1], hours[0]),
        (ids[3], hours[1]),  # rejected: refused
        (10**6, hours[2]),  # no such request
        (ids[0], hours[3]),
        (ids[1], hours[4]),  # approved just before: refused
        (ids[2], hours[5]),  # an exchange is approved too
    ]


def _outcome(results: list[Any]) -> list[str]:
    return [r.code if isinstance(r, ShopOpsError) else r.status for r in results]


def test_approve_returns_equals_approve_return_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    items = _items(built["ids"])
    single: list[Any] = []
    with session_scope(a) as s:
        for return_id, at in items:
            set_clock(s, at)
            try:
                single.append(aftersales.approve_return(s, return_id=return_id))
            except ShopOpsError as exc:
                single.append(exc)
        single_codes = _outcome(single)
    with session_scope(b) as s:
        set_clock(s, T0)
        bulk = approve_returns(s, items=items)
        assert now(s) == T0  # the caller's clock is left as it was
        bulk_codes = _outcome(bulk)
    assert (
        bulk_codes
        == single_codes
        == [
            "approved",
            "illegal_transition",
            "return_not_found",
            "approved",
            "illegal_transition",
            "approved",
        ]
    )
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    assert [e[0] for e in sb["outbox_event"]].count("return.approved") == 3


def test_loaded_requests_are_fresh_and_refusals_write_nothing(session):
    set_clock(session, T0)
    order = f.delivered_order(session)
    request = aftersales.request_return(
        session,
        customer_id=order.customer_id,
        order_number=order.number,
        kind="return",
        lines=[(order.lines[0].id, 1)],
    )
    results = approve_returns(session, items=[(request.id, T0), (request.id, T0)])
    assert _outcome(results) == ["approved", "illegal_transition"]
    assert request.status == "approved" and request.decided_at == T0
    session.expire_all()
    row = session.execute(select(ReturnRequest.status).where(ReturnRequest.id == request.id))
    assert row.scalar_one() == "approved"
    assert approve_returns(session, items=[]) == []


def test_naive_times_are_refused(session):
    with pytest.raises(ValueError):
        approve_returns(session, items=[(1, dt.datetime(2026, 6, 3))])
