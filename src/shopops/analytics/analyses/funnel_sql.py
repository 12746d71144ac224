"""A whole funnel as one DuckDB statement: the step tables become materialized CTEs of the
query that returns every summary row, instead of temp tables each filled by its own query.

DuckDB fills a temp table through its storage layer (row groups, compression analysis): for
the ~1 M-row entry table and the step tables that was about a quarter of a 10 M-event
funnel's CPU. A materialized CTE stays an in-memory collection read by the later steps and
the summaries, all planned and run as one query (the pipelines still run on every thread).
The tables are the same Ibis expressions the other backends run (`funnel.step_tables`),
compiled to SQL; only how they are kept differs.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import ibis
import ibis.expr.types as ir

from shopops.analytics.engine import Warehouse


class Statement:
    """Collects named table expressions as the CTEs of one statement (DuckDB only)."""

    def __init__(self) -> None:
        self._ctes: list[tuple[str, str]] = []

    def keep(self, expr: ir.Table) -> ir.Table:
        """`expr` as a CTE of the statement; the returned table refers to it by name."""
        name = f"_funnel_{len(self._ctes)}"
        self._ctes.append((name, str(ibis.to_sql(expr, dialect="duckdb"))))
        return ibis.table(expr.schema(), name=name)

    def sql(self, final: ir.Table) -> str:
        body = str(ibis.to_sql(final, dialect="duckdb"))
        if not self._ctes:
            return body
        # MATERIALIZED: each step table is read by the next step and by every summary.
        ctes = ",\n".join(f'"{name}" AS MATERIALIZED (\n{sql}\n)' for name, sql in self._ctes)
        return f"WITH {ctes}\nSELECT * FROM (\n{body}\n)"


def run(wh: Warehouse, sql: str) -> list[dict[str, Any]]:
    """Run a statement on the warehouse's own DuckDB connection; its rows as dicts."""
    raw = wh.con.con  # the DuckDB connection under Ibis's backend
    return raw.execute(sql).to_arrow_table().to_pylist()


class Compiled:
    """Statements' SQL by what they were built from (steps, period, window, breakdown, the
    events' schema): compiling the Ibis expressions costs ~0.1 s of Python, serial, per
    funnel — a tenth of the 10 M-event query — and the console asks for the same funnels
    again and again. The data is read anew each run; only the text is kept."""

    LIMIT = 256

    def __init__(self) -> None:
        self._sql: dict[Hashable, str] = {}

    def get(self, key: Hashable) -> str | None:
        return self._sql.get(key)

    def put(self, key: Hashable, sql: str) -> None:
        if len(self._sql) >= self.LIMIT:
            self._sql.clear()  # simplest bound; recompiling is cheap next to a funnel
        self._sql[key] = sql
