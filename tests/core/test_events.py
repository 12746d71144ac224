"""The outbox: `emit_many` leaves what `emit` of each event would, in the same order."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import now, set_clock
from shopops.events import (
    OutboxEvent,
    emit,
    emit_many,
    subscribe,
    subscribe_bulk,
    unsubscribe,
)


def test_emit_many_writes_in_order_and_runs_handlers(session: Session) -> None:
    seen: list[str] = []
    bulk_calls: list[int] = []
    clocks: list[tuple[dt.datetime, dt.datetime]] = []

    def one(_s: Session, event: OutboxEvent) -> None:
        seen.append(event.aggregate_id)

    def twin(_s: Session, events: list[OutboxEvent]) -> None:
        bulk_calls.append(len(events))

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
        events = emit_many(session, "test.happened", items)
        assert emit_many(session, "test.happened", []) == []
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
    assert {r.id for r in rows[1:]} == {e.id for e in events}
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
