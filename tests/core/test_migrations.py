"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import shopops.models  # noqa: F401
from shopops.db import Base, make_engine
from shopops.migrate import current_revision, upgrade

PG_URL = os.environ.get("SHOPOPS_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'mig.db'}")
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("set SHOPOPS_TEST_DATABASE_URL to run on PostgreSQL")
    name = f"shopops_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_upgrade_matches_models_and_is_idempotent(empty_engine):
    upgrade(empty_engine)
    upgrade(empty_engine)  # a second run (serve on every start) changes nothing
    assert current_revision(empty_engine) is not None
    with empty_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
