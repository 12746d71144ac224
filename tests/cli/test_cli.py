"""The `shopops` command on a fresh data directory."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

from shopops.cli import app

runner = CliRunner()


def test_upgrade_keys_verify_backup(data_dir):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "shop.db").exists()

    result = runner.invoke(app, ["keys", "create", "--role", "operator", "--name", "ops"])
    assert result.exit_code == 0, result.output
    key = next(w for w in result.output.split() if w.startswith("sk_"))
    result = runner.invoke(app, ["keys", "list"])
    assert "operator" in result.output and key[:10] in result.output
    assert key not in result.output  # the secret is shown once, at creation

    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert "all invariants hold" in result.output

    result = runner.invoke(app, ["db", "backup", "--out", str(data_dir / "b.db")])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(data_dir / "b.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM api_key").fetchone() == (1,)


def test_bad_role_is_a_clear_error(data_dir):
    result = runner.invoke(app, ["keys", "create", "--role", "pirate"])
    assert result.exit_code == 2
    assert "unknown role" in result.output
    assert "Traceback" not in result.output


def test_verify_fails_on_a_broken_ledger(data_dir):
    runner.invoke(app, ["db", "upgrade"])
    with sqlite3.connect(data_dir / "shop.db") as conn:
        conn.execute("INSERT INTO category (name, slug, position) VALUES ('c', 'c', 0)")
        conn.execute(
            "INSERT INTO product (title, description, category_id, role, tier, status, images,"
            " created_at, updated_at) VALUES ('p', '', 1, 'hit', 'basic', 'listed', '[]',"
            " '2026-01-01', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO sku (product_id, code, attributes, list_price, cost, weight_grams, active)"
            " VALUES (1, 'S1', '{}', 100, 50, 100, 1)"
        )
        conn.execute(
            "INSERT INTO warehouse (code, name, region, city, priority, active)"
            " VALUES ('W', 'w', '', '', 1, 1)"
        )
        conn.execute(
            "INSERT INTO stock_level (sku_id, warehouse_id, on_hand, reserved) VALUES (1, 1, 5, 0)"
        )
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 1
    assert "ledger_on_hand" in result.output
