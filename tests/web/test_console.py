"""Console routes through the TestClient: sign-in, roles, CSRF, the overview's numbers
against the analytics layer, date range, drill-down filter, CSV export, language."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.web.i18n import Formatter
from tests.web.conftest import END, PASSWORD, csrf_of, sign_in

RANGE = {"start": "2026-11-24", "end": END.isoformat()}


def test_unsigned_is_redirected_to_sign_in(app) -> None:  # type: ignore[no-untyped-def]
    resp = TestClient(app, follow_redirects=False).get("/console/")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/console/login")


def test_wrong_password_says_so_next_to_the_form(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/console/login").text)
    resp = client.post(
        "/console/login", data={"username": "u_operator", "password": "nope", "csrf": token}
    )
    assert resp.status_code == 401
    assert "field-error" in resp.text and "Traceback" not in resp.text


def test_login_without_csrf_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, follow_redirects=False)
    client.get("/console/login")
    resp = client.post("/console/login", data={"username": "u_operator", "password": PASSWORD})
    assert resp.status_code == 403
    assert client.get("/console/").status_code == 303


def test_agent_may_not_open_the_overview(app) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(app, "agent").get("/console/").status_code == 403


def test_overview_shows_the_analytics_numbers(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    client = sign_in(app, "operator")
    resp = client.get("/console/", params=RANGE)
    assert resp.status_code == 200
    wh = open_warehouse(settings.data_dir)
    ev = evaluate(wh, ["gmv", "uv"], _period(), compare=None)
    fmt = Formatter("zh_CN")
    assert ev["gmv"].value and ev["gmv"].value > 0
    assert fmt.money(ev["gmv"].value) in resp.text
    assert fmt.number(ev["uv"].value) in resp.text
    assert "/console/static/plotly.min.js" in resp.text


def _period() -> Period:
    import datetime as dt

    return Period(dt.date.fromisoformat(RANGE["start"]), END)


def test_date_range_and_channel_drill_down_change_the_numbers(app) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "analyst")
    whole = _csv(client.get("/console/", params={**RANGE, "export": "csv"}).text)
    short = _csv(
        client.get(
            "/console/", params={"start": "2026-11-30", "end": "2026-11-30", "export": "csv"}
        ).text
    )
    paid = _csv(
        client.get("/console/", params={**RANGE, "channel": "paid_search", "export": "csv"}).text
    )
    assert 0 < float(short["gmv"]) < float(whole["gmv"])
    assert 0 < float(paid["uv"]) < float(whole["uv"])


def _csv(text: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {r["code"]: r["value"] for r in rows}


def test_bad_dates_are_explained(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/", params={"start": "2026-12-01", "end": "2026-11-01"}
    )
    assert resp.status_code == 200
    assert "开始日期晚于结束日期" in resp.text


def test_excel_export(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get("/console/", params={**RANGE, "export": "xlsx"})
    assert resp.content[:2] == b"PK"


def test_switch_language(app) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "admin")
    page = client.get("/console/", params=RANGE)
    assert "概览" in page.text
    resp = client.post("/console/locale", data={"locale": "en", "csrf": csrf_of(page.text)})
    assert resp.status_code == 303
    english = client.get("/console/", params=RANGE).text
    assert "Overview" in english and "概览" not in english
    client.post("/console/locale", data={"locale": "zh_CN", "csrf": csrf_of(english)})


def test_plotly_js_is_served_locally(app) -> None:  # type: ignore[no-untyped-def]
    resp = TestClient(app).get("/console/static/plotly.min.js")
    assert resp.status_code == 200 and len(resp.content) > 1_000_000


def _orders_by_status(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM sales_order GROUP BY status"))
        return {status: n for status, n in rows}


def test_orders_list_counts_and_export(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    counts = _orders_by_status(engine)
    client = sign_in(app, "operator")
    for status, n in counts.items():
        resp = client.get("/console/orders", params={"status": status, "export": "csv"})
        rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff"))))
        assert len(rows) - 1 == n
        assert {r[2] for r in rows[1:]} == {status}
    page = client.get("/console/orders")
    assert page.status_code == 200 and "/console/orders/" in page.text


def test_unknown_status_is_explained(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get("/console/orders", params={"status": "lost"})
    assert resp.status_code == 200 and "未知状态" in resp.text


def _one_order(engine, status: str | None = None) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    where = "WHERE status = :s" if status else ""
    with engine.connect() as conn:
        return conn.execute(
            text(f"SELECT number FROM sales_order {where} ORDER BY id LIMIT 1"), {"s": status}
        ).scalar_one()


def test_pii_is_masked_for_operators_not_agents(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    number = _one_order(engine)
    from sqlalchemy import text

    with engine.connect() as conn:
        addr = conn.execute(
            text("SELECT shipping_address FROM sales_order WHERE number = :n"), {"n": number}
        ).scalar_one()
    import json

    phone = next(v for k, v in json.loads(addr).items() if "phone" in k)
    assert phone in sign_in(app, "agent").get(f"/console/orders/{number}").text
    operator_view = sign_in(app, "operator").get(f"/console/orders/{number}").text
    assert phone not in operator_view and "****" in operator_view


def test_cancel_needs_a_reason_and_the_right_role(app, shop) -> None:  # type: ignore[no-untyped-def]
    _, engine = shop
    number = _one_order(engine, "pending_payment")
    before = _orders_by_status(engine)
    analyst = sign_in(app, "analyst")
    token = csrf_of(analyst.get("/console/").text)
    refused = analyst.post(f"/console/orders/{number}/cancel", data={"reason": "x", "csrf": token})
    assert refused.status_code == 403
    agent = sign_in(app, "agent")
    token = csrf_of(agent.get(f"/console/orders/{number}").text)
    empty = agent.post(f"/console/orders/{number}/cancel", data={"reason": " ", "csrf": token})
    assert "reason-error" in empty.text
    no_csrf = agent.post(f"/console/orders/{number}/cancel", data={"reason": "customer asked"})
    assert no_csrf.status_code == 403
    assert _orders_by_status(engine) == before
    done = agent.post(
        f"/console/orders/{number}/cancel", data={"reason": "customer asked", "csrf": token}
    )
    assert done.status_code == 303
    after = _orders_by_status(engine)
    assert after["cancelled"] == before.get("cancelled", 0) + 1
    assert after.get("pending_payment", 0) == before["pending_payment"] - 1
    again = agent.post(
        f"/console/orders/{number}/cancel", data={"reason": "customer asked", "csrf": token}
    )
    assert again.status_code == 200


def test_hourly_gmv_against_the_order_facts(app, shop) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt
    from pathlib import Path
    from zoneinfo import ZoneInfo

    import pyarrow.parquet as pq

    settings, _ = shop
    orders = pq.read_table(Path(settings.data_dir) / "warehouse" / "fact_orders").to_pandas()
    tz = ZoneInfo(settings.timezone)
    expect: dict[dt.date, list[int]] = {END: [0] * 24, END - dt.timedelta(days=7): [0] * 24}
    for paid_at, amount in zip(orders["paid_at"], orders["paid_amount"], strict=True):
        if paid_at is None or paid_at != paid_at:
            continue
        local = paid_at.to_pydatetime().astimezone(tz)
        if local.date() in expect:
            expect[local.date()][local.hour] += int(amount)
    assert sum(expect[END]) > 0
    client = sign_in(app, "operator")
    params = {"day": END.isoformat(), "export": "hourly_csv"}
    rows = list(
        csv.reader(io.StringIO(client.get("/console/", params=params).text.lstrip("\ufeff")))
    )
    assert rows[0] == ["hour", f"gmv_{END}", f"gmv_{END - dt.timedelta(days=7)}"]
    assert [int(r[1]) for r in rows[1:]] == expect[END]
    assert [int(r[2]) for r in rows[1:]] == expect[END - dt.timedelta(days=7)]
    page = client.get("/console/", params={"start": "2026-11-24", "end": END, "day": END}).text
    assert 'id="gmv_hourly"' in page
    assert Formatter("zh_CN").money(sum(expect[END])) in page.split('id="hourly-totals"')[1]
    bad = client.get("/console/", params={"day": "2026-13-01"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text.split('id="gmv_hourly"')[0]


def test_every_table_exports_csv_and_excel(app) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    client = sign_in(app, "admin")
    r = "start=2026-11-15&end=2026-11-30"
    urls = [f"/console/?{r}&export=", f"/console/?{r}&day=2026-11-30&export=hourly_"]
    urls += [f"/console/traffic?{r}&export="]
    urls += [f"/console/conversion?{r}&export={t}_" for t in ("funnel", "paths")]
    urls += [f"/console/customers?{r}&export={t}_" for t in ("segments", "retention", "clv")]
    urls += [f"/console/customers/list?{r}&segment=important_value&export="]
    urls += [f"/console/products?{r}&export={t}_" for t in ("ranking", "rules", "abc", "stock")]
    for url in urls:
        text = client.get(url + "csv")
        assert text.status_code == 200 and text.text.startswith("\ufeff"), url
        n_csv = len(list(csv.reader(io.StringIO(text.text.lstrip("\ufeff")))))
        xlsx = client.get(url + "xlsx")
        assert xlsx.status_code == 200, url
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.max_row == n_csv and n_csv >= 2, url
