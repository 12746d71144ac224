"""The metrics' statements as DuckDB SQL kept by the expression they were compiled from.

Compiling an Ibis expression costs tens of milliseconds of serial Python — about 40% of a
daily report's CPU over its ~22 queries — and a report asks the same queries every time. The
key is the expression itself (Ibis nodes compare by structure), so everything that shapes the
SQL is in it: the scopes' dates (a calendar named by its content), the measures, the filters,
and the files each source reads (a dated read is a temp view named by its file list, so a
load that adds or removes partitions gives a different expression and a fresh compile). Only
the text is kept; the data is read anew each run.
"""

from __future__ import annotations

import hashlib
import threading

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from shopops.analytics.engine import Warehouse

# A materialized input's stand-in name in kept SQL; each run puts its own temp table's in.
SCOPED = "_shopops_scoped_rows"


class CompiledSql:
    """SQL by expression, bounded (cleared when full: recompiling is the only cost)."""

    LIMIT = 512

    def __init__(self) -> None:
        self._sql: dict[ops.Node, str] = {}
        self._lock = threading.Lock()

    def sql(self, expr: ir.Table) -> str:
        node = expr.op()
        with self._lock:
            found = self._sql.get(node)
        if found is not None:
            return found
        text = str(ibis.to_sql(expr, dialect="duckdb"))
        with self._lock:
            if len(self._sql) >= self.LIMIT:
                self._sql.clear()
            self._sql[node] = text
        return text

    def __len__(self) -> int:
        return len(self._sql)

    def clear(self) -> None:
        with self._lock:
            self._sql.clear()


COMPILED = CompiledSql()


def raw_ok(wh: Warehouse, expr: ir.Table) -> bool:
    """Whether `expr` can run as kept SQL on the warehouse's DuckDB connection (in-memory
    stand-ins for tables without files are only visible through Ibis)."""
    return wh.backend_name == "duckdb" and not expr.op().find(ops.InMemoryTable)


def named_table(wh: Warehouse, prefix: str, data: pa.Table) -> ir.Table:
    """`data` registered on the warehouse's DuckDB connection under a name from its content
    (the same rows give the same expression, hence the same kept SQL)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    digest = hashlib.sha1(sink.getvalue().to_pybytes()).hexdigest()[:16]
    name = f"{prefix}_{digest}"
    with wh._lock:
        if name not in wh._tables:
            wh.con.con.register(name, data)
            schema = ibis.schema(
                {f.name: ibis.dtype(f.type, nullable=f.nullable) for f in data.schema}
            )
            wh._tables[name] = ops.DatabaseTable(
                name, schema=schema, source=wh.con, namespace=ops.Namespace()
            ).to_expr()
        table = wh._tables[name]
    return wh._noted(("named", prefix, data), table)


def stand_in(wh: Warehouse, schema: ibis.Schema) -> ir.Table:
    """A table of `schema` named `SCOPED`, for queries over a materialized input."""
    return ops.DatabaseTable(
        SCOPED, schema=schema, source=wh.con, namespace=ops.Namespace()
    ).to_expr()
