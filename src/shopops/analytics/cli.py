"""`shopops metrics` and `shopops report`: metrics and the daily report as Rich tables, CSV and
Excel. `register(app)` adds both commands to the main Typer app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopops.errors import ShopOpsError

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _today(timezone: str) -> dt.date:
    from shopops.analytics.periods import shop_today
    from shopops.db import utcnow

    return shop_today(timezone, utcnow())


def _parse_filters(items: list[str] | None) -> dict[str, list[str]]:
    from shopops.analytics.metrics.errors import InvalidFilter

    out: dict[str, list[str]] = {}
    for item in items or []:
        dim, sep, value = item.partition("=")
        if not sep or not dim.strip() or not value.strip():
            raise InvalidFilter(
                f"bad filter {item!r}: write DIMENSION=VALUE (e.g. channel=paid_search)",
                details={"filter": item},
            )
        out.setdefault(dim.strip(), []).extend(v.strip() for v in value.split(","))
    return out


def _style_change(change: float | None, good: str) -> str:
    from shopops.analytics.report import format_change

    text = format_change(change)
    if change is None or change == 0:
        return text
    color = "green" if (change > 0) == (good == "up") else "red"
    return f"[{color}]{text}[/]"


def metrics(
    period: Annotated[
        str, typer.Option(help="2026-11-11, 2026-W45, 2026-11, 2026-Q4, 2026, A..B, last-7-days")
    ] = "yesterday",
    by: Annotated[str | None, typer.Option(help="Break down by a dimension (e.g. channel)")] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="Comma-separated metric codes (default: all)")
    ] = None,
    grain: Annotated[str | None, typer.Option(help="Series grain: day, week or month")] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="DIMENSION=VALUE[,VALUE] (repeatable)"),
    ] = None,
    compare: Annotated[
        str, typer.Option(help="Comparisons: previous,last_year (or none)")
    ] = "previous,last_year",
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write the tidy rows to this CSV file")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Analytics backend: duckdb (default) or pyspark")
    ] = None,
) -> None:
    """Metrics for a period, compared with the previous period and last year."""
    from shopops.analytics.engine import open_warehouse
    from shopops.analytics.metrics import evaluate
    from shopops.analytics.periods import parse_period
    from shopops.analytics.report import format_value, write_rows_csv
    from shopops.config import get_settings

    settings = get_settings()
    try:
        chosen = parse_period(period, today=_today(settings.timezone))
        comparisons = [] if compare.strip() in ("", "none") else compare.split(",")
        wh = open_warehouse(settings.data_dir, backend=backend)
        result = evaluate(
            wh,
            metric,
            chosen,
            grain=grain,
            by=by,
            filters=_parse_filters(filter_),
            compare=[c.strip() for c in comparisons],
            timezone=settings.timezone,
        )
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    title = f"{chosen.label} ({chosen.start}..{chosen.end})"
    if result.filters:
        title += "  " + ", ".join(f"{k}={'|'.join(v)}" for k, v in result.filters.items())
    table = Table("指标", "Metric", "值 Value", title=title)
    if result.previous_period:
        table.add_column(f"前期 {result.previous_period.label}")
        table.add_column("环比")
    if result.last_year_period:
        table.add_column(f"去年 {result.last_year_period.label}")
        table.add_column("同比")
    for r in result.results.values():
        m = r.metric
        cells = [m.name_zh, m.name_en, format_value(m, r.value)]
        if result.previous_period:
            cells += [format_value(m, r.previous), _style_change(r.change, m.good_direction)]
        if result.last_year_period:
            cells += [format_value(m, r.last_year), _style_change(r.yoy, m.good_direction)]
        table.add_row(*cells)
    console.print(table)
    results = list(result.results.values())
    if grain and results:
        series = Table(
            "时段 Bucket",
            *[f"{r.metric.name_zh}\n{r.metric.code}" for r in results],
            title=f"按{grain} by {grain}",
        )
        for i, point in enumerate(results[0].series):
            series.add_row(
                point["bucket"],
                *[format_value(r.metric, r.series[i]["value"]) for r in results],
            )
        console.print(series)
    if by and results:
        breakdown = Table(
            by,
            *[f"{r.metric.name_zh}\n{r.metric.code}" for r in results],
            title=f"按 {by} 拆分 by {by}",
        )
        keys = list(dict.fromkeys(row["key"] for r in results for row in r.breakdown))
        lookup = {(r.metric.code, row["key"]): row for r in results for row in r.breakdown}
        for key in keys:
            cells = []
            for r in results:
                row = lookup.get((r.metric.code, key))
                if row is None:
                    cells.append("—")
                    continue
                text = format_value(r.metric, row["value"])
                if result.previous_period:
                    text += f" ({_style_change(row['change'], r.metric.good_direction)})"
                cells.append(text)
            breakdown.add_row(key, *cells)
        console.print(breakdown)
    if csv is not None:
        write_rows_csv(csv, result.rows())
        console.print(f"[green]written[/] {csv}")


def report(
    kind: Annotated[str, typer.Argument(help="daily | weekly | monthly")] = "daily",
    date: Annotated[
        str | None, typer.Option(help="The day (YYYY-MM-DD; default: yesterday)")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the review as HTML")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write the review as PDF")] = None,
    send: Annotated[bool, typer.Option(help="Send it through the channels")] = False,
    xlsx: Annotated[Path | None, typer.Option(help="Also write an Excel workbook")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write CSV files into this directory")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Analytics backend: duckdb (default) or pyspark")
    ] = None,
) -> None:
    """复盘 Reviews: daily (every metric, its comparisons, the GMV decomposition), weekly or
    monthly (KPIs vs target and last period, movers, alerts), as tables, HTML, PDF or sent."""
    if kind != "daily" or html or pdf or send:
        from shopops.ops.reviews.cli import run_review

        run_review(kind, date, html, pdf, send)
        if kind != "daily":
            return
    from shopops.analytics.engine import open_warehouse
    from shopops.analytics.metrics.registry import GROUP_EN
    from shopops.analytics.periods import InvalidPeriod, parse_period
    from shopops.analytics.report import (
        FACTOR_NAMES,
        daily_report,
        format_value,
        write_report_csv,
        write_report_xlsx,
    )
    from shopops.config import get_settings
    from shopops.money import format_money

    settings = get_settings()
    try:
        period = parse_period(date or "yesterday", today=_today(settings.timezone))
        if period.kind != "day":
            raise InvalidPeriod(
                f"--date takes one day (YYYY-MM-DD), not {date!r}", details={"date": date}
            )
        wh = open_warehouse(settings.data_dir, backend=backend)
        rep = daily_report(wh, period.start, timezone=settings.timezone)
    except ShopOpsError as exc:
        raise _fail(exc.message) from None
    ev = rep.evaluation
    assert ev.previous_period is not None and ev.last_year_period is not None
    for group in dict.fromkeys(r.metric.group for r in rep.results()):
        table = Table(
            "指标",
            "Metric",
            "值 Value",
            f"前一天 {ev.previous_period.label}",
            "环比",
            f"去年 {ev.last_year_period.label}",
            "同比",
            title=f"{rep.day} · {group} {GROUP_EN[group]}",
        )
        for r in rep.results():
            m = r.metric
            if m.group != group:
                continue
            table.add_row(
                m.name_zh,
                m.name_en,
                format_value(m, r.value),
                format_value(m, r.previous),
                _style_change(r.change, m.good_direction),
                format_value(m, r.last_year),
                _style_change(r.yoy, m.good_direction),
            )
        console.print(table)
    d = rep.decomposition
    table = Table(
        "因素 Factor",
        f"{d.against.label}",
        f"{d.period.label}",
        "贡献 Contribution",
        title=f"GMV = 访客数 × 支付转化率 × 客单价  (LMDI, {format_money(d.change)})",
    )
    gmv_metric = ev.results["gmv"].metric
    for f, (zh, en) in FACTOR_NAMES.items():
        metric = ev.results[f].metric if f in ev.results else gmv_metric
        table.add_row(
            f"{zh} {en}",
            format_value(metric, d.before[f]),
            format_value(metric, d.after[f]),
            format_money(d.parts_fen[f]),
        )
    if d.residual:
        table.add_row("未归因 Unexplained", "", "", format_money(d.residual))
    table.add_row(
        "新买家 New buyers' GMV",
        format_money(d.new_buyer_gmv[0]),
        format_money(d.new_buyer_gmv[1]),
        format_money(d.new_buyer_gmv[1] - d.new_buyer_gmv[0]),
    )
    table.add_row(
        "老买家 Returning buyers' GMV",
        format_money(d.returning_buyer_gmv[0]),
        format_money(d.returning_buyer_gmv[1]),
        format_money(d.returning_buyer_gmv[1] - d.returning_buyer_gmv[0]),
    )
    console.print(table)
    if xlsx is not None:
        console.print(f"[green]written[/] {write_report_xlsx(rep, xlsx)}")
    if csv is not None:
        for path in write_report_csv(rep, csv):
            console.print(f"[green]written[/] {path}")


def register(app: typer.Typer) -> None:
    """Add `metrics` and `report` to the `shopops` command."""
    app.command("metrics")(metrics)
    app.command("report")(report)
