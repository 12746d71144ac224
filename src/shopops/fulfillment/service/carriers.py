"""Carriers, their rate tables and quotes: what sending a parcel somewhere costs and takes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from shopops.fulfillment import rules
from shopops.fulfillment.errors import (
    CarrierExists,
    CarrierInactive,
    InvalidRate,
    InvalidWeight,
    NoCarrierRate,
    UnknownCarrier,
)
from shopops.fulfillment.models import (
    Carrier,
    CarrierRate,
)


def _check_terms(region: str, first_kg_fee: int, extra_kg_fee: int, transit_hours: int) -> None:
    problems = {
        name: value
        for name, value in (("first_kg_fee", first_kg_fee), ("extra_kg_fee", extra_kg_fee))
        if value < 0
    }
    if transit_hours <= 0:
        problems["transit_hours"] = transit_hours
    if not region.strip():
        problems["region"] = region
    if problems:
        raise InvalidRate(
            "fees must not be negative, transit hours must be positive and the region named",
            details={"fields": problems},
        )


def list_carriers(session: Session, *, active_only: bool = False) -> list[Carrier]:
    """Carriers by code, with their rate tables loaded."""
    stmt = select(Carrier).options(selectinload(Carrier.rates)).order_by(Carrier.code)
    if active_only:
        stmt = stmt.where(Carrier.active.is_(True))
    return list(session.scalars(stmt))


def get_carrier(session: Session, *, code: str) -> Carrier:
    """The carrier with this code (active or not), or 404 `unknown_carrier`."""
    carrier = session.scalar(select(Carrier).where(Carrier.code == code))
    if carrier is None:
        raise _unknown(code)
    return carrier


def _unknown(code: str) -> UnknownCarrier:
    return UnknownCarrier(f"no carrier {code!r}", details={"carrier_code": code})


def _check_active(carrier: Carrier, code: str) -> Carrier:
    if not carrier.active:
        raise CarrierInactive(f"carrier {code!r} is not active", details={"carrier_code": code})
    return carrier


def require_active_carrier(session: Session, code: str) -> Carrier:
    """The carrier, if it takes new parcels: 404 `unknown_carrier`, 409 `carrier_inactive`."""
    return _check_active(get_carrier(session, code=code), code)


_BY_CODES = select(Carrier).where(Carrier.code.in_(bindparam("codes", expanding=True)))


def active_carriers(
    session: Session, codes: Iterable[str]
) -> dict[str, Carrier | UnknownCarrier | CarrierInactive]:
    """`require_active_carrier` of each code in one query: the carrier or its refusal."""
    wanted = set(codes)
    found = {c.code: c for c in session.scalars(_BY_CODES, {"codes": sorted(wanted)})}
    return check_carriers(found, wanted)


def check_carriers(
    found: Mapping[str, Carrier], wanted: Iterable[str]
) -> dict[str, Carrier | UnknownCarrier | CarrierInactive]:
    """Per code of `wanted`: the carrier of `found` if it takes parcels, or its refusal."""
    out: dict[str, Carrier | UnknownCarrier | CarrierInactive] = {}
    for code in set(wanted):
        carrier = found.get(code)
        try:
            out[code] = _check_active(carrier, code) if carrier is not None else _unknown(code)
        except CarrierInactive as exc:
            out[code] = exc
    return out


def create_carrier(
    session: Session,
    *,
    code: str,
    name: str,
    active: bool = True,
    rates: Sequence[rules.RateTerms] = (),
) -> Carrier:
    """A new carrier with its rate table; 409 `carrier_exists` if the code is taken."""
    for terms in rates:
        _check_terms(terms.region, terms.first_kg_fee, terms.extra_kg_fee, terms.transit_hours)
    regions = [t.region for t in rates]
    if len(set(regions)) != len(regions):
        raise InvalidRate("each region may have one rate", details={"regions": regions})
    if session.scalar(select(Carrier.id).where(Carrier.code == code)) is not None:
        raise CarrierExists(f"carrier {code!r} already exists", details={"carrier_code": code})
    carrier = Carrier(code=code, name=name, active=active)
    carrier.rates = [
        CarrierRate(
            region=t.region,
            first_kg_fee=t.first_kg_fee,
            extra_kg_fee=t.extra_kg_fee,
            transit_hours=t.transit_hours,
        )
        for t in rates
    ]
    session.add(carrier)
    session.flush()
    return carrier


def update_carrier(
    session: Session, *, code: str, name: str | None = None, active: bool | None = None
) -> Carrier:
    """Rename or (de)activate a carrier; inactive carriers take no new shipments."""
    carrier = get_carrier(session, code=code)
    if name is not None:
        carrier.name = name
    if active is not None:
        carrier.active = active
    session.flush()
    return carrier


def set_rate(
    session: Session,
    *,
    carrier_code: str,
    region: str,
    first_kg_fee: int,
    extra_kg_fee: int,
    transit_hours: int,
) -> CarrierRate:
    """Create or replace the carrier's rate to `region` (a province, or "*" for the rest)."""
    _check_terms(region, first_kg_fee, extra_kg_fee, transit_hours)
    carrier = get_carrier(session, code=carrier_code)
    key = region if region == rules.ANY_REGION else rules.normalize_province(region)
    rate = session.scalar(
        select(CarrierRate).where(CarrierRate.carrier_id == carrier.id, CarrierRate.region == key)
    )
    if rate is None:
        rate = CarrierRate(carrier_id=carrier.id, region=key)
        session.add(rate)
    rate.first_kg_fee = first_kg_fee
    rate.extra_kg_fee = extra_kg_fee
    rate.transit_hours = transit_hours
    session.flush()
    return rate


