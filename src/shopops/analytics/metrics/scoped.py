"""One source's measures for a set of scopes: the source's rows joined to a calendar of the
scopes, every measure of the source in one aggregate query (`group by _scope`, plus one query
per custom measure), from a kept plan (`plans`) when the warehouse reads replay."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from shopops.analytics.analyses._common import drop, materialize
from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import compiled, plans
from shopops.analytics.metrics.measures import Measure
from shopops.analytics.metrics.sources import SOURCES, Context
from shopops.analytics.periods import Period

Key = tuple[str, str | None]  # (scope, dimension value or None for the total)


def _day_bounds(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _calendar(
    scopes: Mapping[str, Period], kind: str, tz: ZoneInfo, wh: Warehouse | None = None
) -> ir.Table:
    """Each date's (or each scope's instants') scopes; on DuckDB a table named by its content,
    so the same scopes give the same expression and its SQL is kept (`compiled`)."""

    def table(data: pa.Table) -> ir.Table:
        if wh is not None and wh.backend_name == "duckdb":
            return compiled.named_table(wh, f"_calendar_{kind}", data)
        return ibis.memtable(data)

    if kind == "date":
        rows = [(day, sid, p.start, p.end) for sid, p in scopes.items() for day in p.dates()]
        return table(
            pa.table(
                {
                    "_day": pa.array([r[0] for r in rows], pa.date32()),
                    "_scope": pa.array([r[1] for r in rows], pa.string()),
                    "_start": pa.array([r[2] for r in rows], pa.date32()),
                    "_end": pa.array([r[3] for r in rows], pa.date32()),
                }
            )
        )
    ts = pa.timestamp("us", tz="UTC")
    items = list(scopes.items())
    return table(
        pa.table(
            {
                "_scope": pa.array([sid for sid, _ in items], pa.string()),
                "_start": pa.array([p.start for _, p in items], pa.date32()),
                "_end": pa.array([p.end for _, p in items], pa.date32()),
                "_lo": pa.array([_day_bounds(p.start, tz) for _, p in items], ts),
                "_hi": pa.array(
                    [_day_bounds(p.end + dt.timedelta(days=1), tz) for _, p in items], ts
                ),
            }
        )
    )


def _py(value: Any) -> float | int:
    """A result scalar as a plain number; missing sums count 0."""
    if value is None:
        return 0
    try:
        if math.isnan(value):
            return 0
    except TypeError:
        return 0
    f = float(value)
    return int(f) if f.is_integer() else f


def _used_columns(
    s: ir.Table,
    keys: Sequence[str],
    plain: Sequence[Measure],
    shared: Mapping[Any, list[str]],
) -> list[str]:
    """The columns of `s` that `keys` and the measures' expressions over it read."""
    exprs: list[ir.Expr] = [m.agg(s) for m in plain if m.agg is not None]
    exprs += [custom(s, keys) for custom in shared]
    used = set(keys)
    for e in exprs:
        used.update(f.name for f in e.op().find(ops.Field) if f.rel == s.op())
    return [c for c in s.columns if c in used]


def _run_source(
    ctx: Context,
    source_name: str,
    measures: Sequence[Measure],
    scopes: Mapping[str, Period],
    by: str | None,
    filters: Mapping[str, list[str]],
    tz: ZoneInfo,
) -> dict[Key, dict[str, float | int]]:
    """All `measures` of one source for all `scopes` (one query, plus one per custom measure):
    from a kept plan when its reads replay (`plans`), else built, run and kept."""
    keys = ["_scope", *([f"_by_{by}"] if by else [])]
    out: dict[Key, dict[str, float | int]] = defaultdict(dict)

    def collect(rows: list[dict[str, Any]], names: Sequence[str]) -> None:
        for row in rows:
            key = (row["_scope"], str(row[keys[1]]) if by else None)
            for name in names:
                out[key][name] = _py(row[name])

    # Everything that shapes the statements besides the warehouse reads a plan replays.
    plan_key = (
        source_name,
        tuple(m.name for m in measures),
        tuple((sid, p.start, p.end) for sid, p in scopes.items()),
        by,
        tuple((dim, tuple(values)) for dim, values in filters.items()),
        tz.key,
        tuple(ctx.ranges),
    )
    if ctx.wh.backend_name == "duckdb":
        plan = plans.PLANS.get(plan_key)
        if plan is not None and plans.replays(ctx.wh, plan):
            for rows, names in plans.run(ctx.wh, plan):
                collect(rows, names)
            return out
    with plans.tracing(ctx.wh) as reads:
        kept = _build_and_run(ctx, source_name, measures, scopes, keys, filters, tz, collect)
    if kept is not None:
        plans.PLANS.keep(plan_key, plans.Plan(tuple(reads), kept[0], tuple(kept[1])))
    return out


