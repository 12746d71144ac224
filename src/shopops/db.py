"""Engine, session factory and the unit of work.

One request (or CLI command, simulator step, job) is one transaction: the edge opens it with
`session_scope()` or the API dependency, passes the session to services, and commits once.
Services never commit. Side effects registered with `after_commit` run only if it succeeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored as UTC and always come back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: shopops stores timezone-aware UTC timestamps")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def now(session: Session) -> dt.datetime:
    """The unit of work's clock: real time, or the simulator's time when it set one."""
    clock: dt.datetime | None = session.info.get("now")
    return clock if clock is not None else utcnow()


def set_clock(session: Session, when: dt.datetime | None) -> None:
    """Make services in this session act at `when` (the simulator replays history)."""
    if when is not None and when.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    session.info["now"] = when


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN, so writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN (IMMEDIATE): a deferred reader that later writes
        # can deadlock with another and fail with "database is locked" instead of waiting.
        readonly = conn.get_execution_options().get("shopops_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (WAL, busy timeout, immediate write transactions) or PostgreSQL."""
    if url.startswith("sqlite"):
        if ":memory:" in url or url in {"sqlite://", "sqlite:///"}:
            raise ValueError("use a file database: the store is shared between threads")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=32,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_size=10, max_overflow=40, pool_pre_ping=True)


def make_test_engine(url: str) -> Engine:
    """Like `make_engine`, without pooling, for short-lived engines in tests and scripts."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        return create_engine(engine.url, poolclass=NullPool)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: API schemas are built from them after the commit.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def readonly_engine(engine: Engine) -> Engine:
    """The same pool, with transactions that only read (no write lock on SQLite)."""
    return engine.execution_options(shopops_readonly=True)


AfterCommit = Callable[[], None]


def after_commit(session: Session, fn: AfterCommit) -> None:
    """Run `fn` once the session's transaction commits; dropped if it rolls back."""
    session.info.setdefault("after_commit", []).append(fn)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    hooks: list[AfterCommit] = session.info.pop("after_commit", [])
    for fn in hooks:
        fn()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    bind = readonly_engine(engine) if readonly else engine
    session = Session(bind=bind, expire_on_commit=False, autoflush=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
