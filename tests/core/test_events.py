"""The outbox: `emit_many` leaves what `emit` of each event would, in the same order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shopops.db import now, set_clock
from shopops.events import (
    OutboxEvent,
    emit,
    emit_many,
    read_events,
    subscribe,
    subscribe_bulk,
    unsubscribe,
)


def test_emit_many_writes_in_order_and_runs_handlers(session: Session) -> None:
    seen: list[str] = []
    bulk_calls: list[int] = []
    clocks: list[tuple[dt.datetime, dt.datetime]] = []

    handed: list[OutboxEvent] = []

    def one(_s: Session, event: OutboxEvent) -> None:
        seen.append(event.aggregate_id)

    def twin(_s: Session, events: list[OutboxEvent]) -> None:
        bulk_calls.append(len(events))
        handed.extend(events)

    def plain(s: Session, event: OutboxEvent) -> None:
        seen.append("p" + event.aggregate_id)
        clocks.append((now(s), event.occurred_at))

    base = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    subscribe("test.happened", one)
    subscribe("test.happened", plain)
    subscribe_bulk(one, twin)
    try:
        set_clock(session, base)
        emit(session, "test.happened", aggregate_type="t", aggregate_id=0, payload={"k": 0})
        items = [
            ("t", i, {"k": i}, base + dt.timedelta(hours=i) if i > 1 else None) for i in (1, 2, 3)
        ]
        emit_many(session, "test.happened", items)
        emit_many(session, "test.happened", [])
        assert now(session) == base  # the caller's clock is left as it was
    finally:
        unsubscribe("test.happened", one)
        unsubscribe("test.happened", plain)
    session.flush()
    rows = session.scalars(
        select(OutboxEvent).where(OutboxEvent.name == "test.happened").order_by(OutboxEvent.seq)
    ).all()
    assert [r.aggregate_id for r in rows] == ["0", "1", "2", "3"]
    assert [r.payload for r in rows] == [{"k": k} for k in range(4)]
    assert [(r.id, r.payload, r.occurred_at) for r in rows[1:]] == [
        (e.id, e.payload, e.occurred_at) for e in handed
    ]
    assert [r.occurred_at for r in rows[1:]] == [
        base,
        base + dt.timedelta(hours=2),
        base + dt.timedelta(hours=3),
    ]
    # The bulk twin replaces `one` in emit_many; `plain` has none and runs per event, each at
    # its event's own moment, as `emit` then would.
    assert seen == ["0", "p0", "p1", "p2", "p3"]
    assert bulk_calls == [3]
    assert [a == b for a, b in clocks] == [True] * 4
    assert clocks[2][0] == base + dt.timedelta(hours=2)


def _stored(session: Session, name: str) -> list[tuple[object, ...]]:
    """The outbox rows of `name` as the database holds them (text, not through the ORM)."""
    sql = text(
        "SELECT name, CAST(occurred_at AS VARCHAR(40)), aggregate_type, aggregate_id,"
        " CAST(payload AS VARCHAR(2000)) FROM outbox_event WHERE name = :n ORDER BY seq"
    )
    return [tuple(r) for r in session.execute(sql, {"n": name})]


def test_emit_many_stores_what_emit_stores(session: Session) -> None:
    """Byte for byte: the timestamp and the JSON text the loaders and `read_events` read."""
    moment = dt.datetime(2026, 11, 11, 0, 0, 7, 123456, tzinfo=dt.UTC)
    other = dt.datetime(2026, 11, 11, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    payloads: list[dict[str, Any]] = [
        {"order_id": 7, "amount": 12_345, "lines": [{"sku": "A-1", "qty": 2}]},
        {"note": '中文 "quoted"', "none": None, "ok": True, "rate": 0.5},
        {},
    ]
    set_clock(session, moment)
    for i, payload in enumerate(payloads):
        at = other if i == 1 else None
        emit(
            session, "test.one", aggregate_type="o", aggregate_id=i, payload=payload, occurred_at=at
        )
    emit_many(
        session,
        "test.many",
        [("o", i, p, other if i == 1 else None) for i, p in enumerate(payloads)],
    )
    session.flush()
    one, many = _stored(session, "test.one"), _stored(session, "test.many")
    assert [r[1:] for r in many] == [r[1:] for r in one]
    assert len(many) == 3
    got = read_events(session, name="test.many")
    assert [e.payload for e in got] == payloads
    assert [e.occurred_at for e in got] == [moment, other, moment]
    assert [e.seq for e in got] == sorted(e.seq for e in got)


def test_emit_many_bad_name_and_naive_time_write_nothing(session: Session) -> None:
    with pytest.raises(ValueError, match="past_verb"):
        emit_many(session, "nodot", [("o", 1, {}, None)])
    naive = dt.datetime(2026, 11, 11)
    with pytest.raises(ValueError, match="naive"):
        emit_many(session, "test.naive", [("o", 1, {}, naive)])
    session.flush()
    assert _stored(session, "test.naive") == []
