"""The HTTP API under load: storefront product detail (target >= 3,000 req/s) and add-to-cart
(target p50 < 15 ms), each against a baseline measured the same way.

    uv run python benchmarks/bench_http.py [--duration 10] [--connections 64] [--workers N]
                                           [--samples 400] [--database-url URL] [--no-uncached]

What it does, all on 127.0.0.1:
1. builds a store in a temporary data directory (SQLite unless --database-url, which must name
   an empty database; the schema comes from the models, stamped as the newest migration):
   40 listed products with 2 SKUs each and stock, one shopper with a storefront API key, all
   through the services;
2. starts `shopops serve` as a subprocess on a free port with the production worker count
   (default: the CPU count) and waits for /healthz;
3. runs `wrk -t2 -cC -dDs` against GET /healthz (the baseline: routing, middleware and one
   `SELECT 1`) and against GET /storefront/products/{id} cycling over every product (a Lua
   script), and prints req/s and the ratio; then (unless --no-uncached) the same against a
   second server with the storefront cache off (SHOPOPS_STOREFRONT_CACHE_SECONDS=0);
4. measures POST /storefront/cart/lines (add-to-cart, one unit of one of 5 SKUs of different
   products: a 5-line cart, returned whole in each answer) sequentially with httpx over one
   keep-alive connection, p50/p95, against GET /healthz measured the same way.

wrk and the server share the machine's cores (2 here): that is the test condition. The rate
limiter stays on, set high enough never to refuse (wrk is one caller), so its cost is measured.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

console = Console()

PRODUCTS = 40
SKUS_PER_PRODUCT = 2
CART_LINES = 5  # a shopper's cart is a few lines; add-to-cart returns the whole cart


def build_store(database_url: str) -> tuple[list[int], list[int], str]:
    """A sample catalog with stock and a shopper; returns (product ids, sku ids, storefront key)."""
    from alembic import command

    import shopops.models  # noqa: F401  (registers every table and hook)
    from shopops.accounts.service import create_api_key
    from shopops.catalog import service as catalog
    from shopops.db import Base, make_engine, session_scope
    from shopops.inventory import service as inventory
    from shopops.members import service as members
    from shopops.migrate import alembic_config

    engine = make_engine(database_url)
    # The schema of the models, stamped as the newest migration (as the tests build it), so
    # `serve`'s upgrade on start has nothing to do and a migration in the works can't stop us.
    Base.metadata.create_all(engine)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "heads")
        conn.commit()
    product_ids: list[int] = []
    sku_ids: list[int] = []
    with session_scope(engine) as s:
        wh = inventory.create_warehouse(s, code="BENCH-SH", name="上海仓", region="上海")
        root = catalog.create_category(s, name="数码配件", slug="bench-digital")
        leaves = [
            catalog.create_category(s, name=name, slug=f"bench-{i}", parent_id=root.id)
            for i, name in enumerate(("充电器", "数据线", "耳机", "移动电源"))
        ]
        brands = [
            catalog.create_brand(s, name=name, slug=f"bench-brand-{i}")
            for i, name in enumerate(("安克", "绿联", "倍思"))
        ]
        for n in range(PRODUCTS):
            price = 4900 + 1000 * (n % 20)
            specs = [
                catalog.SkuSpec(
                    code=f"BENCH-{n:03d}-{v}",
                    list_price=price + 500 * v,
                    cost=(price + 500 * v) // 2,
                    attributes={"colour": ("黑色", "白色")[v]},
                )
                for v in range(SKUS_PER_PRODUCT)
            ]
            product = catalog.create_product(
                s,
                title=f"氮化镓快充充电器 {n}号 65W",
                description="双口快充，折叠插脚，适配笔记本与手机。" * 3,
                category_id=leaves[n % len(leaves)].id,
                brand_id=brands[n % len(brands)].id,
                images=[f"https://img.example.com/p/{n}/{i}.jpg" for i in range(3)],
                skus=specs,
            )
            for status in ("in_review", "listed"):
                catalog.change_product_status(s, product_id=product.id, status=status)
            product_ids.append(product.id)
            for sku in product.skus:
                inventory.receive_stock(s, sku_id=sku.id, warehouse_id=wh.id, quantity=100_000)
                sku_ids.append(sku.id)
        register = getattr(members, "register_customer", None)
        if register is None:  # the members service package is being split; its module holds it
            from shopops.members.service.customers import register_customer as register
        shopper = register(s, name="压测顾客", phone="13900009999")
        _, key = create_api_key(s, role="storefront", name="bench", customer_id=shopper.id)
    engine.dispose()
    return product_ids, sku_ids, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(data_dir: Path, database_url: str, workers: int, **env: str) -> Iterator[str]:
    """`shopops serve` in a subprocess; yields its base URL once /healthz answers."""
    port = free_port()
    exe = shutil.which("shopops", path=str(Path(sys.executable).parent)) or "shopops"
    environ = {
        **os.environ,
        "SHOPOPS_DATA_DIR": str(data_dir),
        "SHOPOPS_DATABASE_URL": database_url,
        # wrk is one caller: high enough never to refuse, so only the limiter's cost shows.
        "SHOPOPS_RATE_LIMIT_PER_MINUTE": "1000000000",
        "SHOPOPS_RATE_LIMIT_BURST": "1000000000",
        **env,
    }
    cmd = [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer /healthz within 180 s")
            time.sleep(0.2)
        # Every worker should be up before the clock starts: a few more probes.
        for _ in range(20):
            httpx.get(f"{base}/healthz", timeout=5)
        time.sleep(1.0)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(
    url: str, *, duration: int, connections: int, script: Path | None = None
) -> dict[str, float]:
    """Run wrk; returns req/s, latency p50/p99 (ms) and the count of non-2xx/3xx answers."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
        return float(m.group(1)) * scale

    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "bad": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def product_script(tmp: Path, product_ids: list[int]) -> Path:
    path = tmp / "products.lua"
    ids = ",".join(str(i) for i in product_ids)
    path.write_text(
        f"""
local ids = {{{ids}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/storefront/products/" .. ids[(i % #ids) + 1])
end
"""
    )
    return path


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per call of `fn(i)`, sequentially."""
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure_cart(base: str, key: str, sku_ids: list[int], samples: int) -> dict[str, list[float]]:
    """Add-to-cart over a shopper's cart of CART_LINES lines (each add raises one line's
    quantity by 1 after the first round), and GET /healthz, both sequential."""
    sku_ids = sku_ids[::SKUS_PER_PRODUCT][:CART_LINES]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:

        def health(_: int) -> None:
            client.get("/healthz").raise_for_status()

        def add(i: int) -> None:
            resp = client.post(
                "/storefront/cart/lines", json={"sku_id": sku_ids[i % len(sku_ids)], "quantity": 1}
            )
            if resp.status_code != 200:
                raise SystemExit(f"add-to-cart failed: {resp.status_code} {resp.text}")

        timed(health, 30)  # warm-up: connections, caches
        timed(add, 10)
        return {"healthz": timed(health, samples), "add_to_cart": timed(add, samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--samples", type=int, default=400, help="sequential requests each")
    parser.add_argument("--database-url", default=None, help="an empty database (default SQLite)")
    parser.add_argument("--no-uncached", action="store_true", help="skip the cache-off run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="shopops-bench-http-") as tmpdir:
        tmp = Path(tmpdir)
        url = args.database_url or f"sqlite:///{tmp / 'shop.db'}"
        backend = url.split(":", 1)[0]
        console.print(f"building the store ({PRODUCTS} products, {backend}) …")
        product_ids, sku_ids, key = build_store(url)
        script = product_script(tmp, product_ids)
        runs: list[tuple[str, dict[str, float]]] = []
        kw = {"duration": args.duration, "connections": args.connections}
        with server(tmp, url, args.workers) as base:
            console.print(f"serving on {base} with {args.workers} worker(s); wrk …")
            wrk(f"{base}/healthz", duration=2, connections=args.connections)  # warm-up
            runs.append(("GET /healthz (baseline)", wrk(f"{base}/healthz", **kw)))
            runs.append(
                ("GET /storefront/products/{id}", wrk(base, script=script, **kw))  # type: ignore[arg-type]
            )
            cart = measure_cart(base, key, sku_ids, args.samples)
        if not args.no_uncached:
            with server(tmp, url, args.workers, SHOPOPS_STOREFRONT_CACHE_SECONDS="0") as base:
                wrk(base, script=script, duration=2, connections=args.connections)
                runs.append(
                    (
                        "GET /storefront/products/{id}, cache off",
                        wrk(base, script=script, **kw),  # type: ignore[arg-type]
                    )
                )

    baseline = runs[0][1]["rps"]
    table = Table(
        title=f"HTTP throughput: wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"{args.workers} worker(s), {backend}, {os.cpu_count()} CPUs shared with wrk"
    )
    for col in ("route", "req/s", "× healthz", "p50 ms", "p99 ms", "non-2xx"):
        table.add_column(col, justify="left" if col == "route" else "right")
    for name, r in runs:
        table.add_row(
            name,
            f"{r['rps']:,.0f}",
            f"{r['rps'] / baseline:.2f}",
            f"{r['p50']:.2f}",
            f"{r['p99']:.2f}",
            f"{r['bad']:.0f}",
        )
    console.print(table)
    target = runs[1][1]["rps"]
    console.print(
        f"product detail: {target:,.0f} req/s — target ≥ 3,000: "
        + ("[green]met[/]" if target >= 3000 else "[red]not met[/]")
    )

    lat = Table(title=f"Sequential latency over HTTP (httpx, keep-alive, {args.samples} requests)")
    for col in ("request", "p50 ms", "p95 ms", "mean ms"):
        lat.add_column(col, justify="left" if col == "request" else "right")
    for name, values in (
        ("GET /healthz (baseline)", cart["healthz"]),
        ("POST /storefront/cart/lines (add-to-cart)", cart["add_to_cart"]),
    ):
        lat.add_row(
            name, f"{p(values, 50):.2f}", f"{p(values, 95):.2f}", f"{statistics.fmean(values):.2f}"
        )
    console.print(lat)
    add50 = p(cart["add_to_cart"], 50)
    console.print(
        f"add-to-cart p50: {add50:.2f} ms — target < 15 ms: "
        + ("[green]met[/]" if add50 < 15 else "[red]not met[/]")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
