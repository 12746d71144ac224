"""The daily report: every metric for one day against the day before and the same day last
year, grouped 流量 · 转化 · 客单价 · 复购 · 售后库存服务, with the GMV decomposition — as data,
and as CSV or Excel files. Also the display formatting of metric values (zh and en)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics.decomposition import (
    FACTORS,
    Decomposition,
    decompose_evaluation,
)
from shopops.analytics.metrics.evaluate import Evaluation, MetricResult, evaluate
from shopops.analytics.metrics.registry import GROUP_EN, Metric
from shopops.analytics.periods import Period, day_period
from shopops.money import format_money

MISSING = "—"
FACTOR_NAMES = {
    "uv": ("访客数", "Visitors"),
    "conversion_rate": ("支付转化率", "Conversion rate"),
    "aov": ("客单价", "Spend per buyer"),
}


def format_value(metric: Metric, value: float | int | None, locale: str = "zh_CN") -> str:
    """A metric value for people: money in yuan, ratios as percentages, durations with units."""
    if value is None:
        return MISSING
    fmt = metric.format
    if fmt == "money":
        return format_money(round(value), locale)
    if fmt == "percent":
        return f"{value * 100:.2f}%"
    if fmt == "decimal":
        return f"{value:,.2f}"
    if fmt == "seconds":
        return f"{value:,.0f}s"
    if fmt == "hours":
        return f"{value:,.1f}h"
    if fmt == "days":
        return f"{value:,.1f}d"
    return f"{round(value):,}"


def format_change(change: float | None) -> str:
    return MISSING if change is None else f"{change * 100:+.1f}%"


@dataclass
class DailyReport:
    day: dt.date
    evaluation: Evaluation
    decomposition: Decomposition

    @property
    def period(self) -> Period:
        return self.evaluation.period

    def results(self) -> list[MetricResult]:
        return list(self.evaluation.results.values())

    def to_dict(self) -> dict[str, Any]:
        body = self.evaluation.to_dict()
        return {
            "date": self.day.isoformat(),
            "period": body["period"],
            "previous_period": body["previous_period"],
            "last_year_period": body["last_year_period"],
            "groups": [
                {
                    "group": group,
                    "group_en": GROUP_EN[group],
                    "metrics": [m for m in body["metrics"] if m["group"] == group],
                }
                for group in dict.fromkeys(m["group"] for m in body["metrics"])
            ],
            "decomposition": self.decomposition.to_dict(),
        }

    def metric_rows(self, locale: str = "zh_CN") -> list[dict[str, Any]]:
        """One row per metric: raw values and the formatted ones."""
        rows = []
        for r in self.results():
            m = r.metric
            rows.append(
                {
                    "group": m.group,
                    "code": m.code,
                    "name_zh": m.name_zh,
                    "name_en": m.name_en,
                    "unit": m.unit,
                    "value": r.value,
                    "previous": r.previous,
                    "change": r.change,
                    "last_year": r.last_year,
                    "yoy": r.yoy,
                    "display": format_value(m, r.value, locale),
                    "good_direction": m.good_direction,
                }
            )
        return rows

    def decomposition_rows(self) -> list[dict[str, Any]]:
        d = self.decomposition
        rows: list[dict[str, Any]] = [
            {
                "factor": f,
                "name_zh": FACTOR_NAMES[f][0],
                "name_en": FACTOR_NAMES[f][1],
                "before": d.before[f],
                "after": d.after[f],
                "part_fen": d.parts_fen[f],
            }
            for f in FACTORS
        ]
        rows.append(
            {
                "factor": "residual",
                "name_zh": "未归因",
                "name_en": "Unexplained (orders without visits)",
                "before": None,
                "after": None,
                "part_fen": d.residual,
            }
        )
        rows.append(
            {
                "factor": "gmv",
                "name_zh": "支付金额",
                "name_en": "GMV",
                "before": d.gmv_before,
                "after": d.gmv_after,
                "part_fen": d.change,
            }
        )
        for name, zh, en, pair in (
            ("new_buyer_gmv", "新买家支付金额", "New buyers' GMV", d.new_buyer_gmv),
            (
                "returning_buyer_gmv",
                "老买家支付金额",
                "Returning buyers' GMV",
                d.returning_buyer_gmv,
            ),
        ):
            rows.append(
                {
                    "factor": name,
                    "name_zh": zh,
                    "name_en": en,
                    "before": pair[0],
                    "after": pair[1],
                    "part_fen": pair[1] - pair[0],
                }
            )
        return rows


def daily_report(
    wh: Warehouse,
    day: dt.date,
    *,
    codes: Iterable[str] | None = None,
    timezone: str = "Asia/Shanghai",
) -> DailyReport:
    """All available metrics (or `codes`, plus what the decomposition needs) for `day`."""
    period = day_period(day)
    wanted: Sequence[str] | None = None
    if codes is not None:
        wanted = list(dict.fromkeys([*codes, "uv", "buyers", "gmv", "new_buyer_gmv"]))
    evaluation = evaluate(wh, wanted, period, timezone=timezone)
    assert evaluation.previous_period is not None
    decomposition = decompose_evaluation(evaluation.measures, period, evaluation.previous_period)
    return DailyReport(day, evaluation, decomposition)


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        if not rows:
            return
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_rows_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows as a CSV file (UTF-8 with BOM so Excel shows Chinese names)."""
    _csv(path, rows)


def write_report_csv(report: DailyReport, folder: Path) -> list[Path]:
    """`metrics-<day>.csv` and `decomposition-<day>.csv` in `folder`."""
    day = report.day.isoformat()
    metrics_path = folder / f"metrics-{day}.csv"
    decomposition_path = folder / f"decomposition-{day}.csv"
    _csv(metrics_path, report.metric_rows())
    _csv(decomposition_path, report.decomposition_rows())
    return [metrics_path, decomposition_path]


def write_report_xlsx(report: DailyReport, path: Path) -> Path:
    """The report as an Excel workbook: a metrics sheet and a decomposition sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "指标 Metrics"
    header = [
        "分组",
        "Group",
        "指标",
        "Metric",
        "code",
        "值 Value",
        "显示 Display",
        "前一天 Previous",
        "环比 Change",
        "去年同期 Last year",
        "同比 YoY",
    ]
    ws.append(header)
    for r in report.results():
        m = r.metric
        ws.append(
            [
                m.group,
                GROUP_EN[m.group],
                m.name_zh,
                m.name_en,
                m.code,
                r.value,
                format_value(m, r.value),
                r.previous,
                r.change,
                r.last_year,
                r.yoy,
            ]
        )
        for col in (9, 11):
            ws.cell(row=ws.max_row, column=col).number_format = "0.0%"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ds = wb.create_sheet("GMV拆解 Decomposition")
    rows = report.decomposition_rows()
    ds.append(list(rows[0]))
    for row in rows:
        ds.append(list(row.values()))
    for cell in ds[1]:
        cell.font = Font(bold=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
