"""Engine, session factory and the unit of work.

One request (or CLI command, simulator step, job) is one transaction: the edge opens it with
`session_scope()` or the API dependency, passes the session to services, and commits once.
Services never commit. Side effects registered with `after_commit` run only if it succeeds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
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


_encoder = msgspec.json.Encoder()


def dumps_json(value: Any) -> str:
    """A JSON column's text: msgspec's encoder (C, ~7x `json.dumps`: the outbox writes a
    payload an event), compact and UTF-8; `json.dumps` for what it refuses (ints past 64
    bits, keys of other types), so whatever `json.dumps` stores still stores, equal."""
    try:
        return _encoder.encode(value).decode()
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return json.dumps(value)


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
        # On the driver's cursor: one of these per unit of work (listeners still see it).
        _run(conn, "BEGIN" if readonly else "BEGIN IMMEDIATE", (), many=False, rows=False)


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
            json_serializer=dumps_json,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url, echo=echo, pool_size=10, max_overflow=40, pool_pre_ping=True,
        json_serializer=dumps_json,
    )  # fmt: skip


def make_test_engine(url: str) -> Engine:
    """Like `make_engine`, without pooling, for short-lived engines in tests and scripts."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        return create_engine(engine.url, poolclass=NullPool, json_serializer=dumps_json)
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


# --- statements on the DBAPI cursor (checkout's hot path) -------------------------------------
# SQLAlchemy's per-execution work (execution context, parameter processing, result set-up) is
# several times the driver's own cost for a one-row statement. The hot statements of checkout
# are compiled once per dialect and run on the driver's cursor, with SQLAlchemy's own bind
# processors for the values (the same stored form as through Core) and the engine's
# `before_cursor_execute` listeners still told of every statement (statement counts stay true).

Processor = Callable[[Any], Any]


class _Plan:
    __slots__ = ("defaults", "names", "processors", "sql")

    def __init__(
        self,
        sql: str,
        names: list[str] | None,
        processors: dict[str, Processor],
        defaults: dict[str, Any],
    ) -> None:
        self.sql = sql
        self.names = names  # positional order (qmark), or None for named parameters
        self.processors = processors
        self.defaults = defaults


def _processor(type_: Any, dialect: Any) -> Processor | None:
    return type_._cached_bind_processor(dialect)  # what Core applies to the same value


def _run(conn: Connection, sql: str, args: Any, *, many: bool, rows: bool) -> list[Any]:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch.before_cursor_execute
    if dispatch:
        for fn in dispatch:
            fn(conn, cursor, sql, args, None, many)
    dbapi = conn.dialect.loaded_dbapi
    try:
        if many:
            cursor.executemany(sql, args)
        else:
            cursor.execute(sql, args)
        return cursor.fetchall() if rows else []
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, args, exc, dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


class DriverStatement:
    """A Core statement with named `bindparam`s, compiled once per dialect, executed on the
    DBAPI cursor of `conn` with a dict of values; returns the rows (tuples) it returns."""

    def __init__(self, stmt: Any, *, keys: list[str] | None = None, rows: bool = True) -> None:
        self._stmt = stmt
        self._keys = keys  # an INSERT's column keys
        self._rows = rows
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Any) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            compiled = self._stmt.compile(dialect=dialect, column_keys=self._keys)
            processors = {
                name: p
                for name, bind in compiled.binds.items()
                if (p := _processor(bind.type, dialect)) is not None
            }
            defaults = {
                name: processors[name](b.value) if name in processors else b.value
                for name, b in compiled.binds.items()
                if not b.required and b.callable is None
            }
            sql = compiled.string
            names = list(compiled.positiontup) if compiled.positional else None
            if names is None:  # named: only the parameters the SQL text has
                defaults = {k: v for k, v in defaults.items() if f"%({k})s" in sql}
            plan = _Plan(sql, names, processors, defaults)
            self._plans[dialect.name] = plan
        return plan

    def _args(self, plan: _Plan, values: dict[str, Any]) -> Any:
        procs = plan.processors
        merged = dict(plan.defaults)
        for k, v in values.items():
            p = procs.get(k)
            merged[k] = p(v) if p is not None else v
        return [merged[n] for n in plan.names] if plan.names is not None else merged

    def execute(self, conn: Connection, values: dict[str, Any]) -> list[Any]:
        plan = self._plan(conn.dialect)
        return _run(conn, plan.sql, self._args(plan, values), many=False, rows=self._rows)

    def executemany(self, conn: Connection, values: list[dict[str, Any]]) -> None:
        """One `executemany` for all rows (no rows back)."""
        plan = self._plan(conn.dialect)
        _run(conn, plan.sql, [self._args(plan, v) for v in values], many=True, rows=False)


class DriverInsertMany:
    """`INSERT INTO table (columns) VALUES (…), (…) … RETURNING returning`: several rows in
    one statement on the DBAPI cursor, SQL text built once per dialect and row count. The
    RETURNING rows come back in no promised order: callers match them by a unique column."""

    def __init__(self, table: Any, columns: list[str], returning: list[str]) -> None:
        self._table = table
        self._columns = columns
        self._returning = returning
        self._sql: dict[tuple[str, int], str] = {}
        self._procs: dict[str, list[Processor | None]] = {}

    def _processors(self, dialect: Any) -> list[Processor | None]:
        procs = self._procs.get(dialect.name)
        if procs is None:
            procs = [_processor(self._table.c[c].type, dialect) for c in self._columns]
            self._procs[dialect.name] = procs
        return procs

    def _text(self, dialect: Any, n: int) -> str:
        sql = self._sql.get((dialect.name, n))
        if sql is None:
            quote = dialect.identifier_preparer.quote
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            row = "(" + ", ".join([mark] * len(self._columns)) + ")"
            sql = (
                f"INSERT INTO {quote(self._table.name)} "
                f"({', '.join(quote(c) for c in self._columns)}) "
                f"VALUES {', '.join([row] * n)} "
                f"RETURNING {', '.join(quote(c) for c in self._returning)}"
            )
            self._sql[(dialect.name, n)] = sql
        return sql

    def execute(self, conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
        dialect = conn.dialect
        procs = self._processors(dialect)
        args: list[Any] = []
        for r in rows:
            for c, p in zip(self._columns, procs, strict=True):
                v = r[c]
                args.append(p(v) if p is not None else v)
        return _run(conn, self._text(dialect, len(rows)), args, many=False, rows=True)
