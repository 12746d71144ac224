"""restock_many: the same stock rows, movements and events as restock on each line in order,
at its moment; return_targets refuses what restock would, writing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.inventory import service as inventory
from shopops.inventory.service.restock_bulk import (
    Restock,
    receive_stock_many,
    restock_many,
    return_targets,
)

T0 = dt.datetime(2026, 6, 5, 2, 0, tzinfo=dt.UTC)
TABLES = ("stock_level", "stock_movement")


def _store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(days=1))
    f.warehouse(s, priority=50)  # stocks nothing: a new SKU's returns go here
    stocked = f.product(s, stock=10)
    fresh = f.sku(s, stocked)  # no stock row anywhere yet
    return {"stocked": stocked.skus[0].id, "fresh": fresh.id}


def _lines(built: dict[str, Any]) -> list[Restock]:
    at = [T0 + dt.timedelta(hours=h) for h in range(6)]
    return [
        Restock(built["fresh"], 2, "return", "1", at[0]),
        Restock(built["stocked"], 1, "return", "1", at[1]),
        Restock(10**6, 1, "return", "2", at[2]),  # no such SKU
        Restock(built["fresh"], 3, "return", "3", at[3]),  # the row the first line made
        Restock(built["stocked"], 0, "return", "4", at[4]),  # no units
        Restock(built["stocked"], 4, "", "4", at[5]),  # no reference
    ]


def test_restock_many_equals_restock_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_store)
    lines = _lines(built)
    single: list[str] = []
    with session_scope(a) as s:
        for line in lines:
            set_clock(s, line.at)
            try:
                with s.begin_nested():
                    inventory.restock(
                        s,
                        sku_id=line.sku_id,
                        quantity=line.quantity,
                        ref_type=line.ref_type,
                        ref_id=line.ref_id,
                    )
                single.append("ok")
            except ShopOpsError as exc:
                single.append(exc.code)
    with session_scope(b) as s:
        targets = return_targets(s, lines)
        restock_many(
            s,
            [(x, t) for x, t in zip(lines, targets, strict=True) if isinstance(t, int)],
        )
        bulk = [t.code if isinstance(t, ShopOpsError) else "ok" for t in targets]
    assert bulk == single == ["ok", "ok", "unknown_sku", "ok", "invalid_quantity", "invalid_ref"]
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    for table in (*TABLES, "outbox_event"):
        assert sa[table] == sb[table], table


def test_nothing_to_restock(session):
    assert return_targets(session, []) == []
    restock_many(session, [])


def _delivery_store(s: Session) -> dict[str, Any]:
    set_clock(s, T0 - dt.timedelta(days=1))
    wh = f.warehouse(s, priority=50)
    stocked = f.product(s, stock=10, wh=wh)
    fresh = f.sku(s, stocked)  # no stock row yet
    return {"wh": wh.id, "skus": [stocked.skus[0].id, fresh.id]}


def test_receive_stock_many_equals_receive_stock_one_by_one(twins):  # noqa: F811
    a, b, built = twins(_delivery_store)
    lines = [(built["skus"][0], 5), (built["skus"][1], 7)]
    with session_scope(a) as s:
        set_clock(s, T0)
        for sku_id, quantity in lines:
            inventory.receive_stock(
                s,
                sku_id=sku_id,
                warehouse_id=built["wh"],
                quantity=quantity,
                ref_type="purchase_order",
                ref_id="PO1",
                note="到货",
            )
    with session_scope(b) as s:
        set_clock(s, T0)
        receive_stock_many(
            s,
            warehouse_id=built["wh"],
            lines=lines,
            ref_type="purchase_order",
            ref_id="PO1",
            note="到货",
        )
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    for table in (*TABLES, "outbox_event"):
        assert sa[table] == sb[table], table


def test_a_refused_delivery_line_raises_before_any_write(session):
    set_clock(session, T0)
    wh = f.warehouse(session)
    prod = f.product(session, stock=1, wh=wh)
    before = f.stock_levels(session)
    with pytest.raises(ShopOpsError) as refused:
        receive_stock_many(
            session,
            warehouse_id=wh.id,
            lines=[(prod.skus[0].id, 3), (10**6, 1)],
            ref_type="purchase_order",
            ref_id="PO2",
            note="",
        )
    assert refused.value.code == "unknown_sku"
    assert f.stock_levels(session) == before
