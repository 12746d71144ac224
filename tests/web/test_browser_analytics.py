"""The analytics pages (Traffic, Conversion, Customers, Products) in Chromium: every chart is
drawn with data and no console errors. Screenshots in tests/web/artifacts/ (gitignored)."""

from __future__ import annotations

from pathlib import Path

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


# Page coordinates of point `i` of a chart's first trace: the centre of its drawn shape (bars,
# treemap tiles), or for a heatmap the centre of cell (x index i, y index j) from the axes;
# scrolled into view first (the mouse only reaches what the viewport shows).
SHAPE = """([id, i]) => { const el = document.getElementById(id); el.scrollIntoView();
  const shapes = el.querySelectorAll('.trace .point path, g.slice path.surface');
  const r = shapes[i].getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2]; }"""
# A treemap's biggest tile that is not the (implied) root covering all of them.
TILE = """id => { const el = document.getElementById(id); el.scrollIntoView();
  const rs = [...el.querySelectorAll('g.slice path.surface')].map(p => p.getBoundingClientRect())
    .sort((a, b) => b.width * b.height - a.width * a.height);
  const r = rs.length > 1 ? rs[1] : rs[0];
  return [r.x + r.width / 2, r.y + r.height / 2]; }"""
CELL = """([id, i, j]) => { const el = document.getElementById(id); el.scrollIntoView();
  const L = el._fullLayout;
  const t = el._fullData[0]; const box = el.getBoundingClientRect();
  return [box.x + L.xaxis._offset + L.xaxis.d2p(t.x[i]),
          box.y + L.yaxis._offset + L.yaxis.d2p(t.y[j])]; }"""


HOVERED = "id => { const d = document.getElementById(id)._hoverdata; return !!(d && d.length); }"


def _click(page, chart: str, xy, *, cartesian: bool = True) -> None:  # type: ignore[no-untyped-def]
    # A real pointer: move onto the point and wait until Plotly has picked it (hover is
    # throttled to animation frames: slow on a loaded machine), then press and release.
    # A treemap tile handles its own mouse events (no hover data to wait for).
    page.mouse.move(xy[0] - 2, xy[1] - 2)
    page.mouse.move(xy[0], xy[1], steps=3)
    if cartesian:
        page.wait_for_function(HOVERED, arg=chart, timeout=10_000)
    else:
        page.wait_for_timeout(300)
    page.mouse.click(xy[0], xy[1])


def _open(page, url: str, chart: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_selector(f"#{chart}[data-drawn='1']")


def test_products_bar_click_opens_the_product(chromium, base_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, errors = _page(chromium, base_url, "analyst")
    _open(page, f"/console/products?{RANGE}", "ranking")
    expected = page.evaluate("() => document.getElementById('ranking')._fullData[0].customdata")
    # A bar in the middle: the top one sits under Plotly's mode bar.
    i = len(expected) // 2
    with page.expect_navigation():
        _click(page, "ranking", page.evaluate(SHAPE, ["ranking", i]))
    assert page.url.endswith(expected[i])
    page.wait_for_selector("#product-view #item-gmv")
    assert errors == []


def test_customers_charts_drill_down_to_customer_lists(chromium, base_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, errors = _page(chromium, base_url, "operator")
    url = f"/console/customers?{RANGE}"
    _open(page, url, "clv")
    # The tallest bar (an empty band draws no shape to aim at).
    ys = page.evaluate("() => document.getElementById('clv')._fullData[0].y")
    i = ys.index(max(ys))
    band = page.evaluate("() => document.getElementById('clv')._fullData[0].customdata")[i]
    with page.expect_navigation():
        _click(page, "clv", page.evaluate(SHAPE, ["clv", i]))
    assert page.url.endswith(band) and "/console/customers/list?" in page.url
    assert page.locator("#customer-list tbody tr").count() > 0
    _open(page, url, "retention")
    with page.expect_navigation():
        _click(page, "retention", page.evaluate(CELL, ["retention", 0, 0]))
    assert "cohort=" in page.url and "k=0" in page.url
    assert page.locator("#customer-list tbody tr").count() > 0
    _open(page, url, "rfm")
    with page.expect_navigation():
        _click(page, "rfm", page.evaluate(TILE, "rfm"), cartesian=False)
    assert "segment=" in page.url
    rows = page.locator("#customer-list tbody tr").count()
    assert rows > 0
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) - 1 == int(
        page.evaluate("() => document.getElementById('list-total').dataset.total")
    )
    assert errors == []


def test_overview_channel_bar_filters_the_overview(chromium, base_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, errors = _page(chromium, base_url, "analyst")
    _open(page, f"/console/?{RANGE}", "gmv_channel")
    page.wait_for_selector("#gmv_hourly[data-drawn='1']")
    with page.expect_navigation():
        _click(page, "gmv_channel", page.evaluate(SHAPE, ["gmv_channel", 0]))
    assert "channel=" in page.url
    assert errors == []
