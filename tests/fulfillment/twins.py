"""Two identical stores for equivalence tests: one is built, then copied (SQLite file, or a
PostgreSQL database made from it as a template), so random order and tracking numbers match
too. Snapshots read every row of the tables a test names, and the outbox's events."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.orm import Session
from tests.conftest import PG_URL, sibling_database

from shopops.db import Base, make_engine, make_test_engine, session_scope
from shopops.events import OutboxEvent

T = TypeVar("T")
Twins = Callable[[Callable[[Session], T]], tuple[Engine, Engine, T]]
# Drawn at random on each path: never equal between the stores, so left out of comparisons.
RANDOM_FIELDS = frozenset({"tracking_number"})


def _pg_clone(source: str, target: str) -> None:
    base = make_url(source)
    admin = create_engine(base.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    name = make_url(target).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Twins[Any]]:
    """`a, b, built = twins(build)`: `build(session)` runs in one unit of work on store a,
    which is then copied to b."""
    engines: list[Engine] = []

    def _make(build: Callable[[Session], T]) -> tuple[Engine, Engine, T]:
        if request.param == "postgresql":
            if not PG_URL:
                pytest.skip("set SHOPOPS_TEST_DATABASE_URL to run on PostgreSQL")
            worker = os.environ.get("PYTEST_XDIST_WORKER", "")
            url_a = sibling_database(PG_URL, f"twin_a{worker}")
            url_b = sibling_database(PG_URL, f"twin_b{worker}")
            builder = make_test_engine(url_a)
            with builder.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            url_a = f"sqlite:///{tmp_path / 'a.db'}"
            url_b = f"sqlite:///{tmp_path / 'b.db'}"
            builder = make_engine(url_a)
        Base.metadata.create_all(builder)
        with session_scope(builder) as s:
            built = build(s)
        builder.dispose()
        if request.param == "postgresql":
            _pg_clone(url_a, url_b)
        else:
            for suffix in ("", "-wal", "-shm"):
                src = tmp_path / f"a.db{suffix}"
                if src.exists():
                    shutil.copy(src, tmp_path / f"b.db{suffix}")
        a, b = make_engine(url_a), make_engine(url_b)
        engines.extend((a, b))
        return a, b, built

    yield _make
    for engine in engines:
        engine.dispose()


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in RANDOM_FIELDS}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def snapshot(engine: Engine, tables: Iterable[str]) -> dict[str, Any]:
    """Every row of `tables` (by primary key, random fields left out) and the outbox's
    events as a sorted list of (name, aggregate, payload, time)."""
    out: dict[str, Any] = {}
    meta = Base.metadata.tables
    with session_scope(engine, readonly=True) as s:
        for name in tables:
            table = meta[name]
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [_clean(dict(r)) for r in rows]
        events = s.execute(
            select(
                OutboxEvent.name,
                OutboxEvent.aggregate_type,
                OutboxEvent.aggregate_id,
                OutboxEvent.payload,
                OutboxEvent.occurred_at,
            )
        ).all()
    out["outbox_event"] = sorted(
        (
            (n, kind, ident, json.dumps(_clean(p), sort_keys=True), at.isoformat())
            for n, kind, ident, p, at in events
        )
    )
    return out
