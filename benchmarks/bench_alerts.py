"""Operations (issue 7): evaluating every rule and the anomaly detector for a day, and the
detection rate / false alarms of the default rules on simulated shops.

    # 1. speed on the large store (benchmarks/gen_store.py --out /tmp/shopops-store)
    uv run python benchmarks/bench_alerts.py speed --store /tmp/shopops-store [--day 2026-11-20]
    # 2. detection and false alarms on simulated shops (a few minutes)
    uv run python benchmarks/bench_alerts.py truth [--shops 3 --visitors 600]

Speed prints the wall and CPU time of one whole evaluation (every default rule with its
attribution when it fires + the detector) next to a baseline run in the same process: one
metric (uv) evaluated for the day, so the ratio survives a noisy shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.analytics.schema import READ_SCHEMAS
from shopops.config import Settings
from shopops.db import make_engine, session_scope
from shopops.migrate import upgrade
from shopops.ops.alerts.models import Alert, AlertEvent
from shopops.ops.alerts.service import evaluate_day, install_default_rules


def _timed(fn):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def speed(store: Path, day: dt.date, repeat: int) -> None:
    wh = Warehouse(store, schemas=READ_SCHEMAS)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/ops.db")
        upgrade(engine)
        with session_scope(engine) as s:
            install_default_rules(s)
        evaluate(wh, ["uv"], Period(day, day), compare=())  # warm the file cache
        base, full = [], []
        for _ in range(repeat):
            _, w, c = _timed(lambda: evaluate(wh, ["uv"], Period(day, day), compare=()))
            base.append((w, c))

            def run():  # type: ignore[no-untyped-def]
                with session_scope(engine) as s:
                    rep = evaluate_day(s, wh, day)
                    n = len(rep.opened)
                    # Start clean so every round does the attribution work of a first run.
                    s.query(AlertEvent).delete()
                    s.query(Alert).delete()
                    return n, rep

            (n, rep), w, c = _timed(run)
            full.append((w, c))
    bw = statistics.median(w for w, _ in base)
    fw, fc = statistics.median(w for w, _ in full), statistics.median(c for _, c in full)
    print(
        f"store {store} day {day}: {len(rep.outcomes)} rules, {len(rep.anomalies)} detector "
        f"series, {n} alert(s) opened"
    )
    print(f"baseline (uv for the day): {bw * 1000:.0f} ms")
    print(f"all rules + detector:      {fw:.2f} s wall, {fc:.2f} s CPU  ({fw / bw:.1f}× baseline)")


INCIDENT_DAYS = {  # kind: (day offset before the end, expected alert key prefix)
    "stockout": (14, "hit_stockout"),
    "cpc_spike": (10, "anomaly:ad_spend/sessions@channel=paid_search"),
    "traffic_drop": (6, "channel_traffic_drop@channel=paid_search"),
    "conversion_slump": (2, "conversion_low"),
}


def _shop(cache: Path | None, tmp: str, seed: int, visitors: int, days: int, incidents, end):  # type: ignore[no-untyped-def]
    """The simulated shop's data dir: built under `cache` once (same seed and size → same
    shop), evaluated on a copy of its store database so every run starts without alerts."""
    import shutil

    from shopops.sim import SimulationConfig, build_sample_shop

    root = (cache / f"shop-{seed}-{visitors}-{days}-{len(incidents)}") if cache else Path(tmp)
    if not (root / "warehouse").is_dir():
        root.mkdir(parents=True, exist_ok=True)
        build_sample_shop(
            Settings(data_dir=root, database_url=None),
            SimulationConfig(days=days, visitors=visitors, seed=seed, end=end, incidents=incidents),
        )
    shutil.copy(root / "shop.db", Path(tmp) / "eval.db")
    return root, f"sqlite:///{tmp}/eval.db"


def _hit_stockout_days(warehouse: Path) -> set[dt.date]:
    """Days a listed hit SKU ended with nothing available, read straight from the Parquet
    files with DuckDB SQL (not through shopops): the simulator's ground truth lists only the
    stock-outs it injects, not the natural ones between two deliveries."""
    import duckdb

    rows = duckdb.sql(
        f"""select distinct s.date from read_parquet('{warehouse}/fact_stock_daily/**/*.parquet',
        hive_partitioning=true) s join read_parquet('{warehouse}/dim_product/*.parquet') p
        using (sku_id) where p.role = 'hit' and s.listed and s.available <= 0"""
    ).fetchall()
    return {r[0] for r in rows}


def truth(shops: int, visitors: int, days: int, cache: Path | None = None) -> None:
    from shopops.sim import Incident

    end = dt.date(2026, 11, 30)
    first = end - dt.timedelta(days=29)  # 30 evaluated days per shop
    detected: Counter[str] = Counter()
    false_incident: Counter[str] = Counter()
    false_clean: Counter[str] = Counter()
    natural: Counter[str] = Counter()
    rules: set[str] = set()
    for i in range(shops):
        for clean in (False, True):
            incidents = (
                ()
                if clean
                else (
                    Incident("stockout", end - dt.timedelta(days=14), days=2),
                    Incident(
                        "cpc_spike", end - dt.timedelta(days=10), channel="paid_search", depth=1.0
                    ),
                    Incident(
                        "traffic_drop", end - dt.timedelta(days=6), channel="paid_search", depth=0.9
                    ),
                    Incident("conversion_slump", end - dt.timedelta(days=2), days=2, depth=0.6),
                )
            )
            with tempfile.TemporaryDirectory() as tmp:
                seed = 100 + 2 * i + clean
                root, url = _shop(cache, tmp, seed, visitors, days, incidents, end)
                engine = make_engine(url)
                upgrade(engine)
                wh = Warehouse(root / "warehouse", schemas=READ_SCHEMAS)
                with session_scope(engine) as s:
                    rules |= {r.code for r in install_default_rules(s)}
                opened = []
                d = first
                while d <= end:
                    with session_scope(engine) as s:
                        opened += [(a.key, a.day) for a in evaluate_day(s, wh, d).opened]
                    d += dt.timedelta(days=1)
                engine.dispose()
                out_days = _hit_stockout_days(root / "warehouse")
            bad_days: set[dt.date] = set()
            for inc in incidents:
                bad_days |= {inc.day + dt.timedelta(days=k) for k in range(inc.days + 1)}
                key = INCIDENT_DAYS[inc.kind][1]
                if any(
                    (k == key or k.startswith(f"{key}@sku="))
                    and inc.day <= day <= inc.day + dt.timedelta(days=inc.days)
                    for k, day in opened
                ):
                    detected[inc.kind] += 1
            for key, day in opened:
                # A real stock-out, though the simulator's truth does not list it.
                if key.startswith("hit_stockout") and day not in bad_days and day in out_days:
                    natural["hit_stockout"] += 1
                elif day not in bad_days:
                    (false_clean if clean else false_incident)[key.split("@")[0]] += 1
            print(f"shop {i} {'clean' if clean else 'incidents'}: {opened}", flush=True)
    print(
        json.dumps(
            {
                "shops": shops,
                "visitors": visitors,
                "evaluated_days_per_shop": 30,
                "detected": {k: f"{detected[k]}/{shops}" for k in INCIDENT_DAYS},
                "false_alerts_clean_per_rule_per_30_days": {
                    k: round(v / shops, 2) for k, v in false_clean.items()
                },
                "false_alerts_incident_shops_per_30_days": {
                    k: round(v / shops, 2) for k, v in false_incident.items()
                },
                "true_alerts_on_natural_stockouts_per_30_days": {
                    k: round(v / (2 * shops), 2) for k, v in natural.items()
                },
                "rules": sorted(rules),
            },
            indent=1,
            ensure_ascii=False,
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    a = sub.add_parser("speed")
    a.add_argument("--store", type=Path, required=True)
    a.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    a.add_argument("--repeat", type=int, default=3)
    b = sub.add_parser("truth")
    b.add_argument("--shops", type=int, default=3)
    b.add_argument("--visitors", type=int, default=600)
    b.add_argument("--days", type=int, default=60)
    b.add_argument("--cache", type=Path, help="keep the simulated shops here (reruns reuse them)")
    args = p.parse_args()
    if args.what == "speed":
        speed(args.store, args.day, args.repeat)
    else:
        truth(args.shops, args.visitors, args.days, args.cache)


if __name__ == "__main__":
    main()
