"""`shopops users create`: the account signs in with its password; bad input exits 2."""

from __future__ import annotations

from typer.testing import CliRunner

from shopops.accounts.errors import InvalidCredentials
from shopops.accounts.service import authenticate_console_user
from shopops.cli import app
from shopops.config import get_settings
from shopops.db import make_engine, session_scope


def test_create_user_then_sign_in(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHOPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPOPS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    args = ["users", "create", "--username", "lin", "--role", "analyst", "--password", "s3cret-pw"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "taken" in again.output
    short = runner.invoke(app, ["users", "create", "--username", "x", "--password", "short"])
    assert short.exit_code == 2
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with session_scope(engine) as s:
        assert authenticate_console_user(s, username="lin", password="s3cret-pw").role == "analyst"
        try:
            authenticate_console_user(s, username="lin", password="wrong-pw")
        except InvalidCredentials:
            pass
        else:
            raise AssertionError("a wrong password signed in")
    get_settings.cache_clear()
