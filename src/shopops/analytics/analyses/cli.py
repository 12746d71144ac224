"""`shopops analyze …`: the analyses as Rich tables (中文 / English headers), or CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from shopops.analytics.analyses import basket as basket_mod
from shopops.analytics.analyses import channel_roi as roi_mod
from shopops.analytics.analyses import clv as clv_mod
from shopops.analytics.analyses import funnel as funnel_mod
from shopops.analytics.analyses import paths as paths_mod
from shopops.analytics.analyses import retention as retention_mod
from shopops.analytics.analyses import rfm as rfm_mod
from shopops.analytics.engine import Warehouse, open_warehouse
from shopops.config import get_settings
from shopops.errors import ShopOpsError

app = typer.Typer(
    name="analyze",
    help="分析 Analyses: funnel, paths, retention, RFM, CLV, basket, ROI.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

StartOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day")]
EndOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Write the table to this CSV file")]
DataDirOpt = Annotated[Path | None, typer.Option(help="Data directory (default: settings)")]
BackendOpt = Annotated[str | None, typer.Option(help="duckdb | pyspark (default: settings)")]


def _today() -> dt.date:
    """Today in the shop's time zone by the store clock (simulated time when it is set)."""
    from shopops.db import make_engine, now, session_scope

    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    try:
        engine = make_engine(settings.resolved_database_url)
        try:
            with session_scope(engine, readonly=True) as s:
                return now(s).astimezone(tz).date()
        finally:
            engine.dispose()
    except Exception:
        return dt.datetime.now(tz).date()


def _period(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.date, dt.date]:
    last = end.date() if end else _today()
    return (start.date() if start else last - dt.timedelta(days=29)), last


@contextmanager
def _warehouse(data_dir: Path | None, backend: str | None) -> Iterator[Warehouse]:
    try:
        yield open_warehouse(data_dir or get_settings().data_dir, backend=backend)
    except ShopOpsError as e:
        err.print(f"[bold red]error:[/] {e.message} [dim]({e.code})[/]")
        raise typer.Exit(2) from None


