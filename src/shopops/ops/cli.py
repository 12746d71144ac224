"""`shopops alerts ...` and `shopops notify ...`; `register(app)` adds both groups."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopops.errors import ShopOpsError

console = Console()
err = Console(stderr=True)
alerts_app = typer.Typer(help="告警规则与告警 Alert rules and alerts.", no_args_is_help=True)
notify_app = typer.Typer(help="通知渠道 Notification channels.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def _env():  # type: ignore[no-untyped-def]
    from shopops.config import get_settings
    from shopops.db import make_engine
    from shopops.migrate import upgrade

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return settings, engine


def _day(text: str | None, timezone: str) -> dt.date:
    from shopops.analytics.periods import InvalidPeriod, parse_period, shop_today
    from shopops.db import utcnow

    period = parse_period(text or "yesterday", today=shop_today(timezone, utcnow()))
    if period.kind != "day":
        raise InvalidPeriod(f"--date takes one day (YYYY-MM-DD), not {text!r}")
    return period.start


@alerts_app.command("evaluate")
def evaluate_cmd(
    date: Annotated[
        str | None, typer.Option(help="The day (YYYY-MM-DD; default: yesterday)")
    ] = None,
    notify: Annotated[
        bool | None, typer.Option(help="Send new alerts (default: yes for one day, no for --days)")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(help="Evaluate the N days ending on --date (backfill, idempotent)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """评估规则与异常检测 Evaluate every rule and the anomaly detector for a day, or the last
    N days with --days (idempotent: a rerun opens nothing twice)."""
    from shopops.ops.jobs import backfill_alerts, evaluate_alerts

    settings, engine = _env()
    try:
        day = _day(date, settings.timezone)
        if days is not None:
            done = backfill_alerts(
                engine,
                settings.data_dir,
                days,
                end=day,
                timezone=settings.timezone,
                notify=bool(notify),
            )
            if as_json:
                console.print_json(json.dumps(done))
            else:
                console.print(
                    f"{done['first']} … {done['last']}: 新告警 new alerts {done['opened']}"
                )
            return
        report = evaluate_alerts(settings, engine, day, notify=notify is not False)
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    if as_json:
        console.print_json(json.dumps(report))
        return
    table = Table(
        "规则 Rule", "状态 Status", "值 Value", "对比 Base", "变化 Change", title=f"{day}"
    )
    for o in report["rules"] + report["anomalies"]:
        fmt = lambda v: "—" if v is None else f"{v:,.4g}"  # noqa: E731
        table.add_row(o["code"], o["status"], fmt(o["value"]), fmt(o["base"]), fmt(o["change"]))
    console.print(table)
    console.print(f"新告警 new alerts: {len(report['opened'])}; deliveries: {report['deliveries']}")


@alerts_app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="open | acknowledged | resolved")] = None,
    date: Annotated[str | None, typer.Option(help="Only this day")] = None,
) -> None:
    """列出告警 List alerts with their attribution and playbook."""
    from shopops.db import session_scope
    from shopops.ops.alerts.service import list_alerts

    settings, engine = _env()
    try:
        day = _day(date, settings.timezone) if date else None
        with session_scope(engine, readonly=True) as s:
            rows = list_alerts(s, status=status, day=day)
            table = Table("#", "日 Day", "级 L", "状态 Status", "告警 Alert", "处置 Playbook")
            for a in rows:
                table.add_row(
                    str(a.id),
                    a.day.isoformat(),
                    str(a.level),
                    a.status,
                    f"{a.message_zh}\n{a.message_en}",
                    a.playbook_zh,
                )
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    console.print(table)


def _move(alert_id: int, actor: str, note: str, resolve: bool) -> None:
    from shopops.db import session_scope
    from shopops.ops.alerts.service import acknowledge_alert, resolve_alert

    _, engine = _env()
    try:
        with session_scope(engine) as s:
            a = (resolve_alert if resolve else acknowledge_alert)(s, alert_id, actor, note)
            console.print(f"alert {a.id}: {a.status} by {actor}")
    except ShopOpsError as exc:
        raise _fail(exc.message) from None


@alerts_app.command("ack")
def ack_cmd(
    alert_id: int,
    by: Annotated[str, typer.Option(help="Who")] = "operator",
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """确认告警 Acknowledge an alert."""
    _move(alert_id, by, note, resolve=False)


@alerts_app.command("resolve")
def resolve_cmd(
    alert_id: int,
    by: Annotated[str, typer.Option(help="Who")] = "operator",
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """关闭告警 Resolve an alert."""
    _move(alert_id, by, note, resolve=True)


@alerts_app.command("import")
def import_cmd(path: Path) -> None:
    """导入规则 Import rules from YAML (all validated first; all or nothing)."""
    from shopops.db import session_scope
    from shopops.ops.alerts.service import import_rules

    _, engine = _env()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        with session_scope(engine) as s:
            rules = import_rules(s, text)
            console.print(f"imported {len(rules)} rule(s): {', '.join(r.code for r in rules)}")
    except ShopOpsError as exc:
        raise _fail(exc.message) from None


@alerts_app.command("export")
def export_cmd(
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None,
) -> None:
    """导出规则 Export the rules as YAML (the seed's defaults are installed first)."""
    from shopops.db import session_scope
    from shopops.ops.alerts.service import export_rules, install_default_rules

    _, engine = _env()
    with session_scope(engine) as s:
        install_default_rules(s)
        text = export_rules(s)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"[green]written[/] {out}")
    else:
        print(text, end="")


@notify_app.command("test")
def notify_test(
    channel: Annotated[str, typer.Argument(help="Channel name in ops/channels.yaml")],
) -> None:
    """发送测试消息 Send a test message to one channel."""
    from shopops.db import utcnow
    from shopops.ops.notify.service import load_channels, send_test

    settings, _ = _env()
    try:
        sent, attempts, error = send_test(load_channels(settings.data_dir), channel, utcnow())
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    if not sent:
        err.print(f"[red]failed after {attempts} attempt(s):[/] {error}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]sent[/] to {channel} ({attempts} attempt(s))")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(notify_app, name="notify")
    from shopops.ops.goals.cli import goals_app

    app.add_typer(goals_app, name="goals")
