"""`shopops metrics` and `shopops report`: Rich tables, CSV and Excel, errors without tracebacks."""

from __future__ import annotations

import csv

import pytest
import typer
from openpyxl import load_workbook
from tests.analytics.warehouse_fixture import write_warehouse
from typer.testing import CliRunner

from shopops.analytics.cli import register
from shopops.config import get_settings

runner = CliRunner()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPOPS_ANALYTICS_BACKEND", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    write_warehouse(tmp_path / "warehouse")
    cli = typer.Typer()
    register(cli)
    yield cli
    get_settings.cache_clear()


def test_metrics_by_channel(app, tmp_path):
    out = tmp_path / "m.csv"
    r = runner.invoke(
        app,
        [
            "metrics",
            "--period",
            "2026-11-11",
            "--by",
            "channel",
            "--metric",
            "gmv,uv",
            "--csv",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "支付金额" in r.output and "GMV" in r.output
    assert "¥290.00" in r.output  # 29000 fen
    assert "private_domain" in r.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    total = next(x for x in rows if x["metric"] == "gmv" and x["part"] == "total")
    assert total["value"] == "29000" and total["previous"] == "10000"
    direct = next(x for x in rows if x["metric"] == "gmv" and x["key"] == "direct")
    assert direct["value"] == "19500"


def test_metrics_series_and_filter(app):
    r = runner.invoke(
        app,
        [
            "metrics",
            "--period",
            "2026-11-10..2026-11-11",
            "--grain",
            "day",
            "--metric",
            "gmv",
            "--filter",
            "sales_channel=douyin",
            "--compare",
            "none",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "2026-11-11" in r.output and "¥85.00" in r.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["metrics", "--period", "2026-13"], "bad period"),
        (["metrics", "--period", "2026-11", "--metric", "nope"], "unknown metric"),
        (["metrics", "--period", "2026-11", "--by", "zodiac"], "unknown dimension"),
        (
            ["metrics", "--period", "2026-11", "--metric", "stockout_rate", "--by", "channel"],
            "cannot be sliced",
        ),
        (["metrics", "--period", "2026-11", "--metric", "csat"], "not available"),
        (["metrics", "--period", "2026-11", "--filter", "channel"], "bad filter"),
        (["metrics", "--period", "2026-11", "--grain", "hour"], "unknown grain"),
        (["report", "--date", "2026-11"], "one day"),
        (["report", "--date", "garbage"], "bad period"),
    ],
)
def test_bad_input_is_an_error_not_a_traceback(app, args, fragment):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert fragment in r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_report_with_exports(app, tmp_path):
    xlsx = tmp_path / "out" / "report.xlsx"
    folder = tmp_path / "csv"
    r = runner.invoke(
        app, ["report", "--date", "2026-11-11", "--xlsx", str(xlsx), "--csv", str(folder)]
    )
    assert r.exit_code == 0, r.output
    for text in ("流量", "转化", "客单价", "复购", "售后库存服务", "LMDI", "访客数", "Visitors"):
        assert text in r.output
    wb = load_workbook(xlsx)
    sheet = wb["指标 Metrics"]
    gmv = next(row for row in sheet.iter_rows(values_only=True) if row[4] == "gmv")
    assert gmv[5] == 29000 and gmv[7] == 10000
    parts = list(wb["GMV拆解 Decomposition"].iter_rows(values_only=True))[1:]
    by_factor = {row[0]: row for row in parts}
    assert sum(by_factor[f][5] for f in ("uv", "conversion_rate", "aov", "residual")) == 19000
    metrics_csv = folder / "metrics-2026-11-11.csv"
    with metrics_csv.open(encoding="utf-8-sig") as fh:
        codes = {row["code"] for row in csv.DictReader(fh)}
    assert {"gmv", "uv", "turnover_days"} <= codes
    assert (folder / "decomposition-2026-11-11.csv").exists()


def test_report_on_an_empty_day(app):
    r = runner.invoke(app, ["report", "--date", "2020-01-01"])
    assert r.exit_code == 0, r.output
    assert "—" in r.output
