"""A source's statements kept by the inputs that determine them, so a repeated evaluation
builds no Ibis expression at all.

`compiled` keeps SQL by expression, but building the expressions to look it up (the source,
its joins, the measures, the used-column walk) was most of a report's remaining Python. A
plan is keyed by what the caller asks (source, measures, scopes, dimension, filters, time
zone, date ranges) and records every warehouse read the build made (`Warehouse.dated`,
`table`, `derived`, the content-named calendar) with what it returned (the relation's name
and columns, a summary's info). Using a plan replays those reads first — listing the files
and registering the views as a build would — and only when each returns the same relation
are the kept statements run; anything else (a load added a partition, a summary went stale)
builds afresh. Only the text and result types are kept; the data is read anew each run.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.compute as pc
from ibis.formats.pyarrow import PyArrowData

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import compiled


@dataclass(frozen=True)
class Query:
    sql: str  # naming `compiled.SCOPED` when it reads the materialized rows
    schema: ibis.Schema  # the result's types, as Ibis would convert them
    names: tuple[str, ...]  # the measures it computes (result columns of the same names)


@dataclass(frozen=True)
class Plan:
    reads: tuple[tuple[tuple[Any, ...], Any], ...]  # (warehouse call, what it returned)
    narrow: str | None  # the materialized rows (`compiled.SCOPED`), when several queries read them
    queries: tuple[Query, ...]


class Plans:
    """Plans by key, bounded (cleared when full: rebuilding is the only cost)."""

    LIMIT = 256

    def __init__(self) -> None:
        self._plans: dict[Any, Plan] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Plan | None:
        with self._lock:
            return self._plans.get(key)

    def keep(self, key: Any, plan: Plan) -> None:
        with self._lock:
            if len(self._plans) >= self.LIMIT:
                self._plans.clear()
            self._plans[key] = plan

    def __len__(self) -> int:
        return len(self._plans)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


PLANS = Plans()


def identity(value: Any) -> Any:
    """What a warehouse read returned, comparably: a named relation's name and columns, a
    summary's with its info; anything else (an in-memory stand-in) never compares equal."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return (identity(value[0]), json.dumps(value[1], sort_keys=True))
    op = value.op()
    if isinstance(op, ops.DatabaseTable):
        return (op.name, op.schema)
    return ("unnamed", uuid.uuid4().hex)


@contextlib.contextmanager
def tracing(wh: Warehouse) -> Iterator[list[tuple[tuple[Any, ...], Any]]]:
    """The warehouse reads made within the block (this thread's), with their identities."""
    reads: list[tuple[tuple[Any, ...], Any]] = []
    outer = wh._trace_reads(reads)
    try:
        yield reads
    finally:
        wh._trace_reads(outer)


def _read(wh: Warehouse, call: tuple[Any, ...]) -> Any:
    kind = call[0]
    if kind == "dated":
        return wh.dated(call[1], None if call[2] is None else list(call[2]))
    if kind == "table":
        return wh.table(call[1])
    if kind == "derived":
        return wh.derived(call[1])
    if kind == "named":
        return compiled.named_table(wh, call[1], call[2])
    raise AssertionError(f"unknown warehouse read {kind!r}")


def replays(wh: Warehouse, plan: Plan) -> bool:
    """Whether every read of `plan` returns what it did (registering what it registers)."""
    return all(identity(_read(wh, call)) == seen for call, seen in plan.reads)


# Which of a plan's queries a row of the one statement came from (`statement`).
QUERY_TAG = "_shopops_query"


def statement(plan: Plan) -> str:
    """The plan as one statement: the materialized rows as a `MATERIALIZED` CTE (computed once,
    with no temp table: filling one goes through DuckDB's storage layer, a third of a small
    source's cost) and the queries' rows stacked `UNION ALL BY NAME`, each tagged by its index
    (a measure column another query lacks reads NULL there and is not collected)."""
    parts = [
        f"SELECT {i} AS {QUERY_TAG}, * FROM ({q.sql})" if len(plan.queries) > 1 else q.sql
        for i, q in enumerate(plan.queries)
    ]
    body = " UNION ALL BY NAME ".join(parts)
    if plan.narrow is None:
        return body
    # Ibis quotes every identifier for DuckDB; a stand-in it did not would be a bug here.
    assert all(f'"{compiled.SCOPED}"' in q.sql for q in plan.queries), "stand-in not named"
    return f'WITH "{compiled.SCOPED}" AS MATERIALIZED ({plan.narrow}) {body}'


def run(wh: Warehouse, plan: Plan) -> Iterator[tuple[list[dict[str, Any]], tuple[str, ...]]]:
    """Each query's rows (as Ibis would convert them) and the measures it computes, from
    one DuckDB statement (one round trip per source)."""
    result: pa.Table = wh.con.con.execute(statement(plan)).to_arrow_table()
    if len(plan.queries) == 1:
        q = plan.queries[0]
        yield PyArrowData.convert_table(result, q.schema).to_pylist(), q.names
        return
    tags = result.column(QUERY_TAG)
    for i, q in enumerate(plan.queries):
        rows = result.filter(pc.equal(tags, i)).select(list(q.schema.names))
        yield PyArrowData.convert_table(rows, q.schema).to_pylist(), q.names
