"""`shopops analyze …`: Rich tables with zh+en headers, CSV export, clean errors."""

from __future__ import annotations

import csv

import pytest
from tests.analytics.analyses.builders import at, ev, line, order
from typer.testing import CliRunner

from shopops.analytics.analyses import cli
from shopops.analytics.analyses.cli import app

runner = CliRunner()
P = ["--start", "2026-11-01", "--end", "2026-11-30"]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 240)


def _shop(make_wh, tmp_path):
    t = at("2026-11-10", 2)
    make_wh(
        fresh=False,
        fact_events=[ev("1", "product_view", t), ev("1", "pay", t.replace(minute=3))],
        fact_orders=[order(1, 1, t, 5_000), order(2, 1, at("2026-11-20"), 3_000)],
        fact_order_lines=[line(1, 1, t), line(1, 2, t)],
    )
    return ["--data-dir", str(tmp_path)]


def test_commands_print_tables(make_wh, tmp_path):
    d = _shop(make_wh, tmp_path)
    r = runner.invoke(app, ["funnel", "product_view", "pay", *P, *d])
    assert r.exit_code == 0, r.output
    assert "人数 People" in r.output and "pay" in r.output
    for args in (
        ["retention", *P],
        ["rfm", "--as-of", "2026-11-30"],
        ["clv", "--as-of", "2026-11-30"],
        ["basket", *P, "--min-support", "0.5"],
        ["roi", *P],
        ["paths", *P],
    ):
        r = runner.invoke(app, [*args, *d])
        assert r.exit_code == 0, (args, r.output)
    assert "重要价值客户" in runner.invoke(app, ["rfm", "--as-of", "2026-11-30", *d]).output


def test_csv_export(make_wh, tmp_path):
    d = _shop(make_wh, tmp_path)
    out = tmp_path / "f.csv"
    r = runner.invoke(app, ["funnel", "product_view", "pay", *P, "--csv", str(out), *d])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert [row["count"] for row in rows] == ["1", "1"]  # machine column names in CSV


def test_errors_are_messages_not_tracebacks(make_wh, tmp_path):
    d = _shop(make_wh, tmp_path)
    r = runner.invoke(app, ["funnel", "product_view", "teleport", *P, *d])
    assert r.exit_code == 2 and "unknown_event" in r.output
    r = runner.invoke(app, ["retention", "--grain", "decade", *P, *d])
    assert r.exit_code == 2 and "bad_parameter" in r.output
