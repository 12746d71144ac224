"""ONE small simulated shop for all console tests, with one console account per role."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopops.accounts.service import create_console_user
from shopops.api.app import create_app
from shopops.config import Settings
from shopops.db import make_engine, session_scope
from shopops.migrate import upgrade
from shopops.sim import SimulationConfig, build_sample_shop
from tests import factories

END = dt.date(2026, 11, 30)
PASSWORD = "console-pass-1"
ROLES = ("admin", "operator", "analyst", "agent")


@pytest.fixture(scope="session")
def shop(tmp_path_factory):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("web_shop")), database_url=None)
    build_sample_shop(settings, SimulationConfig(days=16, visitors=150, seed=7, end=END))
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    with session_scope(engine) as s:
        for role in ROLES:
            create_console_user(s, username=f"u_{role}", role=role, password=PASSWORD)
        # Two unpaid orders for the cancel tests (the simulator's unpaid ones expire).
        for price in (12_300, 45_600):
            factories.placed_order(s, price=price)
    return settings, engine


@pytest.fixture(scope="session")
def app(shop):  # type: ignore[no-untyped-def]
    settings, engine = shop
    return create_app(settings, engine=engine)


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def sign_in(app, role: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, follow_redirects=False)
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"username": f"u_{role}", "password": PASSWORD, "csrf": csrf_of(page.text)},
    )
    assert resp.status_code == 303, resp.text
    return client
