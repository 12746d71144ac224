"""The supplier return rate: per-SKU units sold (orders service) and returned (after-sales
reads) over a period, and the scorecard's rate, against hand counts and plain SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.purchasing.returns_store import RECEIVED, T0, build, sql_rates

from shopops.aftersales.reads import units_returned
from shopops.db import session_scope
from shopops.orders import service as orders
from shopops.purchasing import service
from shopops.purchasing.errors import InvalidPeriod
from shopops.purchasing.rules import SalesFact, scorecard

DAY = dt.timedelta(days=1)


def test_the_rule_divides_units_returned_by_units_sold() -> None:
    card = scorecard([], [], [SalesFact(8, 1), SalesFact(0, 1), SalesFact(2, 0)])
    assert (card.units_sold, card.units_returned, card.return_rate) == (10, 2, 0.2)
    empty = scorecard([], [])
    assert (empty.units_sold, empty.units_returned, empty.return_rate) == (0, 0, None)
    # Units back with nothing sold in the period: no rate, the units still shown.
    assert scorecard([], [], [SalesFact(0, 3)]).return_rate is None


def test_units_sold_and_returned_by_sku_over_a_period(session) -> None:
    st = build(session)
    everything = orders.units_sold(session, sku_ids=[st.x, st.y, st.z])
    assert everything == {st.x: 5, st.y: 3, st.z: 5}  # the unpaid 7 x count nothing
    assert orders.units_sold(session, sku_ids=[st.x], since=T0 + DAY) == {}
    assert orders.units_sold(session, sku_ids=[st.x], until=T0 + DAY) == {st.x: 5}
    assert orders.units_sold(session, sku_ids=[]) == {}
    assert units_returned(session, sku_ids=[st.x, st.y, st.z]) == {st.x: 1, st.y: 1, st.z: 2}
    assert units_returned(session, sku_ids=[st.x, st.y], kinds=("return",)) == {st.x: 1}
    assert units_returned(session, sku_ids=[st.z], until=RECEIVED) == {}
    assert units_returned(session, sku_ids=[st.z], since=RECEIVED) == {st.z: 2}
    assert units_returned(session, sku_ids=[]) == {}
    assert set(units_returned(session)) >= {st.x, st.y, st.z}


def test_the_scorecard_return_rate_agrees_with_sql(session) -> None:
    st = build(session)
    cards = service.supplier_scorecards(session)
    s, t = cards[st.s_id], cards[st.t_id]
    # Hand count: S sold 3 + 3 + 2 = 8, got 1 + 1 back; T sold 5, got 2 back.
    assert (s.units_sold, s.units_returned, s.return_rate) == (8, 2, 0.25)
    assert (t.units_sold, t.units_returned, t.return_rate) == (5, 2, 0.4)
    by_sql = sql_rates(session)
    for sid, card in cards.items():
        assert (card.units_sold, card.units_returned) == by_sql.get(sid, (0, 0))
    late = service.supplier_scorecards(session, supplier_ids=[st.s_id], since=T0 + DAY)[st.s_id]
    assert (late.units_sold, late.units_returned, late.return_rate) == (0, 2, None)
    with pytest.raises(InvalidPeriod):
        service.supplier_scorecards(session, since=T0, until=T0)


def test_the_api_and_the_console_show_it(sqlite_engine, client, api_headers) -> None:
    with session_scope(sqlite_engine) as s:
        st = build(s)
    op = api_headers("operator")
    got = client.get("/purchasing/scorecards", headers=op)
    assert got.status_code == 200, got.text
    cards = {c["supplier_id"]: c for c in got.json()}
    assert cards[st.s_id]["return_rate"] == 0.25 and cards[st.s_id]["units_sold"] == 8
    assert cards[st.t_id]["units_returned"] == 2
    since = (T0 + DAY).isoformat()
    later = client.get("/purchasing/scorecards", params={"since": since}, headers=op).json()
    assert {c["supplier_id"]: c["return_rate"] for c in later}[st.s_id] is None
    bad = client.get(
        "/purchasing/scorecards", params={"since": since, "until": T0.isoformat()}, headers=op
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"


def test_the_console_page_shows_the_return_rate(sqlite_engine, settings) -> None:
    from tests.purchasing.test_web import PASSWORD, _sign_in

    from shopops.accounts.service import create_console_user
    from shopops.api.app import create_app

    with session_scope(sqlite_engine) as s:
        build(s)
        create_console_user(s, username="u_operator", role="operator", password=PASSWORD)
    page = _sign_in(create_app(settings, engine=sqlite_engine), "operator").get(
        "/console/purchasing"
    )
    assert page.status_code == 200
    assert "退货率" in page.text or "Return rate" in page.text
    assert '<td class="return">25' in page.text and "2 / 8" in page.text
