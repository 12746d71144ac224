"""Domain events and the outbox.

Every state change that matters writes an `OutboxEvent` row in the same transaction as the
change, so the warehouse loader sees exactly what was committed: no event without its change,
no change without its event. Names are `<domain>.<past_verb>` (`order.paid`). Consumers are
idempotent by `id` (a UUID), so a replay doubles nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, insert, select
from sqlalchemy.orm import Mapped, Session, configure_mappers, mapped_column

from shopops.db import Base, Processor, UTCDateTime, now, set_clock
from shopops.db import _run as run_on_cursor  # the DBAPI cursor, listeners still told


class OutboxEvent(Base):
    __tablename__ = "outbox_event"

    # Sequence gives consumers a cheap, total order to resume from.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # A client-side unique value the ORM can match RETURNING rows by (a "sentinel"): the
    # events of one flush then go in one multi-row INSERT instead of one INSERT each.
    id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4()), insert_sentinel=True
    )
    name: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_outbox_event_aggregate", "aggregate_type", "aggregate_id"),)


_new_event = OutboxEvent.__mapper__.class_manager.new_instance
_COLUMNS = ("id", "name", "occurred_at", "aggregate_type", "aggregate_id", "payload")
# Inline: no RETURNING of seq (PostgreSQL's implicit one); emit_many needs none.
_INSERT = insert(OutboxEvent.__table__).inline()


class _OutboxInsert:
    """emit_many's INSERT, compiled once per dialect: its SQL (positional or named, with the
    dialect's casts) and Core's own bind processors for the timestamp and the JSON payload,
    so the stored text is what the ORM wrote."""

    __slots__ = ("at", "named", "payload", "sql")

    def __init__(self, dialect: Any) -> None:
        compiled = _INSERT.compile(dialect=dialect, column_keys=list(_COLUMNS))
        order = list(compiled.positiontup) if compiled.positional else list(_COLUMNS)
        if order != list(_COLUMNS):
            raise RuntimeError(f"unexpected outbox INSERT parameters: {order}")
        table = OutboxEvent.__table__
        for column in ("id", "name", "aggregate_type", "aggregate_id"):
            if table.c[column].type._cached_bind_processor(dialect) is not None:
                raise RuntimeError(f"outbox column {column} needs a bind processor")
        self.sql: str = compiled.string
        self.named = not compiled.positional
        self.at: Processor = table.c.occurred_at.type._cached_bind_processor(dialect)
        self.payload: Processor = table.c.payload.type._cached_bind_processor(dialect)


_PLANS: dict[str, _OutboxInsert] = {}


def _plan(dialect: Any) -> _OutboxInsert:
    plan = _PLANS.get(dialect.name)
    if plan is None:
        plan = _PLANS[dialect.name] = _OutboxInsert(dialect)
    return plan


# The variant nibble of a version-4 UUID from a random hex digit (bits 10xx).
_VARIANT = {h: "89ab"[int(h, 16) & 3] for h in "0123456789abcdef"}


def _uuid4s(n: int) -> list[str]:
    """`n` random (version 4) UUIDs as strings, from one urandom read (what `uuid4` gives,
    ~4x cheaper each)."""
    raw = os.urandom(16 * n).hex()
    v = _VARIANT
    return [
        f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{v[h[16]]}{h[17:20]}-{h[20:32]}"
        for h in (raw[k : k + 32] for k in range(0, 32 * n, 32))
    ]


# In-transaction handlers: another domain's reaction to an event (points on `order.paid`, a
# coupon released on `order.cancelled`) commits or rolls back with the change itself.
Handler = Callable[[Session, "OutboxEvent"], None]
# A handler's set-based twin for `emit_many`: the same effect as the handler run on each event.
BulkHandler = Callable[[Session, list["OutboxEvent"]], None]
_handlers: dict[str, list[Handler]] = {}
_bulk: dict[Handler, BulkHandler] = {}


def subscribe(name: str, handler: Handler) -> Handler:
    """Run `handler(session, event)` inside every transaction that emits `name` (once each)."""
    handlers = _handlers.setdefault(name, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def subscribe_bulk(handler: Handler, bulk: BulkHandler) -> BulkHandler:
    """Declare `bulk(session, events)` as the set-based form of the subscribed `handler`:
    `emit_many` calls it once with all the events instead of `handler` once per event. It
    must leave the store as the handler run on each event in order would."""
    _bulk[handler] = bulk
    return bulk


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers.get(name, []):
        _handlers[name].remove(handler)


def emit(
    session: Session,
    name: str,
    *,
    aggregate_type: str,
    aggregate_id: int | str,
    payload: dict[str, Any],
    occurred_at: dt.datetime | None = None,
) -> OutboxEvent:
    """Record a domain event in the current transaction, then run its subscribed handlers
    (in subscription order, in the same transaction: their failure undoes the change)."""
    if "." not in name:
        raise ValueError(f"event names are '<domain>.<past_verb>': {name!r}")
    event = OutboxEvent(
        id=str(uuid.uuid4()),
        name=name,
        occurred_at=occurred_at or now(session),
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
    )
    session.add(event)
    for handler in tuple(_handlers.get(name, ())):
        handler(session, event)
    return event


def _transient(**values: Any) -> OutboxEvent:
    """A transient OutboxEvent holding `values` (what `OutboxEvent(**values)` gives, without
    the constructor's per-attribute change tracking: ~5x cheaper). emit_many writes its rows
    itself and never adds these to a session; they are what its handlers read."""
    event = _new_event()
    event.__dict__.update(values)
    return event


def emit_many(
    session: Session,
    name: str,
    items: list[tuple[str, int | str, dict[str, Any], dt.datetime | None]],
) -> None:
    """`emit` of many events of one name at once: `items` are (aggregate type, aggregate id,
    payload, occurred at or None for the clock), written by one `executemany` in this order
    (`seq` follows it), then each subscribed handler runs once over all of them (its
    `subscribe_bulk` twin) or on each event in turn. Handlers of a bulk call run handler by
    handler, not event by event, so a bulk twin must not depend on another handler's effect
    on a later event. The `OutboxEvent`s handlers read are built only when there are any."""
    if "." not in name:
        raise ValueError(f"event names are '<domain>.<past_verb>': {name!r}")
    if not items:
        return
    clock = now(session)
    ids = _uuid4s(len(items))
    session.flush()  # pending ORM events first: seq keeps the order of emission
    conn = session.connection()
    plan = _plan(conn.dialect)
    at_of, dump = plan.at, plan.payload
    stored: dict[dt.datetime, Any] = {}  # most events of a call share a moment: format it once
    args: list[Any] = []
    for ident, (kind, aggregate, payload, at) in zip(ids, items, strict=True):
        when = at or clock
        value = stored.get(when)
        if value is None:
            value = stored[when] = at_of(when)
        args.append((ident, name, value, kind, str(aggregate), dump(payload)))
    if plan.named:
        args = [dict(zip(_COLUMNS, row, strict=True)) for row in args]
    run_on_cursor(conn, plan.sql, args, many=True, rows=False)
    handlers = _handlers.get(name)
    if not handlers:
        return
    configure_mappers()  # a no-op once configured; _transient needs the attributes set up
    events = [
        _transient(
            id=ident,
            name=name,
            occurred_at=at or clock,
            aggregate_type=kind,
            aggregate_id=str(aggregate),
            payload=payload,
        )
        for ident, (kind, aggregate, payload, at) in zip(ids, items, strict=True)
    ]
    for handler in tuple(handlers):
        bulk = _bulk.get(handler)
        if bulk is not None:
            bulk(session, events)
        else:
            run_each(session, handler, events)


def run_each(session: Session, handler: Handler, events: list[OutboxEvent]) -> None:
    """`handler` on each event in turn, the clock at the event's moment (as `emit` then
    would run it); the caller's clock is left as it was. A bulk twin that finds only a few
    events need work hands those back to the handler with it."""
    prior = session.info.get("now")
    try:
        for event in events:
            set_clock(session, event.occurred_at)
            handler(session, event)
    finally:
        session.info["now"] = prior


def read_events(
    session: Session, *, after_seq: int = 0, limit: int = 1000, name: str | None = None
) -> list[OutboxEvent]:
    """Events in commit order after `after_seq`, for loaders that resume where they stopped."""
    stmt = select(OutboxEvent).where(OutboxEvent.seq > after_seq)
    if name:
        stmt = stmt.where(OutboxEvent.name == name)
    return list(session.scalars(stmt.order_by(OutboxEvent.seq).limit(limit)))


def events_for(
    session: Session, *, aggregate_type: str, aggregate_id: int | str
) -> list[OutboxEvent]:
    """One aggregate's events in order: the timeline of an order, a shipment, a return."""
    stmt = (
        select(OutboxEvent)
        .where(
            OutboxEvent.aggregate_type == aggregate_type,
            OutboxEvent.aggregate_id == str(aggregate_id),
        )
        .order_by(OutboxEvent.seq)
    )
    return list(session.scalars(stmt))
