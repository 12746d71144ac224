"""The operations pages (Goals, Alerts, the rule editor, Reports) in Chromium: each opens
with its content, a bad rule is refused next to its field, and the console shows no errors.
Screenshots in tests/web/artifacts/ (gitignored)."""

from __future__ import annotations

import pytest

from tests.web.test_browser import ARTIFACTS, _page, base_url, chromium  # noqa: F401

pytestmark = pytest.mark.slow


def test_operations_pages_in_a_browser(chromium, base_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(chromium, base_url, "operator")

    page.goto("/console/goals")
    # The seed's targets are installed on first view: one row per goal with its progress.
    assert page.locator("#goals tbody tr").count() >= 5
    page.screenshot(path=ARTIFACTS / "goals.png", full_page=True)

    page.goto("/console/alerts")
    assert page.locator("#rule-list").is_visible()
    page.screenshot(path=ARTIFACTS / "alerts.png", full_page=True)

    page.goto("/console/alerts/rules/edit")
    page.fill("#rule-code", "browser_rule")
    page.fill("#rule-value", "not a number")
    page.click("#save-rule")
    page.wait_for_load_state()
    # Refused next to the field with a 422 (which Chromium logs as a failed load), nothing saved.
    assert page.locator("#rule-value-error").is_visible()
    assert len(errors) == 1 and "422" in errors[0], errors
    errors.clear()
    page.screenshot(path=ARTIFACTS / "rule_editor.png", full_page=True)
    page.goto("/console/alerts")
    assert page.locator("#rule-browser_rule").count() == 0

    page.goto("/console/reports")
    assert page.locator("main").inner_text().strip()
    page.screenshot(path=ARTIFACTS / "reports.png", full_page=True)
    assert errors == []
