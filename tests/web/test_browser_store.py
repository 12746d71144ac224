"""Playwright on Debian's Chromium against a live console: the store pages open with their
charts drawn from data and no console errors; a refund, a shipment, a stock adjustment and a
return approval done by filling the forms (the refund with the keyboard only). Screenshots go
to tests/web/artifacts/ (gitignored)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shopops.aftersales.models import ReturnRequest
from shopops.analytics.periods import shop_today
from shopops.db import session_scope
from shopops.inventory.models import StockLevel
from shopops.orders.models import Order
from tests.web.test_browser import ARTIFACTS, _page, base_url, chromium  # noqa: F401
from tests.web.test_browser_analytics import POINTS
from tests.web.test_store_pages import Store, store  # noqa: F401

pytestmark = pytest.mark.slow
# Page coordinates of the centre of a chart's tallest bar (phases without orders draw none).
TALLEST = """(id) => { const el = document.getElementById(id); el.scrollIntoView();
  let best = null, area = 0;
  el.querySelectorAll('.trace .point path').forEach((p) => { const r = p.getBoundingClientRect();
    if (r.width * r.height > area) { area = r.width * r.height; best = r; } });
  return [best.x + best.width / 2, best.y + best.height / 2]; }"""


def _click(page, xy) -> None:  # type: ignore[no-untyped-def]
    # A real pointer: move first (Plotly picks the point on hover), then press and release.
    page.mouse.move(xy[0], xy[1])
    page.wait_for_timeout(150)
    page.mouse.click(xy[0], xy[1])


def test_store_pages_in_a_browser(chromium, base_url, store: Store, shop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, engine = shop
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(chromium, base_url, "operator")
    today = shop_today("Asia/Shanghai")
    start = today - dt.timedelta(days=8)
    page.goto(f"/console/promotions?start={start}&end={today}")
    for chart in ("campaign-chart", "coupon-chart", "share-chart"):
        page.wait_for_selector(f"#{chart}[data-drawn='1']")
        assert page.evaluate(POINTS, chart) > 0, chart
    assert page.locator(f"#promotion-{store.promo_id} .status").inner_text() == "进行中"
    page.screenshot(path=ARTIFACTS / "promotions.png", full_page=True)
    # Drill-down: a campaign's bar opens the page for that campaign only.
    with page.expect_navigation():
        _click(page, page.evaluate(TALLEST, "campaign-chart"))
    assert "campaign=" in page.url
    page.wait_for_selector("#all-campaigns")
    assert (
        len({r.split("\t")[0] for r in page.locator("#campaigns tbody").inner_text().splitlines()})
        == 1
    )

    page.goto("/console/catalog?q=预热款")
    assert page.locator("#products tbody tr").count() >= 1
    page.screenshot(path=ARTIFACTS / "catalog.png", full_page=True)

    product = f"/console/catalog/{store.product_id}"
    page.goto(product)
    page.wait_for_selector("#stock-chart[data-drawn='1']")
    assert page.evaluate(POINTS, "stock-chart") > 0
    with session_scope(engine) as s:
        before = s.scalars(
            select(StockLevel.on_hand).where(
                StockLevel.sku_id == store.sku_ids[1], StockLevel.warehouse_id == store.warehouse_id
            )
        ).one()
    page.select_option("#target", f"{store.sku_ids[1]}:{store.warehouse_id}")
    page.fill("#delta", "4")
    page.fill("#note", "浏览器盘点 browser stocktake")
    page.click("#adjust")
    page.wait_for_selector(".notice")
    assert "浏览器盘点 browser stocktake" in page.locator("#movements").inner_text()
    with session_scope(engine) as s:
        after = s.scalars(
            select(StockLevel.on_hand).where(
                StockLevel.sku_id == store.sku_ids[1], StockLevel.warehouse_id == store.warehouse_id
            )
        ).one()
    assert after == before + 4
    page.screenshot(path=ARTIFACTS / "catalog_product.png", full_page=True)

    # A refund with the keyboard only: labels lead to the fields, Enter submits.
    order = f"/console/orders/{store.paid_number}"
    page.goto(order)
    page.focus("#amount")
    page.keyboard.type("8.80")
    page.keyboard.press("Tab")
    page.keyboard.type("包装破损 damaged box")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".field-error").count() == 0
    with session_scope(engine) as s:
        o = s.scalars(select(Order).where(Order.number == store.paid_number)).one()
        assert o.refunded_amount >= 880 and o.status == "partially_refunded"
    page.goto(order)
    # What is left of a partly refunded order still ships.
    page.select_option("#carrier", "sf")
    with page.expect_navigation():
        page.click("#ship")
    assert page.locator("#status").inner_text() == "已发货"
    page.screenshot(path=ARTIFACTS / "order_actions.png", full_page=True)

    page.goto("/console/returns?status=requested")
    rid = store.returns["approve"]
    with page.expect_navigation():
        page.click(f"#approve-{rid}")
    with session_scope(engine) as s:
        assert s.get(ReturnRequest, rid).status == "approved"  # type: ignore[union-attr]
    page.goto("/console/returns")
    page.screenshot(path=ARTIFACTS / "returns.png", full_page=True)
    assert errors == []
