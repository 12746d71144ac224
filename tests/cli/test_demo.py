"""`shopops demo` and `shopops simulate`: a served-ready shop, a working key, clear errors."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from shopops.api.app import create_app
from shopops.cli import app
from shopops.config import get_settings
from shopops.db import make_engine, session_scope
from shopops.verify import run_checks

runner = CliRunner()


@pytest.mark.usefixtures("data_dir")
def test_demo_builds_once_with_a_working_operator_key(data_dir):
    result = runner.invoke(app, ["demo", "--no-serve", "--days", "2", "--visitors", "120"])
    assert result.exit_code == 0, result.output
    keys = [w for w in result.output.split() if w.startswith("sk_")]
    assert len(keys) == 1
    assert "http://127.0.0.1:8000" in result.output
    client = TestClient(create_app(get_settings()))
    ops = client.get("/admin/orders", headers={"Authorization": f"Bearer {keys[0]}"})
    truth = json.loads((data_dir / "ground_truth.json").read_text())
    placed = sum(sum(d["orders"].values()) for d in truth["days"])
    assert ops.status_code == 200 and ops.json()["total"] == placed > 0
    assert (data_dir / "warehouse").is_dir()
    _console_sign_in_works(result.output)
    _operations_are_set_up(result.output)

    again = runner.invoke(app, ["demo", "--no-serve"])
    assert again.exit_code == 0 and "already exists" in again.output
    assert "sk_" not in again.output

    fresh = runner.invoke(app, ["demo", "--no-serve", "--fresh", "--days", "1", "--visitors", "60"])
    assert fresh.exit_code == 0 and "sk_" in fresh.output
    truth = json.loads((data_dir / "ground_truth.json").read_text())
    assert len(truth["days"]) == 1


def _operations_are_set_up(output: str) -> None:
    """The seed's goals are installed and the default rules ran over the simulated days."""
    from shopops.ops.alerts.models import AlertRule
    from shopops.ops.goals.defaults import DEFAULT_GOALS
    from shopops.ops.goals.service import list_goals

    assert "alerts:" in output and "opened from" in output
    engine = make_engine(get_settings().resolved_database_url)
    with session_scope(engine, readonly=True) as session:
        assert len(list_goals(session)) == len(DEFAULT_GOALS)
        assert session.scalar(select(func.count()).select_from(AlertRule)) > 0
    engine.dispose()


def _console_sign_in_works(output: str) -> None:
    """Once the console's accounts exist (issue 6), the demo prints a sign-in that works."""
    from shopops.accounts import service as accounts

    if not hasattr(accounts, "authenticate_console_user"):
        assert "console sign-in" not in output
        return
    line = next(x for x in output.splitlines() if "console sign-in" in x)
    username, password = line.split("sign-in:")[1].split(" / ")
    engine = make_engine(get_settings().resolved_database_url)
    with session_scope(engine, readonly=True) as session:
        user = accounts.authenticate_console_user(
            session, username=username.strip(), password=password.strip()
        )
        assert user.role == "operator"
    engine.dispose()


@pytest.mark.usefixtures("data_dir")
def test_simulate_continues_an_existing_shop_day_by_day(data_dir):
    first = runner.invoke(
        app, ["simulate", "--days", "2", "--visitors", "80", "--end", "2026-11-05"]
    )
    assert first.exit_code == 0, first.output
    more = runner.invoke(app, ["simulate", "--days", "1", "--end", "2026-11-30"])
    assert more.exit_code == 0, more.output
    truth = json.loads((data_dir / "ground_truth.json").read_text())
    assert [d["date"] for d in truth["days"]] == ["2026-11-04", "2026-11-05", "2026-11-06"]
    engine = make_engine(get_settings().resolved_database_url)
    assert [r.check.name for r in run_checks(engine) if not r.ok] == []
    engine.dispose()


@pytest.mark.usefixtures("data_dir")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--days", "-3"], "days must be"),
        (["simulate", "--days", "0"], "days must be"),
        (["simulate", "--visitors", "0"], "visitors must be"),
        (["simulate", "--scenario", "rainy"], "unknown scenario 'rainy'"),
        (["simulate", "--end", "2026-13-01"], "month must be"),
        (["simulate", "--incident", "flood:2026-11-01"], "expected kind"),
        (["simulate", "--incident", "traffic_drop:2026-11-01:1:tv"], "unknown channel 'tv'"),
        (["simulate", "--incident", "traffic_drop:2026-11-01"], "needs a channel"),
        (["demo", "--no-serve", "--visitors", "-5"], "visitors must be"),
    ],
)
def test_impossible_parameters_are_a_clear_error(args, message, data_dir):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())  # Rich wraps long lines
    assert not (data_dir / "shop.db").exists()  # nothing was built
