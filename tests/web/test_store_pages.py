"""The store pages through the TestClient: promotions (campaign phases, promotion actions,
coupon counts), catalog & stock (list, edit with price history, stock adjustments), the
orders' ship and refund actions and the returns queue. Numbers are checked against data this
module creates and counts by hand; every refusal is checked to change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from shopops.accounts.service import create_console_user
from shopops.aftersales import service as aftersales
from shopops.aftersales.models import ReturnRequest
from shopops.analytics.periods import shop_today
from shopops.api.app import create_app
from shopops.catalog.models import Product, Sku
from shopops.config import Settings
from shopops.db import make_engine, now, session_scope
from shopops.fulfillment.models import Shipment
from shopops.inventory.models import StockLevel, StockMovement
from shopops.orders.models import Order
from shopops.orders.service import mark_delivered, mark_shipped, place_order
from shopops.payments.models import Refund
from shopops.payments.service import pay_order
from shopops.pricing.models import PriceChange
from shopops.promotions import service as promotions
from shopops.promotions.models import PromotionDef
from shopops.promotions.schemas import CampaignCreate, PromotionCreate, TemplateCreate
from shopops.sim import SimulationConfig, build_sample_shop
from shopops.web.i18n import Formatter
from tests import factories
from tests.conftest import sibling_database
from tests.web.conftest import END, PASSWORD, ROLES, csrf_of, sign_in

ZH = Formatter("zh_CN")
PG_URL = os.environ.get("SHOPOPS_TEST_DATABASE_URL")

if PG_URL:
    # On PostgreSQL this module builds its own smaller shop in the given (emptied) database;
    # the shared shop of tests/web/conftest.py stays on SQLite.
    @pytest.fixture(scope="module")
    def shop(tmp_path_factory):  # type: ignore[no-untyped-def]
        url = sibling_database(PG_URL, "store_pages")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        data = Path(tmp_path_factory.mktemp("store_pg"))
        settings = Settings(data_dir=data, database_url=url)
        build_sample_shop(settings, SimulationConfig(days=8, visitors=80, seed=7, end=END))
        engine = make_engine(settings.resolved_database_url)
        with session_scope(engine) as s:
            for role in ROLES:
                create_console_user(s, username=f"u_{role}", role=role, password=PASSWORD)
        yield settings, engine
        engine.dispose()

    @pytest.fixture(scope="module")
    def app(shop):  # type: ignore[no-untyped-def]
        settings, engine = shop
        return create_app(settings, engine=engine)


@dataclass
class Store:
    """What this module created, with the numbers it expects."""

    campaign_id: int
    campaign_name: str
    warm_orders: list[str]
    warm_gmv: int
    warm_discount: int
    promo_id: int
    draft_id: int
    template_id: int
    product_id: int
    sku_ids: list[int]
    warehouse_id: int
    paid_number: str
    pending_number: str
    returns: dict[str, int]


def _pay(s: Any, order: Order) -> Order:
    payment = pay_order(s, order_id=order.id, channel="wechat_pay", gateway=factories.gateway())
    assert payment.status == "succeeded"
    return order


def _campaign(s: Any) -> tuple[int, int, int]:
    """A campaign whose warm-up phase runs now, with a 10 % promotion on one product."""
    at = now(s)
    day = dt.timedelta(days=1)
    spec = CampaignCreate(
        name="测试大促 store-test",
        starts_at=at - day,
        ends_at=at + 9 * day,
        budget_amount=500_000,
        phases=[
            {"phase": "warm_up", "starts_at": at - day, "ends_at": at + day},
            {"phase": "peak", "starts_at": at + day, "ends_at": at + 5 * day},
            {"phase": "wrap_up", "starts_at": at + 5 * day, "ends_at": at + 9 * day},
        ],
    )
    campaign = promotions.create_campaign(s, spec=spec)
    prod = factories.product(s, price=10_000, cost=4_000, stock=50, title="预热款 warm-up item")
    promo = promotions.create_promotion(
        s,
        spec=PromotionCreate(
            name="预热9折 warm-up 10% off",
            kind="percent_off",
            params={"percent_bp": 1000},
            conditions={"items": {"product_ids": [prod.id]}},
            combines_with=["order", "shipping"],
            starts_at=at - day,
            ends_at=at + 9 * day,
        ),
    )
    promotions.attach_promotion(s, campaign_id=campaign.id, promotion_id=promo.id, phase="warm_up")
    promotions.change_status(s, promotion_id=promo.id, action="activate")
    promotions.clear_cache()
    return campaign.id, promo.id, prod.skus[0].id


@pytest.fixture(scope="module")
def store(shop) -> Store:  # type: ignore[no-untyped-def]
    _, engine = shop
    with session_scope(engine) as s:
        campaign_id, promo_id, warm_sku = _campaign(s)
        warm = []
        for quantity in (1, 2):
            cust = factories.customer(s)
            order = place_order(s, customer_id=cust.id, lines=[(warm_sku, quantity)])
            warm.append(_pay(s, order))
        draft = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="草稿券 draft coupon",
                kind="instant",
                params={"amount": 500},
                requires_coupon=True,
                combines_with=["order", "shipping"],
            ),
        )
        promotions.change_status(s, promotion_id=draft.id, action="activate")
        template = promotions.create_template(
            s, spec=TemplateCreate(promotion_id=draft.id, name="店铺券 ¥5", claimable=True)
        )
        holders = [factories.customer(s) for _ in range(3)]
        for c in holders[:2]:
            promotions.issue_coupon(s, template_id=template.id, customer_id=c.id, reason="test")
        claimed = promotions.claim_coupon(s, template_id=template.id, customer_id=holders[2].id)
        coupon_product = factories.product(s, price=8_000, cost=3_000)
        used = place_order(
            s,
            customer_id=holders[2].id,
            lines=[(coupon_product.skus[0].id, 1)],
            coupon_codes=[claimed.code],
        )
        _pay(s, used)
        # A draft promotion (for the refused "pause") and one to activate.
        idle = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="待启用 idle", kind="percent_off", params={"percent_bp": 100}
            ),
        )
        prod = factories.product(s, price=19_900, cost=11_900, stock=20, skus=2)
        level = s.scalars(select(StockLevel).where(StockLevel.sku_id == prod.skus[0].id)).one()
        paid = factories.paid_order(s, price=30_100)
        pending = factories.placed_order(s, price=5_000)
        returns = _returns(s)
        s.flush()
        warm_orders = [o.number for o in warm]
        store = Store(
            campaign_id=campaign_id,
            campaign_name="测试大促 store-test",
            warm_orders=warm_orders,
            warm_gmv=sum(o.paid_amount for o in warm),
            warm_discount=sum(1000 * q for q in (1, 2)),
            promo_id=promo_id,
            draft_id=idle.id,
            template_id=template.id,
            product_id=prod.id,
            sku_ids=[k.id for k in prod.skus],
            warehouse_id=level.warehouse_id,
            paid_number=paid.number,
            pending_number=pending.number,
            returns=returns,
        )
    return store


def _returns(s: Any) -> dict[str, int]:
    """Three delivered orders with a return request each: one to approve, one to refuse, one
    shipped back (in transit) to receive."""
    out: dict[str, int] = {}
    for key in ("approve", "refuse", "receive"):
        cust = factories.customer(s)
        order = factories.paid_order(s, cust=cust, price=6_600)
        mark_shipped(s, order_id=order.id)
        mark_delivered(s, order_id=order.id)
        line = order.lines[0]
        req = aftersales.request_return(
            s,
            customer_id=cust.id,
            order_number=order.number,
            kind="return",
            lines=[(line.id, 1)],
        )
        if key == "receive":
            aftersales.approve_return(s, return_id=req.id)
            aftersales.ship_return(s, customer_id=cust.id, return_id=req.id, carrier_code="sf")
        out[key] = req.id
    return out


def _post(client: Any, page: str, url: str, data: dict[str, str]) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf": token})


def _csv(resp: Any) -> list[list[str]]:
    assert resp.status_code == 200
    return list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))


# ---- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed", "refused"),
    [
        ("/console/promotions", ("operator", "analyst", "admin"), ("agent",)),
        ("/console/catalog", ("operator", "admin"), ("analyst", "agent")),
        ("/console/returns", ("operator", "agent", "admin"), ("analyst",)),
    ],
)
def test_roles(app, store, path, allowed, refused) -> None:  # type: ignore[no-untyped-def]
    for role in allowed:
        assert sign_in(app, role).get(path).status_code == 200, role
    for role in refused:
        resp = sign_in(app, role).get(path)
        assert resp.status_code == 403 and "Traceback" not in resp.text, role


def test_analyst_may_not_change_a_promotion(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "analyst")
    resp = _post(
        client, "/console/promotions", f"/console/promotions/{store.draft_id}/activate", {}
    )
    assert resp.status_code == 403
    with session_scope(shop[1]) as s:
        assert s.get(PromotionDef, store.draft_id).status == "draft"  # type: ignore[union-attr]


# ---- promotions -------------------------------------------------------------------------------


def test_campaign_phases_show_the_redemptions(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    today = shop_today("Asia/Shanghai")
    rng = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": today.isoformat()}
    resp = client.get("/console/promotions", params=rng)
    assert resp.status_code == 200
    assert store.campaign_name in resp.text and 'id="campaign-chart"' in resp.text
    rows = _csv(client.get("/console/promotions", params={**rng, "export": "campaigns_csv"}))
    header, body = rows[0], rows[1:]
    mine = [dict(zip(header, r, strict=True)) for r in body if r[0] == str(store.campaign_id)]
    by_phase = {r["phase"]: r for r in mine}
    assert set(by_phase) == {"warm_up", "peak", "wrap_up"}
    warm = by_phase["warm_up"]
    assert int(warm["orders"]) == len(store.warm_orders) == 2
    assert int(warm["discount_fen"]) == store.warm_discount == 3000
    assert int(warm["gmv_fen"]) == store.warm_gmv
    assert int(warm["budget_charged_fen"]) == 3000
    assert int(by_phase["peak"]["orders"]) == 0
    assert ZH.money(store.warm_gmv) in resp.text


def test_campaign_drill_down(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    today = shop_today("Asia/Shanghai")
    rng = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": today.isoformat()}
    page = client.get("/console/promotions", params=rng).text
    assert f"&campaign={store.campaign_id}" in page  # the bar's drill-down link
    only = {**rng, "campaign": str(store.campaign_id)}
    rows = _csv(client.get("/console/promotions", params={**only, "export": "promotions_csv"}))
    assert [r[0] for r in rows[1:]] == [str(store.promo_id)]
    rows = _csv(client.get("/console/promotions", params={**only, "export": "campaigns_csv"}))
    assert {r[0] for r in rows[1:]} == {str(store.campaign_id)}
    assert client.get("/console/promotions", params={"campaign": "x"}).status_code == 422


def test_a_range_before_the_campaign_shows_no_results(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    rows = _csv(
        client.get(
            "/console/promotions",
            params={"start": "2026-11-01", "end": "2026-11-05", "export": "campaigns_csv"},
        )
    )
    mine = [r for r in rows[1:] if r[0] == str(store.campaign_id)]
    assert mine and all(r[5] == "0" and r[7] == "0" for r in mine)


def test_coupon_counts(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "analyst")
    today = shop_today("Asia/Shanghai")
    rng = {"start": (today - dt.timedelta(days=2)).isoformat(), "end": today.isoformat()}
    rows = _csv(client.get("/console/promotions", params={**rng, "export": "coupons_csv"}))
    header = rows[0]
    mine = next(
        dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == str(store.template_id)
    )
    # Two issued by staff, one claimed by a shopper (three in all); the claimed one was used.
    assert (mine["issued"], mine["claimed"], mine["redeemed"]) == ("3", "1", "1")
    assert float(mine["redemption_rate"]) == pytest.approx(1 / 3)
    xlsx = client.get("/console/promotions", params={**rng, "export": "coupons_xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows())] == header


def test_promotion_actions_and_refusals(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = "/console/promotions"

    def status() -> str:
        with session_scope(engine) as s:
            return s.get(PromotionDef, store.draft_id).status  # type: ignore[union-attr]

    refused = _post(client, page, f"{page}/{store.draft_id}/pause", {})
    assert refused.status_code == 409 and 'id="action-error"' in refused.text
    assert status() == "draft"
    unknown = _post(client, page, f"{page}/{store.draft_id}/explode", {})
    assert unknown.status_code == 409 and status() == "draft"
    ok = _post(client, page, f"{page}/{store.draft_id}/activate?status=active", {})
    assert ok.status_code == 303 and "status=active" in ok.headers["location"]
    assert status() == "active"
    assert _post(client, page, f"{page}/{store.draft_id}/pause", {}).status_code == 303
    assert status() == "paused"
    missing = _post(client, page, f"{page}/999999/activate", {})
    assert missing.status_code == 404
    no_csrf = client.post(f"{page}/{store.draft_id}/end", data={})
    assert no_csrf.status_code == 403 and status() == "paused"


def test_promotions_bad_input_is_a_message(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    resp = client.get("/console/promotions", params={"start": "yesterday", "status": "bogus"})
    assert resp.status_code == 200 and resp.text.count("field-error") >= 2
    assert client.get("/console/promotions", params={"export": "nope"}).status_code == 422


def test_promotions_metrics_match_evaluate(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    from shopops.analytics.engine import open_warehouse
    from shopops.analytics.metrics import evaluate
    from shopops.analytics.periods import Period

    settings, _ = shop
    client = sign_in(app, "operator")
    resp = client.get("/console/promotions", params={"start": "2026-11-24", "end": "2026-11-30"})
    ev = evaluate(
        open_warehouse(settings.data_dir),
        ["discount_share", "discount_amount"],
        Period(dt.date(2026, 11, 24), dt.date(2026, 11, 30)),
        compare=None,
    )
    assert ev["discount_amount"].value and ev["discount_amount"].value > 0
    assert ZH.percent(ev["discount_share"].value) in resp.text
    assert ZH.money(ev["discount_amount"].value) in resp.text
    assert 'id="share-chart"' in resp.text


# ---- catalog & stock --------------------------------------------------------------------------


def test_catalog_list_filters_and_exports(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    with session_scope(engine) as s:
        listed = s.scalar(
            select(func.count()).select_from(Product).where(Product.status == "listed")
        )
        total = s.scalar(select(func.count()).select_from(Product))
    rows = _csv(client.get("/console/catalog", params={"status": "listed", "export": "csv"}))
    assert len(rows) - 1 == listed
    assert all(r[4] == "listed" for r in rows[1:])
    assert len(_csv(client.get("/console/catalog", params={"export": "csv"}))) - 1 == total
    page = client.get("/console/catalog", params={"q": "预热款"})
    assert page.status_code == 200 and "预热款 warm-up item" in page.text
    # The search rides along in the export and paging links, encoded.
    assert "q=%E9%A2%84%E7%83%AD%E6%AC%BE&amp;" in page.text
    empty = client.get("/console/catalog", params={"q": "no such product & all"})
    assert "card empty" in empty.text
    bad = client.get("/console/catalog", params={"role": "star", "status": "gone", "category": "x"})
    assert bad.status_code == 422 and bad.text.count('class="field-error"') == 3


def test_catalog_paging(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    first = client.get("/console/catalog", params={"page": 1})
    second = client.get("/console/catalog", params={"page": 2})
    assert first.status_code == second.status_code == 200
    assert 'id="next-page"' in first.text
    ids = [r[0] for r in _csv(client.get("/console/catalog", params={"export": "csv"}))[1:]]
    assert (
        f'/console/catalog/{ids[30]}"' in second.text
        and f'/console/catalog/{ids[30]}"' not in first.text
    )


def _sku_state(engine: Any, store: Store) -> tuple[Any, ...]:
    with session_scope(engine) as s:
        p = s.get(Product, store.product_id)
        prices = tuple(s.get(Sku, k).list_price for k in store.sku_ids)  # type: ignore[union-attr]
        changes = s.scalar(select(func.count()).select_from(PriceChange))
        return p.title, p.role, p.status, prices, changes  # type: ignore[union-attr]


def test_product_edit_changes_price_through_pricing(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = f"/console/catalog/{store.product_id}"
    before = _sku_state(engine, store)
    form = {"title": "新标题 new title", "role": "traffic_driver", "status": "listed"}
    form |= {f"price_{store.sku_ids[0]}": "195.00", f"price_{store.sku_ids[1]}": "199.00"}
    form["price_reason"] = "竞品降价 competitor"
    resp = _post(client, page, page, form)
    assert resp.status_code == 303
    title, role, status, prices, changes = _sku_state(engine, store)
    assert (title, role, status) == ("新标题 new title", "traffic_driver", "listed")
    assert prices == (19_500, 19_900) and changes == before[4] + 1
    with session_scope(engine) as s:
        row = s.scalars(select(PriceChange).where(PriceChange.sku_id == store.sku_ids[0])).one()
        assert (row.old_price, row.new_price, row.actor) == (19_900, 19_500, "console:u_operator")
        assert row.reason == "竞品降价 competitor"
    shown = client.get(page)
    assert "console:u_operator" in shown.text and "竞品降价 competitor" in shown.text
    hist = _csv(client.get(page, params={"export": "prices_csv"}))
    assert hist[1][:4] == [f"SKU-{hist[1][0].split('-')[1]}-0", hist[1][1], "19900", "19500"]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"title": ""}, "title-error", 422),
        ({"role": "star"}, "role-error", 422),
        ({"price_0": "abc"}, "price_0-error", 422),
        ({"price_0": "-5"}, "price_0-error", 422),
        ({"price_0": "12.345"}, "price_0-error", 422),
        ({"price_0": "196.00", "price_reason": ""}, "price_reason-error", 422),
        # Below cost: the pricing service refuses the margin band; nothing else is saved.
        ({"price_0": "50.00", "price_reason": "clearance", "title": "X"}, "price_0-error", 409),
        ({"status": "draft", "title": "Y"}, "status-error", 409),
    ],
)
def test_product_edit_refusals_change_nothing(app, store, shop, changes, field, code) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = f"/console/catalog/{store.product_id}"
    before = _sku_state(engine, store)
    form = {"title": before[0], "role": before[1], "status": before[2], "price_reason": "why"}
    for k, v in changes.items():
        form[k.replace("price_0", f"price_{store.sku_ids[0]}")] = v
    resp = _post(client, page, page, form)
    assert resp.status_code == code, resp.text[-500:]
    assert f'id="{field.replace("price_0", f"price_{store.sku_ids[0]}")}"' in resp.text
    assert "Traceback" not in resp.text
    assert _sku_state(engine, store) == before


def _level(engine: Any, store: Store) -> tuple[int, int, int]:
    with session_scope(engine) as s:
        lv = s.scalars(
            select(StockLevel).where(
                StockLevel.sku_id == store.sku_ids[0], StockLevel.warehouse_id == store.warehouse_id
            )
        ).one()
        moves = s.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.sku_id == store.sku_ids[0])
        )
        return lv.on_hand, lv.reserved, moves  # type: ignore[return-value]


def test_stock_levels_and_adjustments(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = f"/console/catalog/{store.product_id}"
    on_hand, reserved, moves = _level(engine, store)
    target = f"{store.sku_ids[0]}:{store.warehouse_id}"
    resp = _post(
        client, page, f"{page}/stock", {"target": target, "delta": "-3", "note": "盘点 stocktake"}
    )
    assert resp.status_code == 303
    assert _level(engine, store) == (on_hand - 3, reserved, moves + 1)
    with session_scope(engine) as s:
        mv = s.scalars(
            select(StockMovement)
            .where(StockMovement.sku_id == store.sku_ids[0])
            .order_by(StockMovement.id.desc())
        ).first()
        assert (mv.reason, mv.on_hand_delta) == ("adjustment", -3)  # type: ignore[union-attr]
        assert mv.note == "盘点 stocktake (console: u_operator)"  # type: ignore[union-attr]
    rows = _csv(client.get(page, params={"export": "stock_csv"}))
    mine = [r for r in rows[1:] if r[0].endswith("-0")]
    assert [int(mine[0][2]), int(mine[0][3]), int(mine[0][4])] == [
        on_hand - 3,
        reserved,
        on_hand - 3 - reserved,
    ]
    assert 'id="stock-chart"' in client.get(page).text
    ledger = _csv(client.get(page, params={"export": "ledger_csv"}))
    assert ledger[1][3:] == ["adjustment", "-3", "0", "盘点 stocktake (console: u_operator)"]


@pytest.mark.parametrize(
    ("form", "field", "code"),
    [
        ({"delta": "0", "note": "x"}, "delta-error", 422),
        ({"delta": "two", "note": "x"}, "delta-error", 422),
        ({"delta": "5", "note": ""}, "note-error", 422),
        ({"delta": "-100000", "note": "too many"}, "delta-error", 409),
        ({"delta": "5", "note": "x", "target": "bogus"}, "target-error", 422),
        ({"delta": "5", "note": "x", "target": "1:1"}, "target-error", 422),
    ],
)
def test_stock_adjustment_refusals_change_nothing(app, store, shop, form, field, code) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = f"/console/catalog/{store.product_id}"
    before = _level(engine, store)
    data = {"target": f"{store.sku_ids[0]}:{store.warehouse_id}", **form}
    resp = _post(client, page, f"{page}/stock", data)
    assert resp.status_code == code and f'id="{field}"' in resp.text
    assert _level(engine, store) == before


def test_unknown_product_is_404(app, store) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(app, "operator").get("/console/catalog/999999").status_code == 404


# ---- orders: ship and refund --------------------------------------------------------------


def _order(engine: Any, number: str) -> tuple[str, int, int, int]:
    with session_scope(engine) as s:
        o = s.scalars(select(Order).where(Order.number == number)).one()
        shipments = s.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.order_id == o.id)
        )
        refunds = s.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == o.id))
        return o.status, o.refunded_amount, shipments, refunds  # type: ignore[return-value]


def test_ship_and_refund_forms_only_where_allowed(app, store) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    pending = client.get(f"/console/orders/{store.pending_number}").text
    assert 'id="ship-form"' not in pending and 'id="refund-form"' not in pending
    paid = client.get(f"/console/orders/{store.paid_number}").text
    assert 'id="ship-form"' in paid and 'id="refund-form"' in paid
    analyst = sign_in(app, "analyst").get(f"/console/orders/{store.paid_number}").text
    assert 'id="ship-form"' not in analyst


def test_refund_validation_and_effect(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "agent")
    page = f"/console/orders/{store.paid_number}"
    before = _order(engine, store.paid_number)
    for amount, reason, field, code in [
        ("abc", "x", "amount-error", 422),
        ("0", "x", "amount-error", 422),
        ("1.005", "x", "amount-error", 422),
        ("10", "", "refund-reason-error", 422),
        ("99999", "too much", "amount-error", 409),
    ]:
        resp = _post(client, page, f"{page}/refund", {"amount": amount, "refund_reason": reason})
        assert resp.status_code == code and f'id="{field}"' in resp.text, (amount, resp.text[-400:])
        assert _order(engine, store.paid_number) == before
    ok = _post(client, page, f"{page}/refund", {"amount": "12.50", "refund_reason": "少发赠品"})
    assert ok.status_code == 303
    status, refunded, _, refunds = _order(engine, store.paid_number)
    assert refunded == before[1] + 1250 and refunds == before[3] + 1
    assert status == "partially_refunded"  # and it still ships: see the ship test
    with session_scope(engine) as s:
        r = s.scalars(select(Refund).order_by(Refund.id.desc())).first()
        assert r.amount == 1250 and r.reason == "少发赠品 (console: u_agent)"  # type: ignore[union-attr]


def test_ship_validation_and_effect(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "operator")
    page = f"/console/orders/{store.paid_number}"
    before = _order(engine, store.paid_number)
    for carrier, tracking, field, code in [
        ("", "", "carrier-error", 422),
        ("nope", "", "carrier-error", 404),
        ("sf", "a b", "tracking-error", 422),
    ]:
        resp = _post(
            client, page, f"{page}/ship", {"carrier": carrier, "tracking_number": tracking}
        )
        assert resp.status_code == code and f'id="{field}"' in resp.text, resp.text[-400:]
        assert _order(engine, store.paid_number) == before
    ok = _post(client, page, f"{page}/ship", {"carrier": "sf", "tracking_number": "SF-TEST-000123"})
    assert ok.status_code == 303
    status, _, shipments, _ = _order(engine, store.paid_number)
    assert status == "shipped" and shipments == before[2] + 1
    again = _post(client, page, f"{page}/ship", {"carrier": "sf", "tracking_number": ""})
    assert again.status_code == 409 and _order(engine, store.paid_number)[2] == shipments
    pending = f"/console/orders/{store.pending_number}"
    refused = _post(client, pending, f"{pending}/ship", {"carrier": "sf"})
    assert refused.status_code == 409 and 'id="action-error"' in refused.text
    refund = _post(client, pending, f"{pending}/refund", {"amount": "1", "refund_reason": "x"})
    assert refund.status_code == 409 and _order(engine, store.pending_number)[3] == 0


# ---- returns ------------------------------------------------------------------------------


def _return_status(engine: Any, rid: int) -> str:
    with session_scope(engine) as s:
        return s.get(ReturnRequest, rid).status  # type: ignore[union-attr]


def test_returns_queue_counts_and_export(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "agent")
    with session_scope(engine) as s:
        requested = s.scalar(
            select(func.count())
            .select_from(ReturnRequest)
            .where(ReturnRequest.status == "requested")
        )
        total = s.scalar(select(func.count()).select_from(ReturnRequest))
    resp = client.get("/console/returns", params={"status": "requested"})
    assert resp.status_code == 200 and f'<span id="total">{requested}</span>' in resp.text
    rows = _csv(client.get("/console/returns", params={"export": "csv"}))
    assert len(rows) - 1 == total
    assert (
        len(_csv(client.get("/console/returns", params={"status": "requested", "export": "csv"})))
        - 1
        == requested
    )
    bad = client.get("/console/returns", params={"status": "lost"})
    assert bad.status_code == 422 and "field-error" in bad.text


def test_return_actions(app, store, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    client = sign_in(app, "agent")
    page = "/console/returns"
    rid = store.returns
    # Refusing needs a reason; the request stays as it was.
    resp = _post(client, page, f"{page}/{rid['refuse']}/refuse", {"reason": ""})
    assert resp.status_code in (200, 422) and _return_status(engine, rid["refuse"]) == "requested"
    assert (
        _post(client, page, f"{page}/{rid['refuse']}/refuse", {"reason": "已使用 used"}).status_code
        == 303
    )
    assert _return_status(engine, rid["refuse"]) == "rejected"
    assert _post(client, page, f"{page}/{rid['approve']}/approve", {}).status_code == 303
    assert _return_status(engine, rid["approve"]) == "approved"
    # Approving twice or receiving a parcel not yet shipped back is refused.
    twice = _post(client, page, f"{page}/{rid['approve']}/approve", {})
    assert twice.status_code == 409 and 'id="action-error"' in twice.text
    early = _post(client, page, f"{page}/{rid['approve']}/receive", {})
    assert early.status_code == 409 and _return_status(engine, rid["approve"]) == "approved"
    with session_scope(engine) as s:
        req = s.get(ReturnRequest, rid["receive"])
        order = s.get(Order, req.order_id)  # type: ignore[union-attr]
        refunded_before = order.refunded_amount  # type: ignore[union-attr]
        line_total = order.lines[0].total  # type: ignore[union-attr]
    assert _post(client, page, f"{page}/{rid['receive']}/receive", {}).status_code == 303
    assert _return_status(engine, rid["receive"]) == "refunded"
    with session_scope(engine) as s:
        req = s.get(ReturnRequest, rid["receive"])
        assert req.refund_id is not None and req.received_at is not None  # type: ignore[union-attr]
        order = s.get(Order, req.order_id)  # type: ignore[union-attr]
        assert order.refunded_amount == refunded_before + line_total  # type: ignore[union-attr]
    assert _post(client, page, f"{page}/{rid['receive']}/explode", {}).status_code == 404
    assert _post(client, page, f"{page}/999999/approve", {}).status_code == 404
    assert sign_in(app, "analyst").post(f"{page}/{rid['approve']}/approve").status_code == 403
