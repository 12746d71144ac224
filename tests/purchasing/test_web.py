"""The purchasing console page: suppliers with scorecards, orders by status, receiving a
delivery through the form (refusals shown next to the field, nothing changed)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests import factories as f

from shopops.accounts.service import create_console_user
from shopops.api.app import create_app
from shopops.db import session_scope
from shopops.inventory import service as inventory
from shopops.purchasing import service
from shopops.purchasing.service import LineSpec

PASSWORD = "console-pass-1"


@pytest.fixture
def shop(sqlite_engine, settings):  # type: ignore[no-untyped-def]
    with session_scope(sqlite_engine) as s:
        for role in ("operator", "analyst"):
            create_console_user(s, username=f"u_{role}", role=role, password=PASSWORD)
        wh = f.warehouse(s)
        a, b = f.product(s, wh=wh, stock=0, skus=2).skus
        sup = service.create_supplier(
            s, code="SZ-AUD", name="深圳市声韵电声有限公司", lead_time_days=6, vmi=True
        )
        service.set_supplier_costs(s, supplier_id=sup.id, costs={a.id: 9_000, b.id: 9_500})
        po = service.create_purchase_order(
            s,
            supplier_id=sup.id,
            warehouse_id=wh.id,
            lines=[LineSpec(a.id, 40), LineSpec(b.id, 10)],
            submit=True,
        )
        ids = {"po": po.id, "number": po.number, "a": a.id, "b": b.id}
    return create_app(settings, engine=sqlite_engine), sqlite_engine, ids


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _sign_in(app, role: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, follow_redirects=False)
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"username": f"u_{role}", "password": PASSWORD, "csrf": _csrf(page.text)},
    )
    assert resp.status_code == 303, resp.text
    return client


def test_list_shows_suppliers_and_orders(shop):
    app, _, ids = shop
    client = _sign_in(app, "operator")
    page = client.get("/console/purchasing")
    assert page.status_code == 200
    assert "深圳市声韵电声有限公司" in page.text and "VMI" in page.text
    assert ids["number"] in page.text and "已下单" in page.text
    assert client.get("/console/purchasing?status=received").text.count(ids["number"]) == 0
    assert client.get("/console/purchasing?status=bogus").status_code == 422
    csv = client.get("/console/purchasing?export=csv")
    assert csv.status_code == 200 and ids["number"] in csv.text
    assert 'href="/console/purchasing"' in page.text  # in the navigation
    assert _sign_in(app, "analyst").get("/console/purchasing").status_code == 403


def test_receive_form(shop):
    app, engine, ids = shop
    client = _sign_in(app, "operator")
    url = f"/console/purchasing/orders/{ids['po']}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="receive-form"' in page.text
    token = _csrf(page.text)
    a, b = ids["a"], ids["b"]
    too_many = client.post(
        f"{url}/receive", data={"csrf": token, f"accepted_{a}": "41", f"rejected_{b}": "1"}
    )
    assert too_many.status_code == 409 and "outstanding" in too_many.text
    bad = client.post(f"{url}/receive", data={"csrf": token, f"accepted_{a}": "x"})
    assert bad.status_code == 422 and "请填写整数件数" in bad.text
    empty = client.post(f"{url}/receive", data={"csrf": token})
    assert empty.status_code == 422
    with session_scope(engine, readonly=True) as s:
        assert inventory.available(s, sku_ids=[a]) == {a: 0}
    done = client.post(
        f"{url}/receive",
        data={"csrf": token, f"accepted_{a}": "39", f"rejected_{a}": "1", "note": "一箱破损"},
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "部分到货" in after.text and "到货已登记" in after.text
    with session_scope(engine, readonly=True) as s:
        assert inventory.available(s, sku_ids=[a]) == {a: 39}
    client.post(f"{url}/receive", data={"csrf": token, f"accepted_{b}": "10"})
    closed = client.get(url)
    assert 'name="accepted_' not in closed.text and "已关闭" in closed.text
    assert client.post(f"{url}/receive", data={f"accepted_{b}": "1"}).status_code == 403
    assert client.get("/console/purchasing/orders/999").status_code == 404
