"""What every analysis shares: typed input errors, table access that turns a missing table
into an empty one, date-range checks, and the Arrow schemas of the behaviour facts."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from shopops.analytics.engine import UnknownTable, Warehouse
from shopops.errors import InvalidInput


def contract_schemas() -> dict[str, pa.Schema]:
    """Every contract table's schema as read (facts with their `date` partition column), for
    tables without files yet."""
    from shopops.analytics.schema import READ_SCHEMAS

    return READ_SCHEMAS


class UnknownEvent(InvalidInput):
    code = "unknown_event"


class UnknownDimension(InvalidInput):
    code = "unknown_dimension"


class BadWindow(InvalidInput):
    code = "bad_window"


class BadPeriod(InvalidInput):
    code = "bad_period"


class BadParameter(InvalidInput):
    code = "bad_parameter"


def table(wh: Warehouse, name: str) -> ir.Table:
    """`wh.table(name)`; a table with no files yet reads as an empty table of its contract
    columns, so an analysis over no data gives empty results instead of an error."""
    try:
        return wh.table(name)
    except UnknownTable:
        schema = contract_schemas().get(name)
        if schema is None:
            raise
        wh.schemas.setdefault(name, schema)
        return wh.table(name)


def paid_days(wh: Warehouse, until: dt.date) -> ir.Table:
    """Each customer's paid days up to `until` (inclusive): `customer_id`, `paid_date`, `n`
    (paid orders), `m` (paid amount). From the loader's `paid_days` summary while it matches
    the facts (one sorted file instead of every `fact_orders` partition), else from the facts."""
    known = wh.derived("paid_days")
    if known is not None:
        d = known[0]
        d = d.filter(d.paid_date <= until)
        return d.select("customer_id", "paid_date", n=d.orders, m=d.amount)
    o = table(wh, "fact_orders")
    o = o.filter(o.paid_date.notnull(), o.customer_id.notnull(), o.paid_date <= until)
    return o.group_by("customer_id", "paid_date").aggregate(n=o.count(), m=o.paid_amount.sum())


def materialize(wh: Warehouse, expr: ir.Table, held: list[str]) -> ir.Table:
    """Compute `expr` once on the warehouse's own connection (a temp table on DuckDB, a temp
    view elsewhere) and return it as a table; its name is appended to `held` for `drop`.

    Not `Table.cache()`: over in-memory (empty) tables it would cache on Ibis's default
    backend, which the warehouse's connection cannot see."""
    name = f"_shopops_{uuid.uuid4().hex}"
    if wh.backend_name == "duckdb":
        wh.con.create_table(name, expr, temp=True)
    else:
        wh.con.create_view(name, expr)
    held.append(name)
    return wh.con.table(name)


def drop(wh: Warehouse, held: list[str]) -> None:
    """Drop what `materialize` made (never raises: cleanup must not hide a result)."""
    for name in reversed(held):
        with contextlib.suppress(Exception):
            if wh.backend_name == "duckdb":
                wh.con.drop_table(name, force=True)
            else:
                wh.con.drop_view(name, force=True)
    held.clear()


def check_period(start: dt.date | None, end: dt.date | None) -> None:
    """Raise `BadPeriod` unless start ≤ end (either may be open)."""
    if start is not None and end is not None and start > end:
        raise BadPeriod(
            f"the period starts ({start}) after it ends ({end})",
            details={"start": start.isoformat(), "end": end.isoformat()},
        )


def check_dimension(t: ir.Table, dimension: str | None, allowed: frozenset[str]) -> None:
    """Raise `UnknownDimension` unless `dimension` is None or one of `allowed` (and a column)."""
    if dimension is None:
        return
    if dimension not in allowed or dimension not in t.columns:
        raise UnknownDimension(
            f"cannot break down by {dimension!r}",
            details={"dimension": dimension, "allowed": sorted(allowed)},
        )


def execute_df(wh: Warehouse, expr: ir.Table) -> pd.DataFrame:
    """Run a table expression; the result as a pandas frame with a fresh 0..n index."""
    df = wh.execute(expr)
    return df.reset_index(drop=True)


def arrow(wh: Warehouse, expr: ir.Table) -> pa.Table:
    """`expr`'s result as Arrow, typed as Ibis gives it. On DuckDB from SQL kept by the
    expression (`metrics.compiled`): compiling costs 5-20 ms of Python per query, and the
    console and reports ask the same analyses again."""
    from shopops.analytics.metrics import compiled

    if not compiled.raw_ok(wh, expr):
        return wh.con.to_pyarrow(expr)
    result = wh.con.con.execute(compiled.COMPILED.sql(expr)).to_arrow_table()
    return expr.__pyarrow_result__(result)


def frame(wh: Warehouse, expr: ir.Table) -> pd.DataFrame:
    """A (large) result as pandas straight from Arrow: dates become datetime64, nullable ints
    floats; cheaper than Ibis's per-column conversion of `execute`."""
    return arrow(wh, expr).to_pandas(date_as_object=False)


def to_date(value: Any) -> dt.date:
    """A backend's date value (date, datetime, Timestamp or ISO text) as a `date`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def clean(value: Any) -> Any:
    """A NumPy/pandas scalar as plain JSON-able Python (NaN → None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | int | str | bool):
        if isinstance(value, float) and value != value:
            return None
        return value
    if hasattr(value, "item"):
        return clean(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as a list of JSON-able dicts."""
    return [{k: clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
