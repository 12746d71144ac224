"""`shopops goals list|set|delete|progress`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopops.errors import ShopOpsError

console = Console()
err = Console(stderr=True)
goals_app = typer.Typer(help="目标 Goals: targets, progress, pace.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def _show(unit: str, v: float | None) -> str:
    if v is None:
        return "—"
    if unit == "ratio":
        return f"{v:.2%}"
    if unit == "fen":
        return f"¥{v / 100:,.0f}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


@goals_app.command("list")
def list_cmd() -> None:
    """列出目标 List the goals (the seed's targets when none is set)."""
    from shopops.analytics.metrics import METRICS
    from shopops.db import session_scope
    from shopops.ops.cli import _env
    from shopops.ops.goals.service import install_default_goals, list_goals

    _, engine = _env()
    table = Table("目标 Goal", "指标 Metric", "周期 Period", "范围 Scope", "目标值 Target")
    with session_scope(engine) as s:
        install_default_goals(s)
        for g in list_goals(s):
            scope = f"{g.dimension}={g.member}" if g.dimension else "全店 shop"
            unit = METRICS[g.metric].unit
            table.add_row(
                f"{g.code}\n{g.name_zh} {g.name_en}",
                g.metric,
                g.period,
                scope,
                _show(unit, g.target),
            )
    console.print(table)


@goals_app.command("set")
def set_cmd(
    code: Annotated[str, typer.Argument(help="Goal code, e.g. daily_uv")],
    metric: Annotated[str, typer.Option(help="A registry metric code (shopops metrics)")],
    target: Annotated[float, typer.Option(help="Target: 分 for money, 0..1 for ratios")],
    period: Annotated[str, typer.Option(help="day | month | quarter | year")] = "month",
    dimension: Annotated[str | None, typer.Option(help="channel | category | ...")] = None,
    member: Annotated[str | None, typer.Option(help="The dimension's member")] = None,
) -> None:
    """设定目标 Create or replace a goal (validated against the metrics registry)."""
    from shopops.db import session_scope
    from shopops.ops.cli import _env
    from shopops.ops.goals.service import parse_goal, save_goal

    _, engine = _env()
    data = {"code": code, "metric": metric, "target": target, "period": period}
    if dimension is not None or member is not None:
        data |= {"dimension": dimension, "member": member}
    try:
        spec = parse_goal(data)
        with session_scope(engine) as s:
            save_goal(s, spec)
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    console.print(f"goal {code}: {metric} {period} target {target:g}")


@goals_app.command("delete")
def delete_cmd(code: Annotated[str, typer.Argument(help="Goal code")]) -> None:
    """删除目标 Delete a goal."""
    from shopops.db import session_scope
    from shopops.ops.cli import _env
    from shopops.ops.goals.service import delete_goal

    _, engine = _env()
    try:
        with session_scope(engine) as s:
            delete_goal(s, code)
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    console.print(f"goal {code} deleted")


@goals_app.command("progress")
def progress_cmd(
    date: Annotated[str | None, typer.Option(help="As of this day (default: yesterday)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """目标进度 Actual so far, pace and forecast of every goal."""
    from shopops.analytics.engine import open_warehouse
    from shopops.db import session_scope
    from shopops.ops.cli import _day, _env
    from shopops.ops.goals.service import install_default_goals, progress

    settings, engine = _env()
    try:
        day = _day(date, settings.timezone)
        with session_scope(engine) as s:
            install_default_goals(s)
            rows = progress(s, open_warehouse(settings.data_dir), day, timezone=settings.timezone)
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    if as_json:
        console.print_json(
            json.dumps({"date": day.isoformat(), "goals": [r.to_dict() for r in rows]})
        )
        return
    pace_zh = {"on_track": "[green]达标 on track[/]", "behind": "[red]落后 behind[/]"}
    table = Table(
        "目标 Goal", "周期 Period", "目标 Target", "实际 Actual", "应达 Expected", "进度 Pace",
        "预测 Forecast", title=f"{day}",
    )  # fmt: skip
    for r in rows:
        scope = f" ({r.dimension}={r.member})" if r.dimension else ""
        table.add_row(
            f"{r.name_zh} {r.name_en}{scope}",
            r.period,
            _show(r.unit, r.target),
            _show(r.unit, r.actual),
            _show(r.unit, r.expected),
            pace_zh.get(r.pace, "无数据 no data"),
            _show(r.unit, r.forecast),
        )
    console.print(table)
