"""The bulk paths against the single ones on two identical stores: ship_orders against
ship_order, record_scans against record_tracking_event, each item in order at its own time.
Every row of the tables they touch and every outbox event must come out the same, refusals
included (they write nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from tests import factories as f
from tests.fulfillment.twins import snapshot, twins  # noqa: F401

from shopops.db import session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.fulfillment import rules
from shopops.fulfillment import service as ful
from shopops.orders import service as orders

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
TABLES = ("shipment", "tracking_event", "sales_order", "order_line")


def _h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def _order(s: Session, region: str, weights: tuple[int, ...], *, pay: bool = True) -> Any:
    wh = f.warehouse(s)
    wh.city = "杭州"
    skus = [sku for grams in weights for sku in f.product(s, weight_grams=grams, wh=wh).skus]
    c = f.customer(s, region=region, city="某市")
    order = orders.place_order(s, customer_id=c.id, lines=[(k.id, 2) for k in skus])
    if pay:
        orders.mark_paid(s, order_id=order.id, amount=order.total)
    return order


def _ship_store(s: Session) -> dict[str, int]:
    set_clock(s, T0)
    ful.ensure_default_carriers(s)
    ful.update_carrier(s, code="ems", active=False)
    ful.create_carrier(s, code="local", name="同城", rates=[rules.RateTerms("上海", 800, 200, 12)])
    ids = {
        "xj": _order(s, "新疆维吾尔自治区", (350, 1200)).id,
        "gd": _order(s, "广东省", (200,)).id,
        "sh": _order(s, "上海市", (900, 150)).id,
        "unpaid": _order(s, "浙江省", (200,), pay=False).id,
    }
    part = _order(s, "浙江省", (500, 700))
    first = orders.get_order(s, order_id=part.id, details=True).lines[0]
    orders.record_refund(s, order_id=part.id, line_refunds={first.id: (1, 100)}, shipping_refund=0)
    ids["part"] = part.id  # partially refunded: ships without the refunded unit
    return ids


def _outcome(results: list[Any], fields: tuple[str, ...]) -> list[Any]:
    return [
        r.code if isinstance(r, ShopOpsError) else tuple(getattr(r, k) for k in fields)
        for r in results
    ]


SHIP_FIELDS = ("id", "order_id", "fee", "weight_grams", "promised_hours", "region", "shipped_at")


def test_ship_orders_equals_ship_order_one_by_one(twins):  # noqa: F811
    a, b, ids = twins(_ship_store)
    parcels = [
        ful.Parcel(ids["xj"], "sf", _h(1)),
        ful.Parcel(ids["unpaid"], "sf", _h(1)),  # unpaid
        ful.Parcel(ids["gd"], "ups", _h(2)),  # no such carrier
        ful.Parcel(ids["gd"], "ems", _h(2)),  # inactive carrier
        ful.Parcel(ids["xj"], "local", _h(2)),  # shipped just before
        ful.Parcel(ids["gd"], "local", _h(3)),  # no rate to 广东
        ful.Parcel(ids["gd"], "zto", _h(3)),
        ful.Parcel(10**6, "sf", _h(3)),  # no such order
        ful.Parcel(ids["part"], "jd", _h(4)),
        ful.Parcel(ids["sh"], "local", _h(5)),
    ]
    single: list[Any] = []
    with session_scope(a) as s:
        for p in parcels:
            set_clock(s, p.at)
            try:
                single.append(ful.ship_order(s, order_id=p.order_id, carrier_code=p.carrier_code))
            except ShopOpsError as exc:
                single.append(exc)
        single_out = _outcome(single, SHIP_FIELDS)
    with session_scope(b) as s:
        bulk_out = _outcome(ful.ship_orders(s, parcels=parcels), SHIP_FIELDS)
    assert bulk_out == single_out
    assert [o if isinstance(o, str) else "shipped" for o in bulk_out] == [
        "shipped",
        "order_not_shippable",
        "unknown_carrier",
        "carrier_inactive",
        "order_already_shipped",
        "no_carrier_rate",
        "shipped",
        "order_not_found",
        "shipped",
        "shipped",
    ]
    assert snapshot(a, TABLES) == snapshot(b, TABLES)


def _scan_store(s: Session) -> dict[str, int]:
    ids = _ship_store(s)
    for key, carrier in (("xj", "sf"), ("gd", "zto"), ("sh", "jd"), ("part", "yto")):
        ids[f"{key}_parcel"] = ful.ship_order(s, order_id=ids[key], carrier_code=carrier).id
    orders.request_refund(s, order_id=ids["gd"])  # delivered while a refund is pending
    done = f.delivered_order(s)
    ids["return"] = ful.create_return_shipment(s, order_id=done.id, carrier_code="sf").id
    return ids


SCAN_FIELDS = ("status", "location", "description", "occurred_at")


def test_record_scans_equals_record_tracking_event_one_by_one(twins):  # noqa: F811
    a, b, ids = twins(_scan_store)
    xj, gd, sh, part, ret = (ids[k] for k in ("xj_parcel", "gd_parcel", "sh_parcel",
                                              "part_parcel", "return"))  # fmt: skip
    road = ("picked_up", "in_transit", "out_for_delivery", "delivered")
    scans = [ful.Scan(xj, st, _h(10 + i)) for i, st in enumerate(road)]
    scans += [
        ful.Scan(gd, "picked_up", _h(10)),
        ful.Scan(gd, "picked_up", _h(10.5), location="深圳"),  # a repeat saying more: recorded
        ful.Scan(gd, "picked_up", _h(11), location="深圳"),  # the same again: silent
        ful.Scan(gd, "exception", _h(12), description="破损"),
        ful.Scan(gd, "in_transit", _h(13)),
        ful.Scan(gd, "out_for_delivery", _h(14)),
        ful.Scan(gd, "delivered", _h(15)),  # the order stays refund_requested
        ful.Scan(gd, "delivered", _h(16)),  # delivered again: silent
        ful.Scan(gd, "picked_up", _h(17)),  # illegal after delivery
        ful.Scan(sh, "teleported", _h(10)),  # unknown status
        ful.Scan(10**6, "picked_up", _h(10)),  # no such shipment
        ful.Scan(sh, "created", _h(10.2), location="上海"),  # a repeat of the first scan
        ful.Scan(sh, "delivered", _h(11)),  # skips the road: illegal
        ful.Scan(part, "exception", _h(12)),
        ful.Scan(ret, "picked_up", _h(10)),
        ful.Scan(ret, "in_transit", _h(11)),
        ful.Scan(ret, "out_for_delivery", _h(12)),
        ful.Scan(ret, "delivered", _h(13)),  # a return: no order move
    ]
    single: list[Any] = []
    with session_scope(a) as s:
        for scan in scans:
            set_clock(s, scan.at)
            try:
                event = ful.record_tracking_event(
                    s,
                    shipment_id=scan.shipment_id,
                    status=scan.status,
                    location=scan.location,
                    description=scan.description,
                )
                single.append(event)
            except ShopOpsError as exc:
                single.append(exc)
        single_out = _outcome(single, SCAN_FIELDS)
    with session_scope(b) as s:
        bulk_out = _outcome(ful.record_scans(s, scans=scans), SCAN_FIELDS)
    assert bulk_out == single_out
    refused = [o for o in bulk_out if isinstance(o, str)]
    assert refused == [
        "illegal_tracking_transition",
        "unknown_tracking_status",
        "shipment_not_found",
        "illegal_tracking_transition",
    ]
    sa, sb = snapshot(a, TABLES), snapshot(b, TABLES)
    assert sa == sb
    by_id = {r["id"]: r for r in sb["sales_order"]}
    assert by_id[ids["xj"]]["status"] == "delivered"
    assert by_id[ids["gd"]]["status"] == "refund_requested"
