"""What pricing may apply right now, cached per process so that checkout pays nothing for it.

The checkout hooks run on every preview and order; most of the time no flash sale or price
list concerns the cart. They read the definitions (not the counters) of the flash sales and
price lists that are running or still to come from a per-process snapshot, refreshed:
- after `CACHE_TTL_SECONDS` (other processes' changes are seen within that time),
- at once after a transaction of this process changed pricing (the write marks the session;
  the snapshot is dropped when that transaction ends, committed or not),
- when the unit of work's clock is earlier than the snapshot's (the simulator rewinds).
A session holding uncommitted pricing writes never fills the shared snapshot: it reads its
own view, so no other thread sees a sale that may still roll back.

Counters (pool sold, a customer's units) are never cached: the order hook claims them with
conditional UPDATEs, which are the authority. A stale snapshot can at worst price a cart at
the list price for a few seconds after a sale is created in another process.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Integer, String, event, literal, or_, select, union_all
from sqlalchemy.orm import Session, SessionTransaction

from shopops.db import now, session_scope
from shopops.pricing.models import FlashSale, FlashSaleItem, FlashSaleStatus, PriceList

CACHE_TTL_SECONDS = 5.0
_DIRTY = "shopops.pricing.dirty"


@dataclass(frozen=True, slots=True)
class LiveFlashItem:
    """A flash SKU's definition: its sale, window, price, pool size and per-customer limit."""

    sale_id: int
    item_id: int
    sku_id: int
    name: str
    flash_price: int
    pool: int
    limit: int
    starts_at: dt.datetime
    ends_at: dt.datetime

    def live_at(self, when: dt.datetime) -> bool:
        return self.starts_at <= when < self.ends_at


@dataclass(frozen=True, slots=True)
class LivePriceList:
    id: int
    code: str
    name: str
    kind: str
    target: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None

    def live_at(self, when: dt.datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= when) and (
            self.ends_at is None or when < self.ends_at
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    flash: Mapping[int, tuple[LiveFlashItem, ...]]  # sku_id → its running/coming sales
    price_lists: tuple[LivePriceList, ...]
    as_of: dt.datetime
    loaded: float  # time.monotonic() of the load


_snapshots: dict[str, Snapshot] = {}


# Rendering the URL costs more than the rest of a fresh-snapshot check: once per engine.
_url_keys: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _key(session: Session) -> str:
    engine = session.get_bind().engine
    key = _url_keys.get(engine)
    if key is None:
        key = _url_keys[engine] = engine.url.render_as_string(hide_password=True)
    return key


def _load(session: Session, at: dt.datetime) -> Snapshot:
    """Both sets in one statement (a UNION ALL), so a reload costs checkout one statement."""
    none_int = literal(None, Integer)
    none_str = literal(None, String)
    flash_rows = (
        select(
            literal("f", String).label("tag"),
            FlashSale.id.label("a"),
            FlashSaleItem.id.label("b"),
            FlashSaleItem.sku_id.label("c"),
            FlashSaleItem.flash_price.label("d"),
            FlashSaleItem.pool.label("e"),
            FlashSale.per_customer_limit.label("g"),
            FlashSale.name.label("s1"),
            none_str.label("s2"),
            none_str.label("s3"),
            FlashSale.starts_at.label("t1"),
            FlashSale.ends_at.label("t2"),
        )
        .join(FlashSale, FlashSale.id == FlashSaleItem.flash_sale_id)
        .where(FlashSale.status == FlashSaleStatus.ACTIVE, FlashSale.ends_at > at)
    )
    list_rows = select(
        literal("p", String),
        PriceList.id,
        none_int,
        none_int,
        none_int,
        none_int,
        none_int,
        PriceList.code,
        PriceList.name,
        PriceList.kind + literal(":", String) + PriceList.target,
        PriceList.starts_at,
        PriceList.ends_at,
    ).where(PriceList.active, or_(PriceList.ends_at.is_(None), PriceList.ends_at > at))
    union = union_all(flash_rows, list_rows).subquery()
    rows = session.execute(select(union).order_by(union.c.tag, union.c.t1, union.c.b, union.c.a))
    flash: dict[int, list[LiveFlashItem]] = {}
    lists: list[LivePriceList] = []
    for tag, a, b, c, d, e, g, s1, s2, s3, t1, t2 in rows:
        if tag == "f":
            item = LiveFlashItem(a, b, c, s1, d, e, g, _aware(t1), _aware(t2))
            flash.setdefault(item.sku_id, []).append(item)
        else:
            kind, _, target = s3.partition(":")
            lists.append(LivePriceList(a, s1, s2, kind, target, _aware(t1), _aware(t2)))
    return Snapshot(
        {sku: tuple(items) for sku, items in flash.items()},
        tuple(sorted(lists, key=lambda pl: pl.id)),
        at,
        time.monotonic(),
    )


def _aware(value: Any) -> Any:
    """Times through a UNION lose the column type: SQLite gives text, PostgreSQL aware."""
    if value is None or (isinstance(value, dt.datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def live_state(session: Session) -> Snapshot:
    """The flash sales and price lists running or still to come, as of the session's clock
    (0 statements while the process's snapshot is fresh, 1 when it is reloaded)."""
    at = now(session)
    if session.info.get(_DIRTY):
        return _load(session, at)
    key = _key(session)
    snap = _snapshots.get(key)
    if snap is None or time.monotonic() - snap.loaded > CACHE_TTL_SECONDS or at < snap.as_of:
        snap = _load(session, at)
        _snapshots[key] = snap
    return snap


def mark_changed(session: Session) -> None:
    """This transaction changed flash sales or price lists: drop the snapshot now and again
    when it ends."""
    session.info[_DIRTY] = True
    invalidate()


def invalidate() -> None:
    """Forget every snapshot (the next checkout reloads)."""
    _snapshots.clear()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_DIRTY, False):
        invalidate()


def warm(engine: Engine) -> None:
    """Load the snapshot for `engine` now (app start-up, a fresh test database), so that the
    first checkout does not pay for it."""
    with session_scope(engine, readonly=True) as session:
        _snapshots[_key(session)] = _load(session, now(session))
