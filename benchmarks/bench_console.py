"""Server time of every console page (p50/p95 over repeats) on a simulated shop, with the
sign-in page (no data read) as the in-process baseline ratio.

Two figures per page: `warm` (the console's result cache holds the page's warehouse results:
every request after the first until the loader writes new data) and `cold` (the cache and its
warehouse connection are dropped before each request: a page nobody opened since the last
load; the cache's refresher recomputes recently used pages after a load in the background).
Pages that do not exist in this checkout (another area's, not written yet) are skipped.

    uv run python benchmarks/bench_console.py              # builds a shop (--days/--visitors)
    uv run python benchmarks/bench_console.py --data-dir DIR    # an existing demo shop
Target (issue 6): < 300 ms p50, < 1 s p95 per page on the default demo data (`shopops demo`:
60 days ramping to 1,000 visitors)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
    ap.add_argument("--visitors", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--cold-repeats", type=int, default=5)
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
    app = create_app(settings, engine=engine)
    client = TestClient(app, follow_redirects=False)
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
        "traffic 30d": f"/console/traffic?{month}",
        "conversion 30d": f"/console/conversion?{month}",
        "conversion by channel": f"/console/conversion?{month}&breakdown=channel",
        "customers 30d": f"/console/customers?{month}",
        "customer list segment": f"/console/customers/list?{month}&segment=important_value",
        "customer list cohort": f"/console/customers/list?{month}&cohort={end}&k=0",
        "products 30d": f"/console/products?{month}",
        "products by units": f"/console/products?{month}&rank_by=units",
        "orders": "/console/orders",
        "orders paid": "/console/orders?status=paid",
        "returns": "/console/returns",
        "promotions": "/console/promotions",
        "catalog": "/console/catalog",
        "goals": "/console/goals",
        "alerts": "/console/alerts",
        "reports": "/console/reports",
    }
    number = client.get("/console/orders").text.split('href="/console/orders/', 1)
    if len(number) > 1:
        pages["order detail"] = "/console/orders/" + number[1].split('"', 1)[0]
    top = client.get(f"/console/products?{month}").text.split("&item=", 1)
    if len(top) > 1:
        pages["product view"] = f"/console/products?{month}&item=" + top[1].split('"', 1)[0]

    def clear() -> None:
        cache = getattr(app.state, "console_cache", None)
        if cache is not None:
            cache.reset()  # no results, no open warehouse connection: as after a load

    def measure(url: str, repeats: int, cold: bool) -> tuple[float, float] | None:
        times = []
        for _ in range(repeats):
            if cold:
                clear()
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if resp.status_code == 404:
                return None
            assert resp.status_code == 200, (url, resp.status_code)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return statistics.median(times), p95

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'page':24} {'warm p50':>9} {'p95':>7} {'cold p50':>9} {'p95':>7} {'x login':>8}")
    base = None
    for name, url in pages.items():
        warm = measure(url, args.repeats, cold=False)
        if warm is None:
            print(f"{name:24} (no such page in this checkout)")
            continue
        cold = measure(url, args.cold_repeats, cold=True)
        assert cold is not None
        base = base or warm[0]
        print(
            f"{name:24} {warm[0]:9.1f} {warm[1]:7.1f} {cold[0]:9.1f} {cold[1]:7.1f}"
            f" {cold[0] / base:8.1f}"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
