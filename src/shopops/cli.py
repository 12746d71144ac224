"""The `shopops` command."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shopops.config import Settings, get_settings
from shopops.db import make_engine, session_scope

app = typer.Typer(help="shopops: run the store, see it, act on the numbers.", no_args_is_help=True)
db_app = typer.Typer(help="The store database.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _prepare(settings: Settings) -> None:
    """Create the data directory and bring the schema up to date."""
    from shopops.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to the newest schema."""
    settings = get_settings()
    _prepare(settings)
    console.print(f"[green]schema up to date[/] ({settings.resolved_database_url.split('@')[-1]})")


@db_app.command("backup")
def db_backup(
    out: Annotated[
        str | None, typer.Option(help="Target file (default: data dir/backups/)")
    ] = None,
) -> None:
    """Copy the store while it runs: SQLite's online backup, or pg_dump for PostgreSQL."""
    import datetime as dt
    import shutil
    import sqlite3
    import subprocess
    from pathlib import Path

    settings = get_settings()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    backups = settings.data_dir / "backups"
    if settings.is_sqlite:
        source = settings.data_dir / "shop.db"
        if not source.exists():
            raise _fail(f"no store at {source}; run `shopops db upgrade` first")
        target = Path(out) if out else backups / f"shop-{stamp}.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # consistent snapshot, even with writers running
    else:
        if shutil.which("pg_dump") is None:
            raise _fail("pg_dump is not installed (apt-get install postgresql-client)")
        target = Path(out) if out else backups / f"shop-{stamp}.dump"
        target.parent.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(["pg_dump", "-Fc", "-f", str(target), url], check=True)
    console.print(f"[green]backup written[/] {target}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin | operator | analyst | agent | storefront")],
    name: Annotated[str, typer.Option(help="A label to tell keys apart")] = "",
    customer: Annotated[int | None, typer.Option(help="Customer id (storefront keys)")] = None,
) -> None:
    """Create an API key and print it once."""
    from shopops.accounts.service import create_api_key
    from shopops.errors import ShopOpsError

    settings = get_settings()
    _prepare(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            row, plain = create_api_key(session, role=role, name=name, customer_id=customer)
            key_id = row.id
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    console.print(f"API key #{key_id} ({role}) — shown once, keep it safe:")
    console.print(plain, markup=False, highlight=False)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the secrets)."""
    from shopops.accounts.service import list_api_keys

    settings = get_settings()
    _prepare(settings)
    engine = make_engine(settings.resolved_database_url)
    table = Table("id", "prefix", "role", "name", "customer", "revoked")
    with session_scope(engine, readonly=True) as session:
        for k in list_api_keys(session):
            table.add_row(
                str(k.id),
                k.prefix,
                k.role,
                k.name,
                str(k.customer_id or ""),
                "yes" if k.revoked_at else "",
            )
    console.print(table)


@app.command()
def verify() -> None:
    """Check the store's invariants (stock ledger, reservations, order and payment sums)."""
    from shopops.verify import run_checks

    settings = get_settings()
    _prepare(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        results = run_checks(engine)
    finally:
        engine.dispose()
    table = Table("check", "result", "what it means", title="shopops verify")
    for r in results:
        table.add_row(
            r.check.name,
            "[green]ok[/]" if r.ok else f"[red]{r.violations} broken[/]",
            r.check.description,
        )
    console.print(table)
    broken = [r for r in results if not r.ok]
    for r in broken:
        console.print(f"[red]{r.check.name}[/] examples:", r.examples)
    if broken:
        raise typer.Exit(1)
    console.print("[green]all invariants hold[/]")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (default: SHOPOPS_WORKERS or CPUs)"),
    ] = None,
) -> None:
    """Upgrade the schema and serve the API on http://127.0.0.1:8000."""
    settings = get_settings()
    _prepare(settings)
    h, p = host or settings.host, port or settings.port
    n = serve_workers(settings, workers)
    console.print(
        f"shopops API on [bold]http://{h}:{p}[/]  (docs: http://{h}:{p}/docs, {n} worker(s))"
    )
    _run_server(settings, h, p, n)


