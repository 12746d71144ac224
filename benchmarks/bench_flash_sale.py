"""A flash sale (秒杀): 2,000 buyers, released together, for a pool of 100 units, 1 per customer.

    uv run python benchmarks/bench_flash_sale.py [--database-url URL] [--buyers N] [--quick]

Target (issue 3): exactly 100 sold (pool counter, order lines and purchases agree), no
customer above the per-customer limit, and the store invariants intact (`shopops verify`), on
SQLite and on PostgreSQL. The buyers are `--buyers` attempts (default 2,000; `--quick`: 200
for 20 units) by distinct customers, except that a quarter of the customers try twice (their
two attempts land in different threads, so a customer races with itself). Each attempt is one
`place_order` of one unit of the flash SKU in its own unit of work, through the real checkout
hooks (`pricing.handlers`). `--workers` threads (default 32: fewer than the engine's
connection pool, 40 on SQLite and 50 on PostgreSQL, so nobody times out waiting for one)
wait at a barrier and are released together; each then runs its share back to back, so
every unit and every quota row is fought over. The warehouse holds more stock than the pool
(the pool is a cap on top of inventory), so only the flash sale's own checks can refuse.

Speed is reported as a RATIO to a baseline run in the same process on the same engine, shaped
the same way: the same number of threads released together placing plain checkouts of a
normal SKU (no flash sale), `--baseline` orders (default 500). Exits non-zero if any
correctness check fails (oversell, a customer above the limit, counters that disagree, an
error other than `flash_sale_sold_out` / `flash_sale_limit_reached`, a broken invariant),
never for speed. Database: as in `bench_checkout.py` (a temporary SQLite file by default;
`--reset` to reuse a scratch database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence

from bench_checkout import add_customers, build_shop, console, open_database, progress
from rich.table import Table
from sqlalchemy import Engine, func, select

from shopops.catalog import service as catalog
from shopops.db import session_scope, utcnow
from shopops.errors import ShopOpsError
from shopops.orders import service as orders
from shopops.orders.models import Order, OrderLine
from shopops.pricing import service as pricing
from shopops.pricing.models import FlashSaleItem, FlashSalePurchase, FlashSaleQuota
from shopops.verify import run_checks

FLASH_REFUSALS = frozenset({"flash_sale_sold_out", "flash_sale_limit_reached"})


def rush(
    engine: Engine,
    *,
    sku_id: int,
    customers: Sequence[int],
    workers: int,
    label: str,
    expected: frozenset[str] = FLASH_REFUSALS,
) -> tuple[list[int], Counter[str], list[BaseException], float]:
    """Each entry of `customers` tries to buy one unit; threads start together. Returns
    (customers served, refusals by code, unexpected errors, seconds from release to end)."""
    placed: list[int] = []
    refused: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(workers + 1)
    shares = [customers[w::workers] for w in range(workers)]
    done = [0]

    def worker(mine: Sequence[int]) -> None:
        barrier.wait(timeout=120)
        for customer_id in mine:
            try:
                with session_scope(engine) as s:
                    orders.place_order(s, customer_id=customer_id, lines=[(sku_id, 1)])
                with lock:
                    placed.append(customer_id)
            except ShopOpsError as exc:
                with lock:
                    if exc.code in expected:
                        refused[exc.code] += 1
                    else:
                        errors.append(exc)
            except BaseException as exc:  # collected: any other failure fails the benchmark
                with lock:
                    errors.append(exc)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, args=(m,), daemon=True) for m in shares]
    for t in threads:
        t.start()
    with progress() as bar:
        task = bar.add_task(
            f"{label}: {len(customers)} buyers, {workers} threads", total=len(customers)
        )
        barrier.wait(timeout=120)
        start = time.perf_counter()
        while any(t.is_alive() for t in threads):
            bar.update(task, completed=done[0])
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    return placed, refused, errors, elapsed


def start_sale(engine: Engine, *, sku_id: int, pool: int, limit: int) -> tuple[int, int]:
    """A sale live now on `sku_id` at a third of its list price; (sale id, flash price)."""
    with session_scope(engine) as s:
        list_price = catalog.get_sellable_skus(s, sku_ids=[sku_id])[sku_id].list_price
        flash_price = max(1, list_price // 3)
        start = utcnow() - dt.timedelta(minutes=1)
        sale = pricing.create_flash_sale(
            s,
            name="双11 秒杀 (benchmark)",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            per_customer_limit=limit,
            items=[pricing.FlashItemSpec(sku_id, flash_price, pool)],
        )
        return sale.id, flash_price


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--buyers", type=int, help="attempts (default 2000; 200 with --quick)")
    parser.add_argument("--units", type=int, help="pool size (default: buyers / 20)")
    parser.add_argument("--limit", type=int, default=1, help="per-customer limit (default 1)")
    parser.add_argument("--workers", type=int, default=32, help="threads (default 32)")
    parser.add_argument("--baseline", type=int, help="plain checkouts (default 500; 100 quick)")
    parser.add_argument("--quick", action="store_true", help="200 buyers for 20 units")
    parser.add_argument("--reset", action="store_true", help="drop the shopops tables first")
    args = parser.parse_args(argv)
    buyers = args.buyers or (200 if args.quick else 2000)
    units = args.units or (20 if args.quick else max(1, buyers // 20))
    n_baseline = args.baseline or (100 if args.quick else 500)
    workers = max(1, min(args.workers, buyers))

    engine, _ = open_database(args.database_url, reset=args.reset)
    backend = engine.dialect.name
    console.print(f"[bold]shopops flash-sale benchmark[/] on {backend} ({engine.url!r})")
    # Two SKUs: the flash SKU (warehouse stock well above the pool) and a normal one.
    shop = build_shop(engine, n_skus=2, n_customers=0, stock=max(buyers, n_baseline) * 2)
    flash_sku, plain_sku = shop.skus
    twice = buyers // 4
    customers = add_customers(engine, buyers - twice, start=200_000)
    # Shuffled (fixed seed): a customer's two attempts almost always fall to different threads.
    attempts = customers + customers[:twice]
    random.Random(3).shuffle(attempts)
    plain_buyers = add_customers(engine, n_baseline, start=400_000)

    _, base_refused, base_errors, base_elapsed = rush(
        engine,
        sku_id=plain_sku,
        customers=plain_buyers,
        workers=min(workers, n_baseline),
        label="baseline (plain SKU)",
        expected=frozenset(),
    )
    sale_id, flash_price = start_sale(engine, sku_id=flash_sku, pool=units, limit=args.limit)
    placed, refused, errors, elapsed = rush(
        engine, sku_id=flash_sku, customers=attempts, workers=workers, label="flash sale"
    )

    with session_scope(engine, readonly=True) as s:
        pool_sold = s.scalar(
            select(FlashSaleItem.sold).where(FlashSaleItem.flash_sale_id == sale_id)
        )
        line_units = s.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
                OrderLine.sku_id == flash_sku
            )
        )
        line_totals = s.scalar(
            select(func.coalesce(func.sum(OrderLine.total), 0)).where(OrderLine.sku_id == flash_sku)
        )
        purchased = s.scalar(select(func.coalesce(func.sum(FlashSalePurchase.quantity), 0)))
        quota_max = s.scalar(select(func.coalesce(func.max(FlashSaleQuota.quantity), 0)))
        per_customer = s.execute(
            select(Order.customer_id, func.sum(OrderLine.quantity))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.sku_id == flash_sku)
            .group_by(Order.customer_id)
        ).all()
        ledger = pricing.flash_ledger_problems(s)
    per_customer_max = max((int(q) for _, q in per_customer), default=0)
    checks = run_checks(engine)
    broken = [c.check.name for c in checks if not c.ok]
    oversold = max(0, int(line_units) - units)
    refusals = sum(refused.values())

    results = [
        ("units sold (order lines)", f"{line_units}", f"= {units}", line_units == units),
        ("pool counter (sold)", f"{pool_sold}", f"= {units}", pool_sold == units),
        ("flash purchases recorded", f"{purchased}", f"= {units}", purchased == units),
        ("oversold", f"{oversold}", "0", oversold == 0),
        (
            "paid at the flash price (Σ line totals)",
            f"{line_totals}",
            f"= {units * flash_price}",
            line_totals == units * flash_price,
        ),
        (
            "per-customer max (order lines / quota)",
            f"{per_customer_max} / {quota_max}",
            f"≤ {args.limit}",
            per_customer_max <= args.limit and quota_max <= args.limit,
        ),
        ("orders placed (returned)", f"{len(placed)}", f"≤ {units}", len(placed) <= units),
        (
            "refused (sold out / limit reached)",
            f"{refused.get('flash_sale_sold_out', 0)} / "
            f"{refused.get('flash_sale_limit_reached', 0)}",
            f"Σ = {buyers - len(placed)}",
            refusals == buyers - len(placed),
        ),
        (
            "flash ledger (sold / quotas = purchases)",
            "agrees" if not ledger else f"{len(ledger)} problems",
            "agrees",
            not ledger,
        ),
        ("other errors", f"{len(errors) + len(base_errors)}", "0", not errors and not base_errors),
        (
            f"`shopops verify` checks ({len(checks)})",
            "all pass" if not broken else ", ".join(broken),
            "all pass",
            not broken,
        ),
    ]
    table = Table(
        title=f"{buyers} buyers ({len(customers)} customers, {twice} trying twice) for {units} "
        f"units, limit {args.limit}, {workers} threads — {backend}",
        title_justify="left",
    )
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("", justify="center")
    for name, value, expected, ok in results:
        table.add_row(name, value, expected, "[green]✓[/]" if ok else "[red]✗[/]")
    base_per_s = n_baseline / base_elapsed
    per_s = buyers / elapsed
    table.add_row(
        f"baseline: plain checkouts/s ({n_baseline}, same threads)", f"{base_per_s:,.0f}", "", ""
    )
    table.add_row("flash-sale attempts/s (placed + refused)", f"{per_s:,.0f}", "", "")
    table.add_row(
        "ratio: flash attempts/s ÷ plain checkouts/s", f"{per_s / base_per_s:.2f}", "", ""
    )
    table.add_row("flash rush elapsed", f"{elapsed:.2f} s", "", "")
    console.print(table)
    if base_refused:
        console.print(f"baseline refusals: {dict(base_refused)}")
    for exc in (errors + base_errors)[:3]:
        console.print(f"[red]error[/]: {type(exc).__name__}: {exc}")
    if not all(ok for *_, ok in results):
        console.print("[red]correctness check failed[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
