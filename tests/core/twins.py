"""Checking a `subscribe_bulk` twin: the handler on each event and the twin on all of them,
each in a transaction rolled back afterwards, must leave the same rows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.events import OutboxEvent, run_each

T0 = dt.datetime(2026, 11, 11, 3, tzinfo=dt.UTC)


def events(name: str, payloads: list[dict[str, Any]]) -> list[OutboxEvent]:
    """Transient events a minute apart (as emit_many hands them to handlers)."""
    return [
        OutboxEvent(
            id=str(uuid.uuid4()),
            name=name,
            occurred_at=T0 + dt.timedelta(minutes=i),
            aggregate_type="order",
            aggregate_id=str(p.get("order_id", i)),
            payload=p,
        )
        for i, p in enumerate(payloads)
    ]


def dump(s: Session, tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of `tables`: the outbox without seq and id, by name then seq; the others
    without their id column (PostgreSQL's sequences don't roll back), sorted."""
    s.flush()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for t in tables:
        if t == "outbox_event":
            sql = (
                "SELECT name, aggregate_type, aggregate_id, CAST(payload AS VARCHAR(4000)),"
                " occurred_at FROM outbox_event ORDER BY name, seq"
            )
            out[t] = [tuple(r) for r in s.execute(text(sql))]
            continue
        rows = [tuple(r)[1:] for r in s.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
        out[t] = sorted(rows, key=repr)
    return out


def after(
    engine: Engine,
    run: Callable[[Session, list[OutboxEvent]], None],
    batch: list[OutboxEvent],
    tables: list[str],
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of `tables` once `run(session, batch)` ran, then rolled back."""
    with engine.connect() as conn:
        trans = conn.begin()
        s = Session(bind=conn, autoflush=False)
        try:
            set_clock(s, T0)
            run(s, batch)
            return dump(s, tables)
        finally:
            s.close()
            trans.rollback()


def one_by_one(handler: Callable[[Session, OutboxEvent], None]) -> Callable[..., None]:
    """The handler run on each event of a batch, as emit_many runs one without a twin."""
    return lambda s, batch: run_each(s, handler, batch)
