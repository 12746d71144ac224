"""Fixtures shared by every test: a store database (SQLite, and PostgreSQL when
`SHOPOPS_TEST_DATABASE_URL` is set), units of work, an API client and API keys."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

import shopops.models  # noqa: F401  (registers every table)
from shopops.accounts.service import create_api_key
from shopops.config import Settings
from shopops.db import Base, make_engine, session_scope

PG_URL = os.environ.get("SHOPOPS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _worker_database(url: str) -> str:
    """Each pytest-xdist worker gets its own database, so truncations never cross."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    return sibling_database(url, worker)


def sibling_database(url: str, suffix: str) -> str:
    """A database next to `url`'s (created if missing), for tests that build their own
    schema (migrations, a simulated shop) and must not drop the shared one."""
    base = make_url(url)
    name = f"{base.database}_{suffix}"
    admin_url = base.set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine | None]:
    if not PG_URL:
        yield None
        return
    engine = make_engine(_worker_database(PG_URL))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, _pg_engine: Engine | None
) -> Iterator[Engine]:
    """A fresh, empty store on each backend (PostgreSQL only when configured)."""
    if request.param == "postgresql":
        if _pg_engine is None:
            pytest.skip("set SHOPOPS_TEST_DATABASE_URL to run on PostgreSQL")
        _truncate(_pg_engine)
        yield _pg_engine
        return
    eng = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests that need not run on both backends (API, CLI)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the store; the test decides when to commit."""
    with Session(engine, expire_on_commit=False, autoflush=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def uow(engine: Engine) -> Callable[..., object]:
    """`with uow() as s:` — one committed unit of work, as the API or CLI would run it."""

    def _scope(readonly: bool = False):  # type: ignore[no-untyped-def]
        return session_scope(engine, readonly=readonly)

    return _scope


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def client(sqlite_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    from shopops.api.app import create_app

    app = create_app(settings, engine=sqlite_engine)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api_headers(sqlite_engine: Engine) -> Callable[..., dict[str, str]]:
    """`api_headers("operator")` → headers with a fresh key of that role."""

    def _make(role: str, customer_id: int | None = None) -> dict[str, str]:
        with session_scope(sqlite_engine) as s:
            _, plain = create_api_key(s, role=role, customer_id=customer_id)
        return {"Authorization": f"Bearer {plain}"}

    return _make
