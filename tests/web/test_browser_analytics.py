"""The analytics pages (Traffic, Conversion, Customers, Products) in Chromium: every chart is
drawn with data and no console errors. Screenshots in tests/web/artifacts/ (gitignored)."""

from __future__ import annotations

import pytest

from tests.web.conftest import END
from tests.web.test_browser import ARTIFACTS, _page, base_url, chromium  # noqa: F401

pytestmark = pytest.mark.slow
RANGE = f"start=2026-11-15&end={END}"
CHARTS = {
    "traffic": ("uv_channel", "share", "roi_channel"),
    "conversion": ("funnel",),
    "customers": ("rfm", "lifecycle", "clv", "retention"),
    "products": ("ranking", "categories"),
}
# How many points a chart's first trace draws (Plotly keeps the drawn data on the element).
POINTS = """id => { const el = document.getElementById(id);
  const t = el && el._fullData && el._fullData[0];
  if (!t || !el.querySelector('.main-svg')) return 0;
  const v = t.values || t.x || t.z || []; return v.length; }"""


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_analytics_page_draws_its_charts(chromium, base_url, name) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(chromium, base_url, "analyst")
    page.goto(f"/console/{name}?{RANGE}")
    page.wait_for_load_state("networkidle")
    for chart in CHARTS[name]:
        page.wait_for_selector(f"#{chart} .main-svg")
        assert page.evaluate(POINTS, chart) > 0, chart
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    assert errors == []