def _show(
    title: str,
    df: pd.DataFrame,
    headers: dict[str, str],
    csv: Path | None,
    fmt: dict[str, Callable[[Any], str]] | None = None,
) -> None:
    """`df` as a Rich table whose columns are `headers` (column → "中文 English"), or CSV."""
    view = df[[c for c in headers if c in df.columns]]
    if csv is not None:
        view.to_csv(csv, index=False)
        console.print(f"[green]wrote[/] {len(view)} rows to {csv}")
        return
    table = Table(title=title)
    for col in view.columns:
        table.add_column(headers[col], justify="left" if view[col].dtype == object else "right")
    fmt = fmt or {}
    for row in view.itertuples(index=False):
        cells = []
        for col, value in zip(view.columns, row, strict=True):
            if col in fmt:
                cells.append(fmt[col](value))
            elif value is None or (isinstance(value, float) and value != value):
                cells.append("—")
            elif isinstance(value, float):
                cells.append(f"{value:,.3f}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    console.print(table)


def _pct(v: Any) -> str:
    return "—" if v is None or v != v else f"{v:.1%}"


def _yuan(v: Any) -> str:
    return "—" if v is None or v != v else f"¥{v / 100:,.2f}"


@app.command("funnel")
def funnel_cmd(
    steps: Annotated[list[str], typer.Argument(help="event or event:column=value;…")],
    start: StartOpt = None,
    end: EndOpt = None,
    window_hours: Annotated[float, typer.Option(min=0.001, max=2160)] = 24,
    breakdown: Annotated[str | None, typer.Option(help="channel, device, province…")] = None,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """漏斗 Funnel: strict-order steps within a conversion window."""
    first, last = _period(start, end)
    with _warehouse(data_dir, backend) as wh:
        r = funnel_mod.funnel(
            wh,
            list(steps),
            start=first,
            end=last,
            window=dt.timedelta(hours=window_hours),
            breakdown=breakdown,
        )
    rows = [{"group": "", **s.to_dict()} for s in r.steps]
    for value, group in r.groups.items():
        rows += [{"group": value, **s.to_dict()} for s in group]
    headers = {
        "group": f"分组 {breakdown or ''}".strip(),
        "step": "步骤 Step",
        "label": "事件 Event",
        "count": "人数 People",
        "conversion": "总转化 Conversion",
        "conversion_from_previous": "步转化 From previous",
        "drop_off": "流失 Drop-off",
        "median_seconds_from_previous": "中位耗时(秒) Median s",
    }
    _show(
        f"漏斗 Funnel {first} – {last}",
        pd.DataFrame(rows),
        headers,
        csv,
        {"conversion": _pct, "conversion_from_previous": _pct},
    )
    if csv is None and r.median_seconds_to_convert is not None:
        console.print(f"转化中位时长 median time to convert: {r.median_seconds_to_convert:,.0f} s")


@app.command("paths")
def paths_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    by: Annotated[str, typer.Option(help="event | path")] = "event",
    max_steps: Annotated[int, typer.Option(min=2, max=30)] = 6,
    top: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """路径 Paths: most common routes to purchase, and exit pages."""
    first, last = _period(start, end)
    with _warehouse(data_dir, backend) as wh:
        r = paths_mod.paths(wh, start=first, end=last, by=by, max_steps=max_steps, top=top)
    data = r.to_dict()
    df = pd.DataFrame(
        [
            {"path": " → ".join(p["steps"]), "sessions": p["sessions"], "share": p["share"]}
            for p in data["paths"]
        ]
    )
    headers = {"path": "路径 Path", "sessions": "会话 Sessions", "share": "占比 Share"}
    _show("转化路径 Paths to purchase", df, headers, csv, {"share": _pct})
    if csv is None:
        _show(
            "退出页 Exit pages",
            pd.DataFrame(data["exits"]),
            {
                "path": "页面 Page",
                "sessions": "会话 Sessions",
                "share": "占比 Share",
                "converted": "已转化 Converted",
            },
            None,
            {"share": _pct},
        )


@app.command("retention")
def retention_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    grain: Annotated[str, typer.Option(help="week | month")] = "month",
    cohort: Annotated[str, typer.Option(help="first_order | registration")] = "first_order",
    mode: Annotated[str, typer.Option(help="first_time | recurring")] = "first_time",
    periods: Annotated[int, typer.Option(min=1, max=60)] = 12,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """复购留存 Retention: cohort × period offset."""
    first, last = _period(start, end)
    with _warehouse(data_dir, backend) as wh:
        r = retention_mod.retention(
            wh, start=first, end=last, grain=grain, cohort=cohort, mode=mode, periods=periods
        )
    rows = []
    for row in r.rows:
        item: dict[str, Any] = {"cohort": row.cohort.isoformat(), "size": row.size}
        for k, rate in enumerate(row.rates):
            item[f"p{k}"] = rate
        rows.append(item)
    headers = {"cohort": "同期群 Cohort", "size": "人数 Size"}
    headers |= {f"p{k}": f"+{k}" for k in range(periods)}
    _show(
        f"留存 Retention ({grain}, {cohort}, {mode})",
        pd.DataFrame(rows),
        headers,
        csv,
        {f"p{k}": _pct for k in range(periods)},
    )


@app.command("rfm")
def rfm_cmd(
    as_of: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    start: StartOpt = None,
    customers: Annotated[bool, typer.Option("--customers", help="One row per customer")] = False,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """RFM 分层 Segments: the eight groups, lifecycle and ACCA stages."""
    day = as_of.date() if as_of else _today()
    with _warehouse(data_dir, backend) as wh:
        r = rfm_mod.rfm(wh, as_of=day, start=start.date() if start else None)
    if customers:
        headers = {
            "customer_id": "客户 Customer",
            "recency_days": "R 天 Recency",
            "frequency": "F 次 Frequency",
            "monetary": "M 金额 Monetary",
            "rfm": "RFM",
            "segment_zh": "分层",
            "segment_en": "Segment",
            "lifecycle": "生命周期 Lifecycle",
        }
        _show(f"RFM 客户 Customers as of {day}", r.customers, headers, csv, {"monetary": _yuan})
        return
    headers = {
        "name_zh": "分层",
        "name_en": "Segment",
        "customers": "客户数 Customers",
        "share": "占比 Share",
        "avg_monetary": "平均金额 Avg monetary",
    }
    _show(
        f"RFM 分层 as of {day}",
        pd.DataFrame(r.segments()),
        headers,
        csv,
        {"share": _pct, "avg_monetary": _yuan},
    )
    if csv is None:
        stages = r.stage_counts()
        life = ", ".join(f"{rfm_mod.LIFECYCLE[k]} {k}: {v}" for k, v in stages["lifecycle"].items())
        acca = ", ".join(f"{rfm_mod.ACCA[k]} {k}: {v}" for k, v in stages["acca"].items())
        console.print(f"生命周期 Lifecycle — {life}\nACCA — {acca}")


@app.command("clv")
def clv_cmd(
    as_of: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    horizon_days: Annotated[int, typer.Option(min=1, max=3650)] = 365,
    top: Annotated[int, typer.Option(min=1)] = 20,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """客户终身价值 CLV: historical and predicted (BG/NBD + Gamma-Gamma)."""
    day = as_of.date() if as_of else _today()
    with _warehouse(data_dir, backend) as wh:
        r = clv_mod.clv(wh, as_of=day, horizon_days=horizon_days)
    df = r.customers.sort_values("predicted_value", ascending=False, kind="stable")
    headers = {
        "customer_id": "客户 Customer",
        "historical_value": "历史价值 Historical",
        "orders": "订单 Orders",
        "p_alive": "存活概率 P(alive)",
        "predicted_purchases": "预测购买 Predicted purchases",
        "predicted_value": "预测价值 Predicted value",
    }
    _show(
        f"CLV as of {day}, next {horizon_days} days",
        df if csv else df.head(top),
        headers,
        csv,
        {"historical_value": _yuan, "predicted_value": _yuan, "p_alive": _pct},
    )
    if csv is None:
        t = r.totals()
        console.print(
            f"合计 Total: {t['customers']} customers, historical {_yuan(t['historical_value'])}, "
            f"predicted {_yuan(t['predicted_value'])} ({t['predicted_purchases']:,.1f} purchases)"
        )


@app.command("basket")
def basket_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    level: Annotated[str, typer.Option(help="product | sku | category")] = "product",
    min_support: Annotated[float, typer.Option(min=0.0001, max=1)] = 0.01,
    min_confidence: Annotated[float, typer.Option(min=0, max=1)] = 0.0,
    item: Annotated[int | None, typer.Option(help="Frequently bought with this item")] = None,
    top: Annotated[int, typer.Option(min=1)] = 30,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """关联规则 Basket rules: support, confidence, lift, leverage, conviction."""
    first, last = _period(start, end)
    with _warehouse(data_dir, backend) as wh:
        r = basket_mod.basket(
            wh,
            start=first,
            end=last,
            level=level,
            min_support=min_support,
            min_confidence=min_confidence,
        )
    df = r.bought_together(item, top=top) if item is not None else r.rules.head(top)
    df = df.assign(
        antecedent=[", ".join(map(str, a)) for a in df.antecedent],
        consequent=[", ".join(map(str, c)) for c in df.consequent],
    )
    headers = {
        "antecedent": "前项 If bought",
        "consequent": "后项 Then",
        "support": "支持度 Support",
        "confidence": "置信度 Confidence",
        "lift": "提升度 Lift",
        "leverage": "杠杆 Leverage",
        "conviction": "确信度 Conviction",
        "count": "订单 Orders",
    }
    _show(
        f"关联规则 Rules over {r.orders} orders",
        df,
        headers,
        csv,
        {"support": _pct, "confidence": _pct},
    )


@app.command("roi")
def roi_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    by_campaign: Annotated[bool, typer.Option("--by-campaign")] = False,
    csv: CsvOpt = None,
    data_dir: DataDirOpt = None,
    backend: BackendOpt = None,
) -> None:
    """渠道ROI Channel ROI: spend, new customers, CAC, GMV, ROI."""
    first, last = _period(start, end)
    with _warehouse(data_dir, backend) as wh:
        df = roi_mod.channel_roi(wh, start=first, end=last, by_campaign=by_campaign)
    headers = {
        "name_zh": "渠道",
        "name_en": "Channel",
        "campaign_id": "活动 Campaign",
        "spend": "花费 Spend",
        "new_customers": "新客 New customers",
        "cac": "获客成本 CAC",
        "gmv": "支付金额 GMV",
        "roi": "投产比 ROI",
    }
    if not by_campaign:
        headers.pop("campaign_id")
    _show(
        f"渠道ROI Channel ROI {first} – {last}",
        df,
        headers,
        csv,
        {"spend": _yuan, "cac": _yuan, "gmv": _yuan},
    )
