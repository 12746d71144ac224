"""Server time of every console page (p50/p95 over repeats) on a simulated shop, with the
sign-in page (no data read) as the in-process baseline ratio.

    uv run python benchmarks/bench_console.py              # builds a shop (--days/--visitors)
    uv run python benchmarks/bench_console.py --data-dir DIR    # an existing demo shop
Target (issue 6): < 300 ms p50, < 1 s p95 per page on the default demo data."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from shopops.accounts.service import create_console_user
from shopops.api.app import create_app
from shopops.config import Settings
from shopops.db import make_engine, session_scope
from shopops.migrate import upgrade
from shopops.sim import SimulationConfig, build_sample_shop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--visitors", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench_console_"))
    settings = Settings(data_dir=data_dir, database_url=None)
    end = dt.date.today() - dt.timedelta(days=1)
    if args.data_dir is None:
        t0 = time.perf_counter()
        build_sample_shop(
            settings, SimulationConfig(days=args.days, visitors=args.visitors, seed=618, end=end)
        )
        print(
            f"built shop: {args.days} days, {args.visitors} visitors/day, "
            f"{time.perf_counter() - t0:.0f}s"
        )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    user = f"bench_{int(time.time())}"
    with session_scope(engine) as s:
        create_console_user(s, username=user, role="admin", password="bench-password")
    client = TestClient(create_app(settings, engine=engine), follow_redirects=False)
    token_page = client.get("/console/login").text
    marker = 'name="csrf" value="'
    token = token_page.split(marker, 1)[1].split('"', 1)[0]
    client.post(
        "/console/login", data={"username": user, "password": "bench-password", "csrf": token}
    )
    week = f"start={end - dt.timedelta(days=6)}&end={end}"
    month = f"start={end - dt.timedelta(days=29)}&end={end}"
    pages = {
        "login (baseline)": "/console/login",
        "overview 7d": f"/console/?{week}",
        "overview 30d": f"/console/?{month}",
        "overview 30d channel": f"/console/?{month}&channel=paid_search",
        "orders": "/console/orders",
        "orders paid": "/console/orders?status=paid",
    }
    number = client.get("/console/orders").text.split('href="/console/orders/', 1)
    if len(number) > 1:
        pages["order detail"] = "/console/orders/" + number[1].split('"', 1)[0]
    base = None
    print(f"{'page':24} {'p50 ms':>8} {'p95 ms':>8} {'x login':>8}")
    for name, url in pages.items():
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (url, resp.status_code)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        base = base or p50
        print(f"{name:24} {p50:8.1f} {p95:8.1f} {p50 / base:8.1f}")


if __name__ == "__main__":
    main()
