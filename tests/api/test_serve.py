"""`shopops serve`: the worker count, and the background jobs running in one process only."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from shopops import cli
from shopops.config import Settings


@pytest.fixture
def served(monkeypatch, tmp_path):
    """Runs `shopops serve …` with uvicorn and the scheduler replaced by recorders."""
    monkeypatch.setenv("SHOPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPOPS_WORKERS", raising=False)
    cli.get_settings.cache_clear()
    record: dict[str, object] = {"started": 0, "stopped": 0}

    class FakeScheduler:
        def __init__(self, engine, settings):  # type: ignore[no-untyped-def]
            pass

        def start(self) -> None:
            record["started"] = int(record["started"]) + 1  # type: ignore[call-overload]

        def stop(self) -> None:
            record["stopped"] = int(record["stopped"]) + 1  # type: ignore[call-overload]

    def fake_run(app, **options):  # type: ignore[no-untyped-def]
        record["app"], record["options"] = app, options

    import uvicorn

    import shopops.jobs

    monkeypatch.setattr(shopops.jobs, "Scheduler", FakeScheduler)
    monkeypatch.setattr(uvicorn, "run", fake_run)

    def _invoke(*args: str):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli.app, ["serve", "--port", "8765", *args])
        return result, record

    yield _invoke
    cli.get_settings.cache_clear()


def test_workers_option_runs_the_factory_in_n_processes_and_jobs_once(served):
    result, record = served("--workers", "3")
    assert result.exit_code == 0, result.output
    assert record["app"] == "shopops.api.app:create_app"
    options = record["options"]
    assert options["workers"] == 3 and options["factory"] is True  # type: ignore[index]
    assert options["port"] == 8765 and options["loop"] == "auto"  # type: ignore[index]
    assert record["started"] == 1 and record["stopped"] == 1  # in the supervisor only


def test_one_worker_serves_the_app_in_process(served):
    result, record = served("--workers", "1")
    assert result.exit_code == 0, result.output
    assert not isinstance(record["app"], str)  # the app object itself, beside the scheduler
    assert "workers" not in record["options"]  # type: ignore[operator]
    assert record["started"] == 1


@pytest.mark.parametrize("bad", ["0", "-2", "many"])
def test_workers_option_refuses_nonsense(served, bad):
    result, record = served("--workers", bad)
    assert result.exit_code == 2
    assert "app" not in record and record["started"] == 0


def test_default_workers_come_from_settings_then_cpus():
    assert cli.serve_workers(Settings(), None) == (os.cpu_count() or 1)
    assert cli.serve_workers(Settings(workers=3), None) == 3
    assert cli.serve_workers(Settings(workers=3), 5) == 5
