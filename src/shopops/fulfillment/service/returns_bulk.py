"""Return parcels in bulk: `create_return_shipment` of many after-sales parcels at once.

Each parcel gets what `create_return_shipment` gives it (the same checks in its order, fee on
the customer's province, first scan at the customer's city and `shipment.created`, at the
parcel's own time), but set-based: one read each for the orders, carriers, rate tables and
drawn tracking numbers, one multi-row INSERT each for shipments and first scans, one
`emit_many`. A refused parcel is reported in its result and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.fulfillment import events, rules
from shopops.fulfillment.errors import InvalidWeight, OrderNotShippable
from shopops.fulfillment.models import Carrier, ShipmentDirection, TrackingEvent
from shopops.fulfillment.service.bulk_shipping import Parcel, _free_numbers
from shopops.fulfillment.service.carriers import active_carriers, pick_terms, rate_tables
from shopops.fulfillment.service.rows import SHIPMENT_TABLE, ShipmentRow
from shopops.fulfillment.service.shipping import _province, _tracking_number, shipment_rows
from shopops.orders.errors import OrderNotFound
from shopops.orders.models import Order
from shopops.orders.rules import OrderStatus

_NEVER_PAID = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED})
_EVENTS = TrackingEvent.__table__
# What a return parcel needs of its order (built once, bound ids).
_ORDERS = select(Order.id, Order.number, Order.status, Order.shipping_address).where(
    Order.id.in_(bindparam("order_ids", expanding=True))
)


@dataclass(frozen=True, slots=True)
class ReturnParcel:
    """`create_return_shipment(order_id=…, carrier_code=…, weight_grams=…)` at `at`."""

    order_id: int
    carrier_code: str
    weight_grams: int
    at: dt.datetime  # when the shopper hands it over (timezone-aware)


def create_return_shipments(
    session: Session, *, parcels: Sequence[ReturnParcel]
) -> list[ShipmentRow | ShopOpsError]:
    """Per parcel in order, its shipment (a `ShipmentRow`) or the error that refused it
    (order_not_found, unknown_carrier, carrier_inactive, order_not_shippable, invalid_weight,
    no_carrier_rate). The session's clock is untouched."""
    for parcel in parcels:
        if parcel.at.tzinfo is None:
            raise ValueError("a parcel's time needs a timezone-aware datetime")
    if not parcels:
        return []
    ids = sorted({p.order_id for p in parcels})
    orders = {r.id: r for r in session.execute(_ORDERS, {"order_ids": ids})}
    carriers = active_carriers(session, {p.carrier_code for p in parcels})
    tables = rate_tables(session, (c.id for c in carriers.values() if isinstance(c, Carrier)))
    numbers = _free_numbers(session, [Parcel(p.order_id, p.carrier_code, p.at) for p in parcels])
    out: list[ShipmentRow | ShopOpsError | None] = []
    new: list[tuple[int, Carrier, str, dict[str, Any], dict[str, Any]]] = []
    for parcel, number in zip(parcels, numbers, strict=True):
        try:
            order = orders.get(parcel.order_id)
            if order is None:
                raise OrderNotFound("no such order", details={"order_id": parcel.order_id})
            carrier = carriers[parcel.carrier_code]
            if isinstance(carrier, ShopOpsError):
                raise carrier
            if OrderStatus(order.status) in _NEVER_PAID:
                raise OrderNotShippable(
                    f"order {order.number} is {order.status}: nothing to send back",
                    details={"order_id": order.id, "status": order.status},
                )
            if parcel.weight_grams < 0:
                raise InvalidWeight(
                    "weight must not be negative", details={"weight_grams": parcel.weight_grams}
                )
            terms = pick_terms(tables.get(carrier.id, {}), carrier, _province(order))
        except ShopOpsError as exc:
            out.append(exc)
            continue
        values, first = shipment_rows(
            order=order,
            carrier=carrier,
            direction=ShipmentDirection.RETURN,
            tracking_number=number or _tracking_number(session, carrier, None),
            weight_grams=parcel.weight_grams,
            warehouse=None,
            quote=rules.quote(terms, parcel.weight_grams),
            at=parcel.at,
        )
        new.append((len(out), carrier, order.number, values, first))
        out.append(None)  # filled once the rows have ids
    if new:
        _write(session, new, out)
    return out  # type: ignore[return-value]  # every None was filled


def _write(
    session: Session,
    new: list[tuple[int, Carrier, str, dict[str, Any], dict[str, Any]]],
    out: list[ShipmentRow | ShopOpsError | None],
) -> None:
    # Matched by the unique tracking number, as in ship_orders.
    t = SHIPMENT_TABLE
    by_number = dict(
        session.execute(
            insert(t).returning(t.c.tracking_number, t.c.id),
            [values for _, _, _, values, _ in new],
        ).all()
    )
    created: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]] = []
    scans: list[dict[str, Any]] = []
    for slot, carrier, order_number, values, first in new:
        shipment_id = by_number[values["tracking_number"]]
        row = ShipmentRow(id=shipment_id, delivered_at=None, carrier=carrier, **values)
        out[slot] = row
        scans.append({**first, "shipment_id": shipment_id})
        payload = events.created_payload(row, order_number=order_number)  # type: ignore[arg-type]
        created.append((events.AGGREGATE, shipment_id, payload, row.shipped_at))
    session.execute(insert(_EVENTS), scans)
    emit_many(session, events.SHIPMENT_CREATED, created)
