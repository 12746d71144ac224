"""Routes of the fulfillment domain: carriers and rates, shipping, carrier scans, tracking."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, status

from shopops.api.deps import Analyst, Operator, OperatorOrAgent, SessionDep, Shopper, Staff
from shopops.fulfillment import service
from shopops.fulfillment.models import ShipmentDirection
from shopops.fulfillment.rules import RateTerms, TrackingStatus
from shopops.fulfillment.schemas import (
    CarrierCreate,
    CarrierRateRead,
    CarrierRateWrite,
    CarrierRead,
    CarrierScoreRead,
    CarrierUpdate,
    OrderTrackingRead,
    QuoteRead,
    ScorecardRead,
    ShipmentCreate,
    ShipmentDetail,
    ShipmentRead,
    StorefrontShipment,
    StorefrontTracking,
    TrackingEventCreate,
    TrackingEventRead,
)

router = APIRouter(tags=["fulfillment"])

CREATED = status.HTTP_201_CREATED


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Query times without a zone are read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# --- storefront ----------------------------------------------------------------------------


@router.get("/storefront/orders/{number}/tracking", response_model=StorefrontTracking)
def storefront_tracking(number: str, session: SessionDep, who: Shopper) -> StorefrontTracking:
    shipments = service.track_order(session, order_number=number, customer_id=who.customer_id)
    return StorefrontTracking(
        order_number=number, shipments=[StorefrontShipment.of(s) for s in shipments]
    )


# --- carriers ------------------------------------------------------------------------------


@router.get("/admin/carriers", response_model=list[CarrierRead])
def list_carriers(session: SessionDep, _: Staff) -> list[CarrierRead]:
    return [CarrierRead.of(c) for c in service.list_carriers(session)]


@router.post("/admin/carriers", status_code=CREATED, response_model=CarrierRead)
def create_carrier(body: CarrierCreate, session: SessionDep, _: Operator) -> CarrierRead:
    carrier = service.create_carrier(
        session,
        code=body.code,
        name=body.name,
        active=body.active,
        rates=[
            RateTerms(r.region, r.first_kg_fee, r.extra_kg_fee, r.transit_hours) for r in body.rates
        ],
    )
    return CarrierRead.of(carrier)


@router.post("/admin/carriers/defaults", response_model=list[CarrierRead])
def seed_default_carriers(session: SessionDep, _: Operator) -> list[CarrierRead]:
    return [CarrierRead.of(c) for c in service.ensure_default_carriers(session)]


@router.get("/admin/carriers/scorecard", response_model=ScorecardRead)
def carrier_scorecard(
    session: SessionDep,
    _: Analyst,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> ScorecardRead:
    card = service.carrier_scorecard(session, since=_utc(since), until=_utc(until))
    return ScorecardRead(
        since=card.since,
        until=card.until,
        carriers=[CarrierScoreRead.of(s) for s in card.carriers],
    )


@router.patch("/admin/carriers/{code}", response_model=CarrierRead)
def update_carrier(code: str, body: CarrierUpdate, session: SessionDep, _: Operator) -> CarrierRead:
    return CarrierRead.of(
        service.update_carrier(session, code=code, name=body.name, active=body.active)
    )


@router.post("/admin/carriers/{code}/rates", status_code=CREATED, response_model=CarrierRateRead)
def set_rate(
    code: str, body: CarrierRateWrite, session: SessionDep, _: Operator
) -> CarrierRateRead:
    rate = service.set_rate(
        session,
        carrier_code=code,
        region=body.region,
        first_kg_fee=body.first_kg_fee,
        extra_kg_fee=body.extra_kg_fee,
        transit_hours=body.transit_hours,
    )
    return CarrierRateRead.model_validate(rate)


@router.get("/admin/carriers/{code}/quote", response_model=QuoteRead)
def quote(
    code: str,
    session: SessionDep,
    _: Staff,
    province: Annotated[str, Query(max_length=50)] = "",
    weight_grams: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QuoteRead:
    q = service.quote(session, carrier_code=code, province=province, weight_grams=weight_grams)
    return QuoteRead.of(q, carrier_code=code, province=province)


# --- shipments -----------------------------------------------------------------------------


@router.post(
    "/admin/orders/{order_id}/shipments", status_code=CREATED, response_model=ShipmentDetail
)
def ship_order(
    order_id: int, body: ShipmentCreate, session: SessionDep, _: OperatorOrAgent
) -> ShipmentDetail:
    shipment = service.ship_order(
        session,
        order_id=order_id,
        carrier_code=body.carrier_code,
        tracking_number=body.tracking_number,
    )
    return ShipmentDetail.of(shipment)


@router.get("/admin/shipments", response_model=list[ShipmentRead])
def list_shipments(
    session: SessionDep,
    _: Staff,
    status: TrackingStatus | None = None,
    carrier: Annotated[str | None, Query(max_length=20)] = None,
    direction: ShipmentDirection | None = None,
    order_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ShipmentRead]:
    rows = service.list_shipments(
        session,
        status=status,
        carrier_code=carrier,
        direction=direction,
        order_id=order_id,
        limit=limit,
        offset=offset,
    )
    return [ShipmentRead.of(s) for s in rows]


@router.get("/admin/shipments/{shipment_id}", response_model=ShipmentDetail)
def get_shipment(shipment_id: int, session: SessionDep, _: Staff) -> ShipmentDetail:
    return ShipmentDetail.of(service.get_shipment(session, shipment_id=shipment_id))


@router.post(
    "/admin/shipments/{shipment_id}/events", status_code=CREATED, response_model=TrackingEventRead
)
def record_tracking_event(
    shipment_id: int, body: TrackingEventCreate, session: SessionDep, _: OperatorOrAgent
) -> TrackingEventRead:
    event = service.record_tracking_event(
        session,
        shipment_id=shipment_id,
        status=body.status,
        location=body.location,
        description=body.description,
    )
    return TrackingEventRead.model_validate(event)


@router.get("/admin/tracking/{order_number}", response_model=OrderTrackingRead)
def admin_tracking(order_number: str, session: SessionDep, _: Staff) -> OrderTrackingRead:
    shipments = service.track_order(session, order_number=order_number)
    return OrderTrackingRead(
        order_number=order_number, shipments=[ShipmentDetail.of(s) for s in shipments]
    )
