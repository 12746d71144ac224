"""`shopops simulate` and `shopops demo`: the simulator from the command line.

Bad parameters (negative days, zero visitors, an unknown scenario or channel) are a clear
error with exit code 2; Ctrl-C stops after the day in progress is rolled back (exit 130) and
the store stays consistent (`shopops verify`).
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from shopops.config import Settings, get_settings
from shopops.sim.model import INCIDENT_KINDS, Incident, SimulationConfig, SimulationResult

console = Console()
err = Console(stderr=True)
DEMO_FILES = ("ground_truth.json", "ad_spend.csv", "sim_state.pickle")
DEMO_DIRS = ("events", "warehouse")


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def parse_incident(text: str) -> Incident:
    """`kind:YYYY-MM-DD[:days[:channel-or-sku[:depth]]]`, e.g.
    `traffic_drop:2026-11-03:1:paid_search:0.6`."""
    parts = text.split(":")
    if len(parts) < 2 or parts[0] not in INCIDENT_KINDS:
        raise ValueError(
            f"incident {text!r}: expected kind:YYYY-MM-DD[:days[:channel|sku[:depth]]] with kind "
            f"one of {', '.join(INCIDENT_KINDS)}"
        )
    try:
        day = dt.date.fromisoformat(parts[1])
        days = int(parts[2]) if len(parts) > 2 and parts[2] else 1
        depth = float(parts[4]) if len(parts) > 4 and parts[4] else 0.5
    except ValueError as exc:
        raise ValueError(f"incident {text!r}: {exc}") from None
    target = parts[3] if len(parts) > 3 and parts[3] else None
    sku = int(target) if target and target.isdigit() else None
    return Incident(parts[0], day, days, channel=None if sku else target, sku_id=sku, depth=depth)


def _config(
    days: int, visitors: int, seed: int, end: str | None, scenario: str, incidents: list[str]
) -> SimulationConfig:
    try:
        last = dt.date.fromisoformat(end) if end else None
        parsed = tuple(parse_incident(i) for i in incidents)
        return SimulationConfig(
            days=days, visitors=visitors, seed=seed, end=last, incidents=parsed, scenario=scenario
        ).validated()
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _run(settings: Settings, config: SimulationConfig, *, warehouse: bool) -> SimulationResult:
    from shopops.sim.run import StoreNotEmpty, simulate

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("模拟店铺 simulating the shop (days)", total=None)
        try:
            result = simulate(
                settings,
                config,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except StoreNotEmpty as exc:
            raise _fail(str(exc)) from None
        except KeyboardInterrupt:
            err.print(
                "[yellow]interrupted: the day in progress was rolled back; the store holds "
                "whole days and `shopops verify` accepts it. 已中断，店铺数据保持一致。[/]"
            )
            raise typer.Exit(130) from None
        if warehouse:
            from shopops.sim.run import load_shop_warehouse

            load = bar.add_task("装载数仓 loading the warehouse", total=None)
            load_shop_warehouse(
                settings,
                result,
                progress=lambda done, total: bar.update(load, completed=done, total=total),
            )
    return result


def _summary(result: SimulationResult) -> None:
    table = Table(title="模拟店铺 simulated shop", show_header=False)
    gmv = result.gmv_fen / 100
    aov = gmv / result.paid_orders if result.paid_orders else 0.0
    rows = (
        ("期间 period", f"{result.first_day} … {result.last_day} ({result.days} day(s) this run)"),
        ("访客 visitors (sessions)", f"{result.visitors:,}"),
        ("埋点事件 tracking events", f"{result.events:,}"),
        ("订单 orders (paid)", f"{result.orders:,} ({result.paid_orders:,})"),
        ("成交额 GMV", f"¥{gmv:,.2f} (客单价 AOV ¥{aov:,.2f})"),
        ("顾客 customers", f"{result.customers:,}"),
        ("退货 returns", f"{result.returns:,}"),
        ("真实数据 ground truth", str(result.ground_truth_path)),
        ("广告花费 ad spend", str(result.ad_spend_path)),
        ("耗时 time", f"{result.seconds:.1f}s"),
    )
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


DaysOpt = Annotated[int, typer.Option(help="Days to simulate (a new shop: ending --end)")]
VisitorsOpt = Annotated[int, typer.Option(help="Daily visitors at the end of the period")]
SeedOpt = Annotated[int, typer.Option(help="Random seed (same seed, same shop)")]
EndOpt = Annotated[
    str | None, typer.Option(help="Last shop-local day, YYYY-MM-DD (default: today)")
]
ScenarioOpt = Annotated[str, typer.Option(help="default | flat | quiet | incidents")]
IncidentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--incident",
        help="Inject kind:YYYY-MM-DD[:days[:channel|sku_id[:depth]]], e.g. "
        "traffic_drop:2026-11-03:1:paid_search:0.6 (repeatable)",
    ),
]


def simulate_command(
    days: DaysOpt = 120,
    visitors: VisitorsOpt = 5000,
    seed: SeedOpt = 618,
    end: EndOpt = None,
    scenario: ScenarioOpt = "default",
    incident: IncidentOpt = None,
    warehouse: Annotated[
        bool, typer.Option("--warehouse/--no-warehouse", help="Load the warehouse afterwards")
    ] = False,
) -> None:
    """Simulate the sample shop through the real services (continues an existing one)."""
    config = _config(days, visitors, seed, end, scenario, incident or [])
    result = _run(get_settings(), config, warehouse=warehouse)
    _summary(result)
    if result.operator_key:
        console.print("运营 operator API key (shown once):", result.operator_key, markup=False)


def _wipe(settings: Settings) -> None:
    from shopops.tracking import service as tracking

    if (settings.data_dir / "events").exists():
        # This process's open event log is about to be deleted: close it first.
        tracking.close_store(tracking.open_store(settings.data_dir, timezone=settings.timezone))
    for suffix in ("", "-wal", "-shm"):
        (settings.data_dir / f"shop.db{suffix}").unlink(missing_ok=True)
    for name in DEMO_FILES:
        (settings.data_dir / name).unlink(missing_ok=True)
    for name in DEMO_DIRS:
        shutil.rmtree(settings.data_dir / name, ignore_errors=True)


def demo_command(
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete the demo store first")] = False,
    # The seed's size: 120 days ending today, ramping to 5,000 visitors a day — ~90 s on two
    # cores from an empty directory to a built console (BENCHMARKS.md, "Simulator").
    days: DaysOpt = 120,
    visitors: VisitorsOpt = 5000,
    seed: SeedOpt = 618,
    scenario: ScenarioOpt = "default",
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the API when the shop is ready")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Build the sample 3C shop (months of history through the real system) and serve it."""
    from shopops.sim.engine import load_state

    config = _config(days, visitors, seed, None, scenario, [])
    settings = get_settings()
    if fresh:
        if not settings.is_sqlite:
            raise _fail("--fresh only deletes an SQLite store; empty the PostgreSQL database")
        _wipe(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    result: SimulationResult | None = None
    if load_state(settings.data_dir) is not None:
        console.print(
            "[yellow]示例店铺已存在 the demo shop already exists: serving it as it is "
            "(--fresh rebuilds it; `shopops simulate --days N` adds days)[/]"
        )
    else:
        result = _run(settings, config, warehouse=True)
        _summary(result)
        _operations(settings, min(ALERT_DAYS, config.days))
    h, p = host or settings.host, port or settings.port
    console.print(f"打开 open [bold]http://{h}:{p}[/]  (API docs: http://{h}:{p}/docs)")
    if _console_exists():
        console.print(f"运营后台 console: [bold]http://{h}:{p}/console[/]")
    if result is not None:
        console.print(
            "API key, shown once — send it as [bold]Authorization: Bearer <key>[/]; "
            "API 密钥仅显示一次："
        )
        console.print("  运营 operator:", result.operator_key, markup=False, highlight=False)
        if result.console_username:
            console.print(
                f"  后台登录 console sign-in: {result.console_username} "
                f"/ {result.console_password}",
                markup=False,
                highlight=False,
            )
    if serve_api:
        from shopops.cli import serve

        serve(host=host, port=port)


# The demo's Alerts page shows the last weeks as a watching team would have seen them.
ALERT_DAYS = 28


def _operations(settings: Settings, days: int) -> None:
    """The seed's goals, and the default alert rules run over the last `days` simulated days
    (idempotent, not notified), so Goals and Alerts have something true to show."""
    from shopops.db import make_engine, session_scope
    from shopops.ops.goals.service import install_default_goals
    from shopops.ops.jobs import backfill_alerts

    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as s:
            install_default_goals(s)
        with console.status("评估预警 evaluating the alert rules over the last days"):
            report = backfill_alerts(engine, settings.data_dir, days, timezone=settings.timezone)
        console.print(
            f"预警 alerts: {report['opened']} opened from {report['first']} to {report['last']}"
        )
    finally:
        engine.dispose()


def _console_exists() -> bool:
    import importlib.util

    return importlib.util.find_spec("shopops.web") is not None


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)
    app.command("demo")(demo_command)
