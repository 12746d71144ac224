"""`shopops report weekly|monthly` (and `report daily --html/--pdf/--send`): the review as a
Rich table, an HTML file, a PDF, and a summary sent through the notification channels."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shopops.errors import InvalidInput, ShopOpsError
from shopops.ops.reviews.service import KINDS

console = Console()
err = Console(stderr=True)


def run_review(
    kind: str, date: str | None, html: Path | None, pdf: Path | None, send: bool
) -> None:
    from shopops.analytics.engine import open_warehouse
    from shopops.analytics.periods import parse_period, shop_today
    from shopops.config import get_settings
    from shopops.db import make_engine, session_scope, utcnow
    from shopops.migrate import upgrade
    from shopops.ops.notify.rules import Message
    from shopops.ops.notify.service import deliver, load_channels
    from shopops.ops.reviews.render import render_html, render_pdf
    from shopops.ops.reviews.service import build_review

    settings = get_settings()
    try:
        if kind not in KINDS:
            raise InvalidInput(f"unknown report {kind!r}; valid: {', '.join(KINDS)}")
        day = parse_period(date or "yesterday", today=shop_today(settings.timezone, utcnow()))
        if day.kind != "day":
            raise InvalidInput(f"--date takes one day (YYYY-MM-DD), not {date!r}")
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        with session_scope(engine, readonly=True) as s:
            review = build_review(
                s, open_warehouse(settings.data_dir), kind, day.start, timezone=settings.timezone
            )
        channels = load_channels(settings.data_dir) if send else []
    except ShopOpsError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    if kind != "daily":
        table = Table(
            "指标 Metric",
            review.period.label,
            review.previous.label,
            "变化 Change",
            title=review.title,
        )
        for k in review.kpis:
            table.add_row(f"{k['name_zh']} {k['name_en']}", k["value"], k["previous"], k["change"])
        console.print(table)
        console.print(
            f"GMV {review.gmv_change}: "
            + ", ".join(f"{d['factor']} {d['contribution']}" for d in review.decomposition)
        )
        for a in review.alerts:
            console.print(f"[{a['level']}] {a['day']} {a['message']} — {a['attribution']}")
    if html:
        html.write_text(render_html(review), encoding="utf-8")
        console.print(f"[green]written[/] {html}")
    if pdf:
        console.print(f"[green]written[/] {render_pdf(review, pdf)}")
    if send:
        lines = tuple(f"{k['name_zh']} {k['value']} ({k['change']})" for k in review.kpis[:6])
        lines += (f"告警 alerts: {len(review.alerts)}",)
        for ch in channels:
            msg = Message(1, review.title, lines, ch.console_url.replace("/alerts", "/reports"))
            sent, n, error = deliver(ch, msg, dt.datetime.now(dt.UTC))
            console.print(f"{ch.name}: {'sent' if sent else 'failed: ' + error} ({n})")