def serve_workers(settings: Settings, requested: int | None = None) -> int:
    """Worker processes to serve with: the option, else `SHOPOPS_WORKERS`, else the CPUs."""
    import os

    return requested or settings.workers or os.cpu_count() or 1


def _run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the API with `workers` processes; the background jobs run in this process only.

    One worker: the app runs here, beside the scheduler thread. Several: uvicorn's supervisor
    (this process) spawns workers that each build the app from the environment
    (`create_app` factory) and never start jobs, so each job runs exactly once per `serve`.
    """
    import uvicorn

    from shopops.jobs import Scheduler

    engine = make_engine(settings.resolved_database_url)
    scheduler = Scheduler(engine, settings)
    scheduler.start()
    # "auto" picks uvloop and httptools when installed (they are dependencies).
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "loop": "auto",
        "http": "auto",
        "access_log": False,
    }
    try:
        if workers == 1:
            from shopops.api.app import create_app

            uvicorn.run(create_app(settings, engine=engine), **options)
        else:
            uvicorn.run("shopops.api.app:create_app", factory=True, workers=workers, **options)
    finally:
        scheduler.stop()
        engine.dispose()


@app.command()
def etl(
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild the warehouse from scratch")
    ] = False,
    ad_spend: Annotated[
        str | None,
        typer.Option(
            "--ad-spend",
            help="CSV date,channel,campaign_id,spend,impressions,clicks (spend in yuan, or a "
            "spend_fen column); bad rows are rejected with their line numbers (exit code 1)",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=100, help="Outbox events per batch")] = 10_000,
) -> None:
    """Load the warehouse (Parquet star schema) from the store's outbox, incrementally."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from shopops.errors import ShopOpsError
    from shopops.warehouse import load_warehouse

    settings = get_settings()
    if ad_spend is not None and not Path(ad_spend).is_file():
        raise _fail(f"no such file: {ad_spend}")
    # The loader only reads the store: no migration here, but there must be a store.
    if settings.is_sqlite and not (settings.data_dir / "shop.db").exists():
        raise _fail(f"no store at {settings.data_dir / 'shop.db'}; run `shopops demo` first")
    engine = make_engine(settings.resolved_database_url)
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("装载数仓 loading the warehouse", total=None)
            report = load_warehouse(
                engine,
                data_dir=settings.data_dir,
                timezone=settings.timezone,
                full=full,
                ad_spend=Path(ad_spend) if ad_spend else None,
                batch_size=batch_size,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                tracking=settings,
            )
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    finally:
        engine.dispose()
    table = Table("table", "rows written", title="shopops etl")
    for name, n in sorted(report.rows.items()):
        table.add_row(name, str(n))
    console.print(table)
    console.print(
        f"{report.events} events in {report.seconds:.2f}s "
        f"({report.events_per_second:,.0f}/s), checkpoint seq {report.seq}; "
        f"tracking facts: {report.tracking}"
    )
    if report.ad_spend is not None and report.ad_spend.rejected:
        for r in report.ad_spend.rejected:
            err.print(f"[yellow]{ad_spend}:{r.line}[/] {r.reason}", highlight=False)
        err.print(f"[red]{len(report.ad_spend.rejected)} ad spend row(s) rejected[/]")
        raise typer.Exit(1)


# The analyses' commands live with them (analytics/analyses/cli.py).
from shopops.analytics.analyses.cli import app as analyze_app  # noqa: E402

app.add_typer(
    analyze_app, name="analyze", help="Funnels, paths, retention, RFM, CLV, baskets, ROI."
)

from shopops.analytics.cli import register as register_metrics_commands  # noqa: E402

register_metrics_commands(app)

# The simulator's commands (`simulate`, `demo`) live with it (sim/cli.py).
from shopops.sim.cli import register as register_sim_commands  # noqa: E402

register_sim_commands(app)

# Operations' commands (`alerts`, `notify`) live with them (ops/cli.py).
from shopops.ops.cli import register as register_ops_commands  # noqa: E402

register_ops_commands(app)

# Console accounts (`users`) live with the console (web/cli.py).
from shopops.web.cli import register as register_web_commands  # noqa: E402

register_web_commands(app)


def main() -> None:
    app()
