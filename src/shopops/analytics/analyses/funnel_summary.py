"""The summaries of a funnel's step tables as Ibis tables of one schema (`kind`, `step`,
`bd`, `b`, `n`, `prev`, `start`), so that DuckDB runs them all in one statement and other
backends one query each (`funnel._run_all`)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shopops.analytics.engine import Warehouse, seconds_between


def _seconds(wh: Warehouse, a: ir.TimestampValue, b: ir.TimestampValue) -> ir.FloatingValue:
    return seconds_between(wh.backend_name, a, b)


def _summary(wh: Warehouse, reached: list[ir.Table], by: bool) -> list[ir.Table]:
    """Rows (`kind` 't' total or 'g' by breakdown, `step`, `bd`, `n`, `prev`, `start`: count
    and median seconds from the previous step and from step 1): entries counted from step 1's
    table, later steps' counts and medians in one aggregate over the union of their (much
    smaller) tables."""
    keys = ["step", "bd"] if by else ["step"]
    kind = ibis.literal("g" if by else "t")
    first = reached[0].mutate(step=ibis.literal(1, "int64"))
    entered = first.group_by(keys).aggregate(n=first.count())
    parts = [
        r.select(
            step=ibis.literal(k, "int64"),
            bd=r.bd,
            d_prev=_seconds(wh, r.tk, r.tp),
            d_start=_seconds(wh, r.tk, r.t1),
        )
        for k, r in enumerate(reached[1:], start=2)
    ]
    u = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    later = u.group_by(keys).aggregate(
        n=u.count(), prev=u.d_prev.median(), start=u.d_start.median()
    )
    none = ibis.null("float64")
    return [
        entered.select(
            kind=kind,
            step=entered.step,
            bd=entered.bd.cast("string") if by else ibis.literal(""),
            b=ibis.null("int64"),
            n=entered.n.cast("int64"),
            prev=none,
            start=none,
        ),
        later.select(
            kind=kind,
            step=later.step,
            bd=later.bd.cast("string") if by else ibis.literal(""),
            b=ibis.null("int64"),
            n=later.n.cast("int64"),
            prev=later.prev.cast("float64"),
            start=later.start.cast("float64"),
        ),
    ]


def _histogram(wh: Warehouse, done: ir.Table, width: int) -> ir.Table:
    """Rows (`kind` 'h', `b` the bin of tN − t1 in bins of `width` seconds, `n`), in the
    schema of `_summary`'s rows."""
    total_s = _seconds(wh, done.tk, done.t1)
    h = done.select(b=(total_s // width).cast("int64")).group_by("b").aggregate(n=ibis._.count())
    none = ibis.null("float64")
    return h.select(
        kind=ibis.literal("h"),
        step=ibis.null("int64"),
        bd=ibis.literal(""),
        b=h.b,
        n=h.n.cast("int64"),
        prev=none,
        start=none,
    )


def summary_parts(
    wh: Warehouse, reached: list[ir.Table], breakdown: str | None, width: int
) -> list[ir.Table]:
    """Every summary of the step tables `reached` (`funnel.step_tables`), as tables of one
    schema: totals, groups by breakdown value (with `breakdown`) and the time-to-convert
    histogram in bins of `width` seconds."""
    parts = _summary(wh, reached, False)
    if breakdown:
        parts += _summary(wh, reached, True)
    parts.append(_histogram(wh, reached[-1], width))
    return parts
