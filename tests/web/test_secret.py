"""Every worker process signs console sessions with the same secret, kept in the data dir."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shopops.web.auth import console_secret, decode_session, encode_session


def test_workers_share_one_secret_and_it_survives_a_restart(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPOPS_CONSOLE_SECRET", raising=False)
    with ThreadPoolExecutor(8) as pool:  # workers starting at the same moment
        secrets = set(pool.map(lambda _: console_secret(tmp_path), range(8)))
    assert len(secrets) == 1
    (secret,) = secrets
    assert len(secret) == 32
    assert console_secret(tmp_path) == secret  # a restart reads the same file
    assert (tmp_path / "console.secret").stat().st_mode & 0o777 == 0o600
    cookie = encode_session(secret, {"uid": 1, "iat": time.time()})
    assert decode_session(console_secret(tmp_path), cookie)["uid"] == 1
    assert decode_session(b"another worker's own secret" * 2, cookie) == {}


def test_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPOPS_CONSOLE_SECRET", "fixed")
    assert console_secret(tmp_path) == b"fixed"
    assert not (tmp_path / "console.secret").exists()


def test_a_damaged_secret_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPOPS_CONSOLE_SECRET", raising=False)
    (tmp_path / "console.secret").write_bytes(b"short")
    with pytest.raises(RuntimeError, match="damaged"):
        console_secret(tmp_path)
