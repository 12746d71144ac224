"""The full daily report on a generated large store (benchmarks/gen_store.py: 10M events, 1M
orders, 200k customers): every metric for one day with its comparison periods (the day before,
the same day last year), the funnel, monthly retention cohorts and RFM — shopops (Ibis on
DuckDB) against a plain pandas implementation (bench_report_pandas.py; its numbers must equal
ours: the correctness check) and chDB (ClickHouse in-process, bench_report_chdb.py) running
equivalent SQL on the same Parquet files.

    uv run python benchmarks/gen_store.py --out /tmp/shopops-store      # once, ~1 min
    uv run python benchmarks/bench_report.py [--store /tmp/shopops-store] [--day 2026-11-11]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_report_pandas as pdr

from shopops.analytics.analyses.funnel import funnel
from shopops.analytics.analyses.retention import retention
from shopops.analytics.analyses.rfm import rfm
from shopops.analytics.engine import Warehouse
from shopops.analytics.report import daily_report
from shopops.analytics.schema import READ_SCHEMAS
from shopops.warehouse import derived

STEPS = ["product_view", "add_to_cart", "begin_checkout", "pay"]
WINDOW = dt.timedelta(days=1)
PERIODS = 12


def cohort_start(day: dt.date) -> dt.date:
    """The first month of the retention table: PERIODS - 1 months before `day`'s month."""
    months = day.year * 12 + day.month - 1 - (PERIODS - 1)
    return dt.date(months // 12, months % 12 + 1, 1)


def ours(root: Path, day: dt.date) -> dict[str, Any]:
    """The report through shopops' own functions, on a fresh warehouse connection."""
    wh = Warehouse(root, schemas=READ_SCHEMAS)
    # One report reads one state of the warehouse: the loader's summaries are checked once.
    with wh.pinned():
        report = daily_report(wh, day)
        f = funnel(wh, STEPS, start=day, end=day, window=WINDOW, breakdown="channel")
        ret = retention(wh, start=cohort_start(day), end=day, grain="month", periods=PERIODS)
        scored = rfm(wh, as_of=day)
    c = scored.customers
    code = c.r_high.astype(int) * 4 + c.f_high.astype(int) * 2 + c.m_high.astype(int)
    return {
        "metrics": {r.metric.code: (r.value, r.previous, r.last_year) for r in report.results()},
        "funnel": {
            "counts": f.counts,
            "groups": {k: [s.count for s in v] for k, v in f.groups.items()},
        },
        "retention": [(r.cohort, r.size, r.retained, r.repeat_in_first_period) for r in ret.rows],
        "rfm": {
            "customers": len(c),
            "by_code": [int((code == i).sum()) for i in range(8)],
            "medians": tuple(
                float(scored.medians[k]) for k in ("recency_days", "frequency", "monetary")
            ),
        },
    }


def with_pandas(root: Path, day: dt.date) -> dict[str, Any]:
    scopes = {
        "current": day,
        "previous": day - dt.timedelta(days=1),
        "last_year": day.replace(year=day.year - 1),
    }
    return {
        "metrics": pdr.metrics(root, scopes),
        "funnel": pdr.funnel(root, STEPS, day, WINDOW),
        "retention": pdr.retention(root, cohort_start(day), day, PERIODS),
        "rfm": pdr.rfm(root, day),
    }


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def differences(mine: dict[str, Any], other: dict[str, Any], label: str) -> list[str]:
    """What differs between two report results (empty: they agree)."""
    bad = []
    for code, values in mine["metrics"].items():
        theirs = other["metrics"].get(code)
        if theirs is None or not all(close(a, b) for a, b in zip(values, theirs, strict=True)):
            bad.append(f"{label}: metric {code}: ours {values} vs {theirs}")
    for key in ("funnel", "retention"):
        if mine[key] != other[key]:
            bad.append(f"{label}: {key}: ours {mine[key]} vs {other[key]}")
    r1, r2 = mine["rfm"], other["rfm"]
    if r1["by_code"] != r2["by_code"] or not all(
        close(a, b) for a, b in zip(r1["medians"], r2["medians"], strict=True)
    ):
        bad.append(f"{label}: rfm: ours {r1} vs {r2}")
    return bad


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of `runs` calls, and the last result."""
    walls, cpus, result = timed_all(fn, runs)
    return min(walls), min(cpus), result


def timed_all(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU seconds of each of `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, result


def summary_costs(root: Path) -> str:
    """What building the loader's summaries costs over the whole store (`refresh_derived`
    rebuilds one whole whenever its facts change, so a load pays it per summary it touches)."""
    parts, total_wall, total_cpu = [], 0.0, 0.0
    for d in derived.ALL:
        t0, c0 = time.perf_counter(), time.process_time()
        derived._compute(root, d)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        parts.append(f"{d.name} {wall:.2f} s (CPU {cpu:.2f})")
    days = len(list((root / "fact_orders").glob("date=*")))
    return (
        f"loader summaries, built whole over the store ({days} days; each load rebuilds the "
        f"ones whose facts changed, not incremental): {total_wall:.2f} s (CPU {total_cpu:.2f} s)"
        f" = {', '.join(parts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=Path("/tmp/shopops-store"))
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 11))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--no-chdb", action="store_true")
    parser.add_argument("--no-summary-cost", action="store_true")
    args = parser.parse_args()
    if not (args.store / "_generated.json").exists():
        sys.exit(f"no generated store at {args.store}: run benchmarks/gen_store.py --out first")
    root, day = args.store, args.day
    # The machine is shared: the load says how far absolute times can be trusted.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    walls, cpus, mine = timed_all(lambda: ours(root, day), args.runs)
    wall, cpu = min(walls), min(cpus)
    # The first run compiles the statements that later runs take from the kept SQL.
    print(
        f"shopops daily report {day} ({len(mine['metrics'])} metrics x 3 periods, funnel, "
        "retention, RFM): "
        f"best {wall:.3f} s (CPU {cpu:.3f} s); first run {walls[0]:.3f} s (CPU {cpus[0]:.3f} s)"
    )
    if not args.no_summary_cost:
        print(summary_costs(root))
    print(
        f"  gmv {mine['metrics']['gmv']}, funnel {mine['funnel']['counts']}, "
        f"{len(mine['retention'])} cohorts, {mine['rfm']['customers']:,} RFM customers"
    )
    problems: list[str] = []
    if not args.no_pandas:
        p_wall, p_cpu, theirs = timed(lambda: with_pandas(root, day), 1)
        problems += differences(mine, theirs, "pandas")
        print(
            f"pandas: {p_wall:.3f} s (CPU {p_cpu:.3f} s); ratio {p_wall / wall:.1f}x wall, "
            f"{p_cpu / cpu:.1f}x CPU; results {'agree' if not problems else 'DIFFER'}"
        )
    if not args.no_chdb:
        import bench_report_chdb as chr_

        c_wall, c_cpu, theirs = timed(lambda: chr_.report(root, day, STEPS, WINDOW), args.runs)
        diff = chr_.differences(mine, theirs)
        problems += diff
        print(
            f"chDB: best {c_wall:.3f} s (CPU {c_cpu:.3f} s); ratio {c_wall / wall:.2f}x wall, "
            f"{c_cpu / cpu:.2f}x CPU; results {'agree' if not diff else 'DIFFER'}"
        )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
