"""The reference data a session's waves read again and again — the carriers, their rate
tables, the warehouses — read once and kept in the session (`session.info`) until any of them
is added, changed or deleted through it (seen at flush: every write path goes through the ORM),
or the transaction ends (commit or rollback: another transaction may have changed them).

A wave read all three each time (~1.8 ms a wave on SQLite); the simulator ships ~6 waves in a
day's one unit of work. Carriers are the session's own ORM objects, so `active` is read live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shopops.fulfillment import rules
from shopops.fulfillment.errors import CarrierInactive, UnknownCarrier
from shopops.fulfillment.models import Carrier, CarrierRate
from shopops.fulfillment.service import carriers as carrier_service
from shopops.inventory import service as inventory_service
from shopops.inventory.models import Warehouse

_KEY = "shopops.fulfillment.reference"
_KINDS = (Carrier, CarrierRate, Warehouse)
_ALL_CARRIERS = select(Carrier)


@dataclass
class Reference:
    by_code: dict[str, Carrier] | None = None
    tables: dict[int, dict[str, rules.RateTerms]] = field(default_factory=dict)
    warehouses: list[Warehouse] | None = None


def _kept(session: Session) -> Reference:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Reference()
    return found


def _carriers(session: Session) -> dict[str, Carrier]:
    ref = _kept(session)
    if ref.by_code is None:
        ref.by_code = {c.code: c for c in session.scalars(_ALL_CARRIERS)}
    return ref.by_code


def active_carriers(
    session: Session, codes: set[str]
) -> dict[str, Carrier | UnknownCarrier | CarrierInactive]:
    """`carriers.active_carriers`, from the kept carriers."""
    return carrier_service.check_carriers(_carriers(session), codes)


def carriers_by_id(session: Session, ids: set[int]) -> dict[int, Carrier]:
    """The carriers of these ids (every carrier, active or not, is kept)."""
    found = {c.id: c for c in _carriers(session).values() if c.id in ids}
    if len(found) < len(ids):  # one this session has not seen (never kept: read it)
        found.update((c.id, c) for c in session.scalars(select(Carrier).where(Carrier.id.in_(ids))))
    return found


def rate_tables(session: Session, carrier_ids: set[int]) -> dict[int, dict[str, rules.RateTerms]]:
    """`carriers.rate_tables`, read only for carriers not kept yet."""
    ref = _kept(session)
    missing = carrier_ids - ref.tables.keys()
    if missing:
        read = carrier_service.rate_tables(session, missing)
        for carrier_id in missing:
            ref.tables[carrier_id] = read.get(carrier_id, {})
    return {i: ref.tables[i] for i in carrier_ids if ref.tables[i]}


def warehouses(session: Session) -> list[Warehouse]:
    """`inventory.list_warehouses`, kept."""
    ref = _kept(session)
    if ref.warehouses is None:
        ref.warehouses = inventory_service.list_warehouses(session)
    return ref.warehouses


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _KEY not in session.info:
        return
    if any(isinstance(o, _KINDS) for o in chain(session.new, session.dirty, session.deleted)):
        del session.info[_KEY]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _on_end(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)
