"""Funnel over a generated `fact_events` (default 10 million events): shopops (Ibis on DuckDB)
against a straightforward pandas implementation of the same semantics.

    uv run python benchmarks/bench_funnel.py --events 10000000 [--dir /tmp/bench-funnel]

The generator writes Hive-partitioned Parquet (one folder per day) like the warehouse loader.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from shopops.analytics.analyses.funnel import funnel
from shopops.analytics.engine import Warehouse

EVENTS = ["page_view", "product_view", "add_to_cart", "begin_checkout", "pay", "search"]
WEIGHTS = [0.34, 0.33, 0.12, 0.06, 0.03, 0.12]
CHANNELS = ["direct", "organic_search", "paid_search", "private_domain", "feed_ads"]
DEVICES = ["mobile", "desktop", "tablet"]
LAYOUT = "sorted-v2"  # a new layout regenerates the data
STEPS = ["product_view", "add_to_cart", "begin_checkout", "pay"]
START = dt.date(2026, 10, 1)
DAYS = 30
ROW_GROUP = 32_768  # as tracking/facts.py: small groups so row-group statistics prune events


def generate(root: Path, events: int, seed: int = 7) -> None:
    """`events` events of `events // 10` people over 30 days, one Parquet file per day."""
    rng = np.random.default_rng(seed)
    people = max(1, events // 10)
    person = rng.integers(0, people, events)
    base = np.datetime64(START.isoformat(), "us")
    # Each person is active around a home time so steps cluster like real sessions.
    home = rng.integers(0, DAYS * 86_400_000_000, people)
    jitter = rng.exponential(4 * 3600 * 1e6, events).astype(np.int64)
    ts_us = np.clip(home[person] + jitter, 0, DAYS * 86_400_000_000 - 1)
    ts = base + ts_us.astype("timedelta64[us]")
    kind = rng.choice(len(EVENTS), events, p=WEIGHTS)
    channel = rng.integers(0, len(CHANNELS), people)[person]
    device = rng.integers(0, len(DEVICES), people)[person]
    day = (ts_us // 86_400_000_000).astype(np.int64)
    folder = root / "fact_events"
    shutil.rmtree(folder, ignore_errors=True)
    order = np.argsort(day, kind="stable")
    bounds = np.searchsorted(day[order], np.arange(DAYS + 1))
    ev = np.array(EVENTS, dtype=object)
    ch = np.array(CHANNELS, dtype=object)
    dv = np.array(DEVICES, dtype=object)
    rank = np.argsort(np.argsort(EVENTS))  # each event's place in name order
    for d in range(DAYS):
        idx = order[bounds[d] : bounds[d + 1]]
        # The warehouse's layout (tracking/facts.py): by (event, person, time) within a day.
        idx = idx[np.lexsort((ts_us[idx], person[idx].astype(str), rank[kind[idx]]))]
        part = folder / f"date={START + dt.timedelta(days=d)}"
        part.mkdir(parents=True)
        table = pa.table(
            {
                "event_id": pa.array(idx.astype(str)),
                "person_id": pa.array(person[idx].astype(str)),
                "event": pa.array(ev[kind[idx]], pa.string()),
                "ts_at": pa.array(ts[idx], pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
                "channel": pa.array(ch[channel[idx]], pa.string()),
                "device": pa.array(dv[device[idx]], pa.string()),
            }
        )
        pq.write_table(table, part / "part-0.parquet", row_group_size=ROW_GROUP)


def pandas_funnel(root: Path, steps: list[str], window: dt.timedelta, end: dt.date) -> list[int]:
    """The same strict-order, first-entry funnel, written plainly with pandas."""
    df = pd.read_parquet(root / "fact_events", columns=["person_id", "event", "ts_at", "date"])
    df = df[df["event"].isin(steps)]
    df["date"] = pd.to_datetime(df["date"].astype(str)).dt.date
    first = df[(df["event"] == steps[0]) & (df["date"] <= end)]
    per = first.groupby("person_id", observed=True)["ts_at"].min().rename("t1").reset_index()
    counts = [len(per)]
    prev = "t1"
    for k, step in enumerate(steps[1:], start=2):
        cand = df[df["event"] == step][["person_id", "ts_at"]]
        j = cand.merge(per[list(dict.fromkeys(["person_id", "t1", prev]))], on="person_id")
        j = j[(j["ts_at"] > j[prev]) & (j["ts_at"] <= j["t1"] + window)]
        tk = j.groupby("person_id", observed=True)["ts_at"].min().rename(f"t{k}").reset_index()
        per = per.merge(tk, on="person_id", how="left")
        counts.append(int(per[f"t{k}"].notna().sum()))
        prev = f"t{k}"
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--dir", default="/tmp/shopops-bench-funnel")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pandas", action="store_true")
    args = parser.parse_args()
    root = Path(args.dir)
    marker = root / f".events-{args.events}-{LAYOUT}"
    if not marker.exists():
        t0 = time.perf_counter()
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        generate(root, args.events)
        marker.touch()
        print(f"generated {args.events:,} events in {time.perf_counter() - t0:.1f} s")
    window = dt.timedelta(days=1)
    end = START + dt.timedelta(days=DAYS - 1)
    wh = Warehouse(root)
    # The machine is shared: the load says how far absolute times can be trusted.
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    times, cpus = [], []
    result = None
    for _ in range(args.runs):
        wh.refresh()
        t0, c0 = time.perf_counter(), time.process_time()
        result = funnel(wh, STEPS, start=START, end=end, window=window, breakdown="channel")
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    assert result is not None
    best = min(times)
    print(
        f"shopops funnel (DuckDB, with a channel breakdown): best {best:.3f} s of "
        f"{[round(x, 3) for x in times]} (CPU {min(cpus):.3f} s)"
    )
    print("counts:", result.counts, "median s to convert:", result.median_seconds_to_convert)
    if not args.no_pandas:
        t0, c0 = time.perf_counter(), time.process_time()
        counts = pandas_funnel(root, STEPS, window, end)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"pandas funnel: {elapsed:.3f} s (CPU {cpu:.3f} s), counts {counts}; "
            f"ratio {elapsed / best:.1f}x wall, {cpu / min(cpus):.1f}x CPU"
        )
        assert counts == result.counts, (counts, result.counts)


if __name__ == "__main__":
    main()