def ensure_default_carriers(session: Session) -> list[Carrier]:
    """Seed SF, JD, ZTO, YTO, STO, Yunda and EMS with their rates; idempotent.

    Adds only what is missing: carriers and rates an operator already edited stay as they are.
    """
    existing = {c.code: c for c in list_carriers(session)}
    for (code, name), table in rules.DEFAULT_CARRIERS.items():
        carrier = existing.get(code)
        if carrier is None:
            carrier = Carrier(code=code, name=name, active=True)
            session.add(carrier)
            existing[code] = carrier
        have = {r.region for r in carrier.rates}
        for region, terms in table.items():
            if region not in have:
                carrier.rates.append(
                    CarrierRate(
                        region=region,
                        first_kg_fee=terms.first_kg_fee,
                        extra_kg_fee=terms.extra_kg_fee,
                        transit_hours=terms.transit_hours,
                    )
                )
    session.flush()
    return sorted(existing.values(), key=lambda c: c.code)


def price_parcel(
    session: Session, carrier: Carrier, province: str, weight_grams: int
) -> rules.Quote:
    """The carrier's quote to `province` (its own rate, else "*"): 409 `no_carrier_rate`,
    422 `invalid_weight`. One query."""
    if weight_grams < 0:
        raise InvalidWeight("weight must not be negative", details={"weight_grams": weight_grams})
    return rules.quote(rate_terms(session, carrier, province), weight_grams)


def rate_terms(session: Session, carrier: Carrier, province: str) -> rules.RateTerms:
    """The rate that prices a parcel of `carrier` to `province`: 409 `no_carrier_rate`."""
    region = rules.normalize_province(province)
    rows = session.execute(
        _RATES.where(
            CarrierRate.carrier_id == carrier.id,
            CarrierRate.region.in_({region, rules.ANY_REGION}),
        )
    )
    return pick_terms({r.region: _terms(r) for r in rows}, carrier, province)


_RATES = select(
    CarrierRate.carrier_id,
    CarrierRate.region,
    CarrierRate.first_kg_fee,
    CarrierRate.extra_kg_fee,
    CarrierRate.transit_hours,
)


# Built once with bound ids: a wave reads its carriers' tables through it.
_TABLES = _RATES.where(CarrierRate.carrier_id.in_(bindparam("ids", expanding=True)))


def _terms(row: Any) -> rules.RateTerms:
    return rules.RateTerms(row.region, row.first_kg_fee, row.extra_kg_fee, row.transit_hours)


def rate_tables(
    session: Session, carrier_ids: Iterable[int]
) -> dict[int, dict[str, rules.RateTerms]]:
    """The whole rate tables of these carriers in one query (a wave prices many parcels)."""
    tables: dict[int, dict[str, rules.RateTerms]] = {}
    ids = sorted(set(carrier_ids))
    if ids:
        for r in session.execute(_TABLES, {"ids": ids}):
            tables.setdefault(r.carrier_id, {})[r.region] = _terms(r)
    return tables


def pick_terms(
    table: Mapping[str, rules.RateTerms], carrier: Carrier, province: str
) -> rules.RateTerms:
    """The rate of `table` that prices a parcel to `province`: 409 `no_carrier_rate`."""
    terms = rules.select_rate(table, province)
    if terms is None:
        raise NoCarrierRate(
            f"carrier {carrier.code!r} has no rate to {province!r}",
            details={"carrier_code": carrier.code, "province": province},
        )
    return terms


def quote(session: Session, *, carrier_code: str, province: str, weight_grams: int) -> rules.Quote:
    """Fee (fen) and promised hours of sending `weight_grams` to `province` with a carrier."""
    return price_parcel(session, get_carrier(session, code=carrier_code), province, weight_grams)