def _build_and_run(
    ctx: Context,
    source_name: str,
    measures: Sequence[Measure],
    scopes: Mapping[str, Period],
    keys: list[str],
    filters: Mapping[str, list[str]],
    tz: ZoneInfo,
    collect: Callable[[list[dict[str, Any]], Sequence[str]], None],
) -> tuple[str | None, list[plans.Query]] | None:
    """Build the source's statements, run them into `collect`; what a plan keeps (the SQL
    filling the materialized rows, the queries) when they ran as kept SQL, else None."""
    source = SOURCES[source_name]
    features = frozenset().union(*(m.features for m in measures))
    by = keys[1][len("_by_") :] if len(keys) > 1 else None
    dims = list(dict.fromkeys([*([by] if by else []), *filters]))
    t = source.build(ctx, dims, features)
    for dim, values in filters.items():
        t = t.filter(t[f"_by_{dim}"].isin(values))
    cal = _calendar(scopes, source.scope, tz, ctx.wh)
    if source.scope == "date":
        s = t.inner_join(cal, t._d == cal._day)
    else:
        # The scopes' instants first, as constants: the range join then meets a few rows.
        bounds = [
            (_day_bounds(p.start, tz), _day_bounds(p.end + dt.timedelta(days=1), tz))
            for p in scopes.values()
        ]
        inside = ibis.or_(*[(t._ts >= lo) & (t._ts < hi) for lo, hi in bounds])
        t = t.filter(inside)
        s = t.inner_join(cal, (t._ts >= cal._lo) & (t._ts < cal._hi))

    plain = [m for m in measures if m.agg is not None]
    shared: dict[Any, list[str]] = defaultdict(list)
    for m in measures:
        if m.custom is not None:
            shared[m.custom].append(m.name)
    several = len(shared) + bool(plain) > 1
    # On DuckDB the statements run from kept SQL as one statement (`plans.statement`),
    # unless in-memory stand-ins of file-less tables are read (only Ibis's own execution
    # registers those).
    if compiled.raw_ok(ctx.wh, s):
        narrow_sql: str | None = None
        if several:
            # Several queries read the scoped rows: compute them (scan, joins) once, keeping
            # only the columns the measures read (a fact's wide columns cost more than the rest).
            narrow = s.select(*_used_columns(s, keys, plain, shared))
            narrow_sql = compiled.COMPILED.sql(narrow)
            s = compiled.stand_in(ctx.wh, narrow.schema())
        queries = [
            plans.Query(compiled.COMPILED.sql(q), q.schema(), tuple(names))
            for q, names in _queries(s, keys, plain, shared)
        ]
        for rows, names in plans.run(ctx.wh, plans.Plan((), narrow_sql, tuple(queries))):
            collect(rows, names)
        return narrow_sql, queries
    held: list[str] = []
    try:
        if several:
            narrow = s.select(*_used_columns(s, keys, plain, shared))
            s = materialize(ctx.wh, narrow, held)
        for q, names in _queries(s, keys, plain, shared):
            # Arrow, not pandas: no conversion cost, and ints stay ints.
            collect(ctx.wh.con.to_pyarrow(q).to_pylist(), names)
    finally:
        drop(ctx.wh, held)
    return None


def _queries(
    s: ir.Table, keys: list[str], plain: Sequence[Measure], shared: Mapping[Any, list[str]]
) -> list[tuple[ir.Table, list[str]]]:
    """The source's queries over its scoped rows `s`: the plain measures' aggregate, then one
    per custom function, each with the measures it computes."""
    out: list[tuple[ir.Table, list[str]]] = []
    if plain:
        query = s.group_by(keys).aggregate(**{m.name: m.agg(s) for m in plain})  # type: ignore[misc]
        out.append((query, [m.name for m in plain]))
    out += [(custom(s, keys), names) for custom, names in shared.items()]
    return out
