"""A rush on the last units: 1,000 buyers, released together, for a SKU with 100 units.

    uv run python benchmarks/bench_oversell.py [--database-url URL] [--orders N] [--quick]

Target (issue 2): exactly 100 orders, 0 oversold, and the stock ledger consistent
(`shopops verify`: on hand = Σ movements, reserved = Σ open reservations, no negative stock),
on SQLite and on PostgreSQL. `--orders N` is the number of buyers (default 1,000; `--quick`:
200 buyers for 20 units), each a distinct customer placing one order for one unit through
`shopops.orders.service.place_order` in its own unit of work. `--workers` threads (default
100, a bounded pool) wait at a barrier and are released together; each then places the
orders of its share of the buyers back to back, so every unit is fought over.

Speed is reported, as a RATIO to bare transactions/s (one-row INSERT + COMMIT, same engine,
same process), never judged. Exits non-zero if any correctness check fails: orders ≠ units,
stock sold or reserved beyond what was there, a buyer who got an error other than
`out_of_stock`, or a broken invariant. Database: as in `bench_checkout.py` (a temporary SQLite
file by default; `--reset` to reuse a scratch database).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence

from bench_checkout import (
    add_customers,
    bare_transactions_per_s,
    build_shop,
    console,
    open_database,
    progress,
)
from rich.table import Table
from sqlalchemy import Engine, func, select

from shopops.db import session_scope
from shopops.inventory.errors import OutOfStock
from shopops.inventory.models import StockLevel
from shopops.orders import service as orders
from shopops.orders.models import Order, OrderLine
from shopops.verify import run_checks


def rush(
    engine: Engine, *, sku_id: int, customers: Sequence[int], workers: int
) -> tuple[list[int], Counter[str], list[BaseException], float]:
    """Every customer tries to buy one unit; returns (orders placed, refusals by code,
    unexpected errors, seconds from release to the last order)."""
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
                    order = orders.place_order(s, customer_id=customer_id, lines=[(sku_id, 1)])
                with lock:
                    placed.append(order.id)
            except OutOfStock as exc:
                with lock:
                    refused[exc.code] += 1
            except BaseException as exc:  # collected: any other failure fails the benchmark
                with lock:
                    errors.append(exc)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, args=(m,), daemon=True) for m in shares]
    for t in threads:
        t.start()
    with progress() as bar:
        task = bar.add_task(f"{len(customers)} buyers, {workers} threads", total=len(customers))
        barrier.wait(timeout=120)
        start = time.perf_counter()
        while any(t.is_alive() for t in threads):
            bar.update(task, completed=done[0])
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    for t in threads:
        t.join()
    return placed, refused, errors, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--orders", type=int, help="buyers (default 1000; 200 with --quick)")
    parser.add_argument("--units", type=int, help="units on sale (default: buyers / 10)")
    parser.add_argument("--workers", type=int, default=100, help="threads (default 100)")
    parser.add_argument("--quick", action="store_true", help="200 buyers for 20 units")
    parser.add_argument("--reset", action="store_true", help="drop the shopops tables first")
    args = parser.parse_args(argv)
    buyers = args.orders or (200 if args.quick else 1000)
    units = args.units or max(1, buyers // 10)
    workers = max(1, min(args.workers, buyers))

    engine, _ = open_database(args.database_url, reset=args.reset)
    backend = engine.dialect.name
    console.print(f"[bold]shopops oversell benchmark[/] on {backend} ({engine.url!r})")
    # Two SKUs: the one rushed (with `units` units) and one the baseline never touches.
    shop = build_shop(engine, n_skus=2, n_customers=0, stock=units)
    customers = add_customers(engine, buyers, start=100_000)
    sku_id = shop.skus[0]
    bare = bare_transactions_per_s(engine, 500)

    placed, refused, errors, elapsed = rush(
        engine, sku_id=sku_id, customers=customers, workers=workers
    )

    with session_scope(engine, readonly=True) as s:
        orders_in_db = s.scalar(
            select(func.count(func.distinct(OrderLine.order_id))).where(OrderLine.sku_id == sku_id)
        )
        sold = s.scalar(select(func.sum(OrderLine.quantity)).where(OrderLine.sku_id == sku_id))
        buyers_served = s.scalar(select(func.count(func.distinct(Order.customer_id))))
        on_hand, reserved = s.execute(
            select(func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)).where(
                StockLevel.sku_id == sku_id
            )
        ).one()
    checks = run_checks(engine)
    broken = [c.check.name for c in checks if not c.ok]
    oversold = max(0, int(sold or 0) - units)

    results = [
        ("orders placed (returned)", f"{len(placed)}", f"= {units}", len(placed) == units),
        ("orders in the database", f"{orders_in_db}", f"= {units}", orders_in_db == units),
        ("distinct buyers with an order", f"{buyers_served}", f"= {units}", buyers_served == units),
        ("units sold (order lines)", f"{sold or 0}", f"= {units}", (sold or 0) == units),
        ("oversold", f"{oversold}", "0", oversold == 0),
        (
            "stock after (on hand / reserved)",
            f"{on_hand} / {reserved}",
            f"{units} / {units}",
            (on_hand, reserved) == (units, units),
        ),
        (
            "refused out_of_stock",
            f"{refused.get('out_of_stock', 0)}",
            f"= {buyers - units}",
            refused.get("out_of_stock", 0) == buyers - units,
        ),
        ("other errors", f"{len(errors)}", "0", not errors),
        (
            f"`shopops verify` checks ({len(checks)})",
            "all pass" if not broken else ", ".join(broken),
            "all pass",
            not broken,
        ),
    ]
    table = Table(
        title=f"{buyers} buyers for {units} units, {workers} threads — {backend}",
        title_justify="left",
    )
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("", justify="center")
    for name, value, expected, ok in results:
        table.add_row(name, value, expected, "[green]✓[/]" if ok else "[red]✗[/]")
    per_s = buyers / elapsed
    table.add_row("bare transactions/s (1-row INSERT + COMMIT)", f"{bare:,.0f}", "(baseline)", "")
    table.add_row(
        "checkouts/s during the rush (placed + refused)", f"{per_s:,.0f}", "(measured)", ""
    )
    table.add_row("ratio: checkouts/s ÷ bare transactions/s", f"{per_s / bare:.2f}", "", "")
    table.add_row("rush duration", f"{elapsed:.2f} s", "", "")
    console.print(table)
    for exc in errors[:3]:
        console.print(f"[red]error[/]: {type(exc).__name__}: {exc}")
    if not all(ok for *_, ok in results):
        console.print("[red]correctness check failed[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
