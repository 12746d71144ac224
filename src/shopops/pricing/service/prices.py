"""List prices and price lists: change a price (with its history row and `price.changed`),
keep member and channel price lists, and resolve what a customer pays on a channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shopops.catalog import service as catalog
from shopops.db import now
from shopops.events import emit
from shopops.pricing import events, rules
from shopops.pricing.errors import (
    DuplicatePriceListCode,
    InvalidPrice,
    InvalidPriceList,
    MarginBandViolated,
    PriceListNotFound,
    UnknownSku,
)
from shopops.pricing.models import PriceChange, PriceList, PriceListItem, PriceListKind
from shopops.pricing.service.live import LivePriceList, live_state, mark_changed

SYSTEM = "system"
MAX_REASON = 500
MAX_ACTOR = 100


def _snapshots(session: Session, sku_ids: Sequence[int]) -> dict[int, catalog.SkuSnapshot]:
    """Catalog snapshots of `sku_ids`, or 404 `unknown_sku` naming the missing ones."""
    found = catalog.get_sellable_skus(session, sku_ids=sku_ids)
    missing = sorted(set(sku_ids) - set(found))
    if missing:
        raise UnknownSku(f"no SKU {missing[0]}", details={"sku_ids": missing})
    return found


def _record(
    session: Session,
    *,
    sku_id: int,
    old: int | None,
    new: int | None,
    cost: int,
    actor: str,
    reason: str,
    price_list: PriceList | None = None,
    outside_band: bool = False,
) -> PriceChange:
    """Write one history row and emit `price.changed` for it."""
    change = PriceChange(
        sku_id=sku_id,
        price_list_id=price_list.id if price_list else None,
        old_price=old,
        new_price=new,
        cost=cost,
        actor=(actor or SYSTEM)[:MAX_ACTOR],
        reason=reason[:MAX_REASON],
        outside_band=outside_band,
        changed_at=now(session),
    )
    session.add(change)
    session.flush()
    emit(
        session,
        events.PRICE_CHANGED,
        aggregate_type=events.SKU_AGGREGATE,
        aggregate_id=sku_id,
        payload=events.price_changed(
            change, price_list_code=price_list.code if price_list else None
        ),
    )
    return change


def set_list_price(
    session: Session,
    *,
    sku_id: int,
    price: int,
    actor: str = SYSTEM,
    reason: str = "",
    allow_outside_band: bool = False,
    min_margin_bp: int = rules.DEFAULT_MIN_MARGIN_BP,
    max_margin_bp: int = rules.DEFAULT_MAX_MARGIN_BP,
) -> PriceChange | None:
    """Change a SKU's list price through the catalog; writes a history row and emits
    `price.changed`. Returns None when the price is already `price` (nothing is written).

    A price whose gross margin leaves the band is refused (409 `margin_band_violated`) unless
    `allow_outside_band` (then the row is flagged `outside_band` and `reason` is required).
    """
    if price <= 0:
        raise InvalidPrice("a list price is above 0", details={"sku_id": sku_id, "price": price})
    snap = _snapshots(session, [sku_id])[sku_id]
    if snap.list_price == price:
        return None
    band = rules.margin_band(snap.cost, min_bp=min_margin_bp, max_bp=max_margin_bp)
    outside = price not in band
    if outside and not allow_outside_band:
        raise MarginBandViolated(
            f"a price of {price} fen gives a gross margin of "
            f"{(rules.gross_margin_bp(price, snap.cost) or 0) / 100:g}%, outside "
            f"{min_margin_bp / 100:g}–{max_margin_bp / 100:g}%",
            details={
                "sku_id": sku_id,
                "price": price,
                "cost": snap.cost,
                "margin_bp": rules.gross_margin_bp(price, snap.cost),
                "band": {"low": band.low, "high": band.high},
            },
        )
    if outside and not reason.strip():
        raise InvalidPrice(
            "overriding the margin band needs a reason", details={"sku_id": sku_id, "reason": ""}
        )
    catalog.update_sku(session, sku_id=sku_id, list_price=price)
    return _record(
        session,
        sku_id=sku_id,
        old=snap.list_price,
        new=price,
        cost=snap.cost,
        actor=actor,
        reason=reason.strip(),
        outside_band=outside,
    )


def price_history(
    session: Session, *, sku_id: int, limit: int = 100, offset: int = 0
) -> list[PriceChange]:
    """A SKU's price changes (list and price lists), newest first."""
    stmt = (
        select(PriceChange)
        .where(PriceChange.sku_id == sku_id)
        .order_by(PriceChange.changed_at.desc(), PriceChange.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


# ---- price lists ------------------------------------------------------------------------------


def _check_window(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidPriceList(
            "a price list ends after it starts",
            details={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        )


def _check_items(session: Session, items: Mapping[int, int]) -> dict[int, catalog.SkuSnapshot]:
    """Every SKU exists and every price is above 0 and at most its list price."""
    snaps = _snapshots(session, list(items))
    for sku_id, price in items.items():
        if not 0 < price <= snaps[sku_id].list_price:
            raise InvalidPrice(
                f"a price-list price is above 0 and at most the list price "
                f"({snaps[sku_id].list_price} fen)",
                details={"sku_id": sku_id, "price": price, "list_price": snaps[sku_id].list_price},
            )
    return snaps


def get_price_list(session: Session, *, price_list_id: int) -> PriceList:
    row = session.scalar(
        select(PriceList)
        .where(PriceList.id == price_list_id)
        .options(selectinload(PriceList.items))
    )
    if row is None:
        raise PriceListNotFound(
            f"no price list {price_list_id}", details={"price_list_id": price_list_id}
        )
    return row


def list_price_lists(session: Session, *, kind: str | None = None) -> list[PriceList]:
    stmt = select(PriceList).options(selectinload(PriceList.items)).order_by(PriceList.id)
    if kind is not None:
        stmt = stmt.where(PriceList.kind == kind)
    return list(session.scalars(stmt))


def create_price_list(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    target: str,
    items: Mapping[int, int] | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    active: bool = True,
    actor: str = SYSTEM,
    reason: str = "",
) -> PriceList:
    """A member price list (`target` = a tier code) or a channel price list (`target` = a
    channel) with its prices; each price writes a history row and emits `price.changed`."""
    try:
        parsed = PriceListKind(kind)
    except ValueError as exc:
        raise InvalidPriceList("kind is 'member' or 'channel'", details={"kind": kind}) from exc
    if not target.strip():
        raise InvalidPriceList("a price list names its tier or channel", details={"target": ""})
    _check_window(starts_at, ends_at)
    items = dict(items or {})
    snaps = _check_items(session, items)
    if session.scalar(select(func.count()).where(PriceList.code == code)):
        raise DuplicatePriceListCode(f"price list {code!r} exists", details={"code": code})
    at = now(session)
    row = PriceList(
        code=code,
        name=name,
        kind=parsed.value,
        target=target.strip(),
        active=active,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create took the code
        raise DuplicatePriceListCode(f"price list {code!r} exists", details={"code": code}) from exc
    for sku_id, price in sorted(items.items()):
        row.items.append(PriceListItem(sku_id=sku_id, price=price))
        _record_list_price(session, row, sku_id, None, price, snaps[sku_id].cost, actor, reason)
    mark_changed(session)
    return row


def _record_list_price(
    session: Session,
    price_list: PriceList,
    sku_id: int,
    old: int | None,
    new: int | None,
    cost: int,
    actor: str,
    reason: str,
) -> None:
    session.flush()
    _record(
        session,
        sku_id=sku_id,
        old=old,
        new=new,
        cost=cost,
        actor=actor,
        reason=reason,
        price_list=price_list,
    )


def update_price_list(
    session: Session,
    *,
    price_list_id: int,
    name: str | None = None,
    active: bool | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
) -> PriceList:
    """Rename, switch on or off, or move the window of a price list."""
    row = get_price_list(session, price_list_id=price_list_id)
    new_start = starts_at if starts_at is not None else row.starts_at
    new_end = ends_at if ends_at is not None else row.ends_at
    _check_window(new_start, new_end)
    if name is not None:
        row.name = name
    if active is not None:
        row.active = active
    row.starts_at, row.ends_at = new_start, new_end
    row.updated_at = now(session)
    session.flush()
    mark_changed(session)
    return row


def set_price_list_items(
    session: Session,
    *,
    price_list_id: int,
    items: Mapping[int, int | None],
    actor: str = SYSTEM,
    reason: str = "",
) -> PriceList:
    """Set (price) or remove (None) SKUs of a price list; every change writes a history row
    and emits `price.changed`. Unchanged prices write nothing."""
    row = get_price_list(session, price_list_id=price_list_id)
    setting = {s: p for s, p in items.items() if p is not None}
    snaps = _check_items(session, setting)
    removing = [s for s, p in items.items() if p is None]
    if removing:
        snaps.update(_snapshots(session, removing))
    current = {item.sku_id: item for item in row.items}
    for sku_id in sorted(items):
        price = items[sku_id]
        existing = current.get(sku_id)
        old = existing.price if existing else None
        if old == price:
            continue
        if price is None:
            assert existing is not None
            row.items.remove(existing)
        elif existing is None:
            row.items.append(PriceListItem(sku_id=sku_id, price=price))
        else:
            existing.price = price
        _record_list_price(session, row, sku_id, old, price, snaps[sku_id].cost, actor, reason)
    row.updated_at = now(session)
    session.flush()
    mark_changed(session)
    return row


# ---- resolution -------------------------------------------------------------------------------


def matching_price_lists(session: Session, *, channel: str, tier: str) -> list[LivePriceList]:
    """Price lists live now for this tier or channel (from the process snapshot: usually
    no statement)."""
    snap = live_state(session)
    if not snap.price_lists:
        return []
    at = now(session)
    return [
        pl
        for pl in snap.price_lists
        if pl.live_at(at)
        and (
            (pl.kind == PriceListKind.MEMBER and tier and pl.target == tier)
            or (pl.kind == PriceListKind.CHANNEL and pl.target == channel)
        )
    ]


def best_list_prices(
    session: Session, *, lists: Sequence[LivePriceList], sku_ids: Sequence[int]
) -> dict[int, tuple[int, LivePriceList]]:
    """The lowest price-list price of each SKU among `lists`, with the list giving it
    (one query; SKUs on none of the lists are absent)."""
    if not lists or not sku_ids:
        return {}
    by_id = {pl.id: pl for pl in lists}
    rows = session.execute(
        select(PriceListItem.sku_id, PriceListItem.price, PriceListItem.price_list_id)
        .where(
            PriceListItem.price_list_id.in_(sorted(by_id)),
            PriceListItem.sku_id.in_(sorted(set(sku_ids))),
        )
        .order_by(PriceListItem.sku_id, PriceListItem.price, PriceListItem.price_list_id)
    )
    best: dict[int, tuple[int, LivePriceList]] = {}
    for sku_id, price, list_id in rows:
        best.setdefault(sku_id, (price, by_id[list_id]))
    return best


def price_for(
    session: Session, *, sku_ids: Sequence[int], channel: str = "storefront", tier: str = ""
) -> dict[int, int]:
    """What each SKU costs a customer of `tier` on `channel` now (before promotions and flash
    sales): the lowest of its list price and the live member and channel prices. Unknown
    SKUs are 404 `unknown_sku`."""
    snaps = _snapshots(session, sku_ids)
    prices = {s: snap.list_price for s, snap in snaps.items()}
    lists = matching_price_lists(session, channel=channel, tier=tier)
    for sku_id, (price, _) in best_list_prices(session, lists=lists, sku_ids=list(prices)).items():
        prices[sku_id] = min(prices[sku_id], price)
    return prices
