"""Playwright on Debian's Chromium against a live console on the session's small shop: sign in,
charts drawn with data and no console errors, date range changes the numbers, drill-down,
CSV export, an order action, language switch, 403 for a forbidden role. Screenshots go to
tests/web/artifacts/ (gitignored)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import END, PASSWORD

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def base_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield b
        b.close()


def _page(browser, base_url: str, role: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/console/login")
    page.fill("input[name=username]", f"u_{role}")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, errors


def test_console_in_a_browser(chromium, base_url) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(chromium, base_url, "admin")
    page.goto(f"/console/?start=2026-11-17&end={END}")
    page.wait_for_selector("#gmv_channel .barlayer .point path")
    assert page.locator("#gmv_daily .scatterlayer .trace").count() == 1
    page.screenshot(path=ARTIFACTS / "overview.png", full_page=True)
    gmv_long = page.locator(".kpi[data-code=gmv] .value").inner_text()
    # The date-range picker: a single day shows a smaller GMV.
    page.fill("input[name=start]", END.isoformat())
    page.click(".range button[type=submit]")
    page.wait_for_selector("#gmv_daily .scatterlayer .trace", state="attached")
    assert page.locator(".kpi[data-code=gmv] .value").inner_text() != gmv_long
    # Drill-down: a click on the first channel's bar filters the page to that channel.
    page.goto(f"/console/?start=2026-11-17&end={END}")
    page.wait_for_selector("#gmv_channel .barlayer .point path")
    page.locator("#gmv_channel .barlayer .point path").first.click(force=True)
    page.wait_for_url("**channel=*")
    assert "channel=" in page.url
    # CSV export.
    with page.expect_download() as got:
        page.click("#export-csv")
    assert got.value.suggested_filename.endswith(".csv")
    # Orders and an order action.
    page.goto("/console/orders?status=pending_payment")
    page.screenshot(path=ARTIFACTS / "orders.png", full_page=True)
    page.locator("#orders tbody a").first.click()
    page.fill("#reason", "browser test")
    page.click("#cancel")
    page.wait_for_load_state()
    assert page.locator("#status").inner_text() == "已取消"
    page.screenshot(path=ARTIFACTS / "order.png", full_page=True)
    # Language switch.
    page.click("#switch-locale")
    page.wait_for_load_state()
    assert page.locator("#status").inner_text() == "cancelled"
    page.goto(f"/console/?start=2026-11-17&end={END}")
    page.screenshot(path=ARTIFACTS / "overview_en.png", full_page=True)
    page.click("#switch-locale")
    assert errors == []


def test_forbidden_role_sees_403(chromium, base_url) -> None:  # type: ignore[no-untyped-def]
    page, _ = _page(chromium, base_url, "agent")
    response = page.goto("/console/")
    assert response is not None and response.status == 403
    page.screenshot(path=ARTIFACTS / "forbidden.png")
    assert "无权访问" in page.content()
