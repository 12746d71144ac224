"""Pricing services on both backends: list prices with their history and events, the margin
band, price lists (member and channel prices) at checkout, and repricing proposals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.pricing.support import COST, PRICE, event_names, new_customer

from shopops.catalog import service as catalog
from shopops.db import utcnow
from shopops.events import OutboxEvent
from shopops.orders import service as orders
from shopops.pricing import service
from shopops.pricing.errors import (
    DuplicatePriceListCode,
    InvalidPrice,
    InvalidPriceList,
    MarginBandViolated,
    PriceListNotFound,
    ProposalNotApplicable,
    ProposalStale,
    UnknownSku,
)
from shopops.pricing.models import PriceChange

IN_BAND = 30_500  # 41.2% at cost ¥179.40
BELOW_BAND = 25_900  # 30.7%


def _list_price(uow, sku_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow(readonly=True) as s:
        return catalog.get_sellable_skus(s, sku_ids=[sku_id])[sku_id].list_price


# ---- list prices ------------------------------------------------------------------------------


def test_a_price_change_goes_to_the_catalog_with_history_and_event(uow, engine, store):
    sku = store.skus[0]
    with uow() as s:
        change = service.set_list_price(
            s, sku_id=sku, price=IN_BAND, actor="ops-key", reason="618 warm-up"
        )
        assert change is not None
    assert _list_price(uow, sku) == IN_BAND
    with uow(readonly=True) as s:
        rows = service.price_history(s, sku_id=sku)
        assert [(r.old_price, r.new_price, r.actor, r.reason) for r in rows] == [
            (PRICE, IN_BAND, "ops-key", "618 warm-up")
        ]
        assert rows[0].cost == COST and not rows[0].outside_band
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.name == "price.changed")).one()
        assert event.payload["old_price"] == PRICE and event.payload["new_price"] == IN_BAND
        assert event.payload["actor"] == "ops-key" and event.aggregate_id == str(sku)


def test_setting_the_same_price_writes_nothing(uow, engine, store):
    with uow() as s:
        assert service.set_list_price(s, sku_id=store.skus[0], price=PRICE) is None
    assert event_names(engine, "price.") == []


def test_a_price_outside_the_margin_band_is_refused_and_nothing_is_written(uow, engine, store):
    sku = store.skus[0]
    with pytest.raises(MarginBandViolated) as err, uow() as s:
        service.set_list_price(s, sku_id=sku, price=BELOW_BAND, actor="ops")
    assert err.value.code == "margin_band_violated" and err.value.status_code == 409
    assert err.value.details["band"] == {"low": 28_936, "high": 30_931}
    assert err.value.details["margin_bp"] == 3_073
    assert _list_price(uow, sku) == PRICE
    with uow(readonly=True) as s:
        assert s.scalars(select(PriceChange)).all() == []


def test_an_override_needs_a_reason_and_is_flagged(uow, store):
    sku = store.skus[0]
    with pytest.raises(InvalidPrice), uow() as s:
        service.set_list_price(s, sku_id=sku, price=BELOW_BAND, allow_outside_band=True)
    with uow() as s:
        change = service.set_list_price(
            s, sku_id=sku, price=BELOW_BAND, allow_outside_band=True, reason="clearance"
        )
        assert change is not None and change.outside_band
    assert _list_price(uow, sku) == BELOW_BAND


@pytest.mark.parametrize("price", [0, -100])
def test_a_list_price_must_be_positive(uow, store, price):
    with pytest.raises(InvalidPrice) as err, uow() as s:
        service.set_list_price(s, sku_id=store.skus[0], price=price)
    assert err.value.code == "invalid_price"


def test_an_unknown_sku_is_404(uow, store):
    with pytest.raises(UnknownSku) as err, uow() as s:
        service.set_list_price(s, sku_id=999_999, price=IN_BAND)
    assert err.value.status_code == 404 and err.value.details["sku_ids"] == [999_999]


# ---- price lists ------------------------------------------------------------------------------


def _gold_list(uow, sku: int, price: int = 26_900, **kw):  # type: ignore[no-untyped-def]
    with uow() as s:
        return service.create_price_list(
            s,
            code=kw.pop("code", "GOLD"),
            name="金卡会员价",
            kind=kw.pop("kind", "member"),
            target=kw.pop("target", "gold"),
            items={sku: price},
            actor="ops",
            **kw,
        ).id


def test_member_and_channel_prices_resolve_to_the_lowest(uow, store):
    a, b = store.skus
    _gold_list(uow, a, 26_900)
    _gold_list(uow, b, 28_900, code="DOUYIN", kind="channel", target="douyin")
    with uow(readonly=True) as s:
        assert service.price_for(s, sku_ids=[a, b]) == {a: PRICE, b: PRICE}
        assert service.price_for(s, sku_ids=[a, b], tier="gold") == {a: 26_900, b: PRICE}
        assert service.price_for(s, sku_ids=[a, b], channel="douyin", tier="gold") == {
            a: 26_900,
            b: 28_900,
        }
        with pytest.raises(UnknownSku):
            service.price_for(s, sku_ids=[a, 999_999])


def test_a_price_list_writes_history_for_each_price(uow, engine, store):
    a, b = store.skus
    list_id = _gold_list(uow, a)
    with uow() as s:
        service.set_price_list_items(
            s, price_list_id=list_id, items={a: None, b: 27_900}, actor="ops", reason="swap"
        )
    with uow(readonly=True) as s:
        pl = service.get_price_list(s, price_list_id=list_id)
        assert [(i.sku_id, i.price) for i in pl.items] == [(b, 27_900)]
        history = service.price_history(s, sku_id=a)
        assert [(h.old_price, h.new_price, h.price_list_id) for h in history] == [
            (26_900, None, list_id),
            (None, 26_900, list_id),
        ]
    assert event_names(engine, "price.") == ["price.changed"] * 3


def test_price_list_bad_input(uow, store):
    a = store.skus[0]
    _gold_list(uow, a)
    with pytest.raises(DuplicatePriceListCode), uow() as s:
        service.create_price_list(s, code="GOLD", name="x", kind="member", target="gold")
    with pytest.raises(InvalidPrice) as err, uow() as s:
        service.create_price_list(
            s, code="HIGH", name="x", kind="member", target="vip", items={a: PRICE + 1}
        )
    assert err.value.details["list_price"] == PRICE
    with pytest.raises(InvalidPriceList), uow() as s:
        service.create_price_list(s, code="K", name="x", kind="wholesale", target="b2b")
    start = utcnow()
    with pytest.raises(InvalidPriceList), uow() as s:
        service.create_price_list(
            s,
            code="W",
            name="x",
            kind="channel",
            target="jd",
            starts_at=start,
            ends_at=start - dt.timedelta(hours=1),
        )
    with pytest.raises(UnknownSku), uow() as s:
        service.create_price_list(
            s, code="U", name="x", kind="channel", target="jd", items={999_999: 100}
        )
    with pytest.raises(PriceListNotFound), uow() as s:
        service.update_price_list(s, price_list_id=999, active=False)


def test_a_member_price_is_a_checkout_discount_for_that_tier_only(uow, engine, store):
    a = store.skus[0]
    _gold_list(uow, a, 26_900)
    gold = new_customer(engine, tier_code="gold")
    with uow() as s:
        order = orders.place_order(s, customer_id=gold, lines=[(a, 2)])
        assert order.discount_total == 2 * (PRICE - 26_900)
        assert [(d.source, d.reference) for d in order.discounts] == [("price_list", "GOLD")]
        assert order.lines[0].discount == 6_000
    with uow() as s:
        plain = orders.place_order(s, customer_id=store.customer_id, lines=[(a, 2)])
        assert plain.discount_total == 0


def test_a_switched_off_price_list_no_longer_applies(uow, engine, store):
    a = store.skus[0]
    list_id = _gold_list(uow, a)
    gold = new_customer(engine, tier_code="gold")
    with uow() as s:
        service.update_price_list(s, price_list_id=list_id, active=False)
    with uow(readonly=True) as s:
        assert orders.preview_checkout(s, customer_id=gold, lines=[(a, 1)]).discount_total == 0


# ---- repricing --------------------------------------------------------------------------------


def test_a_proposal_is_stored_then_applied_with_history(uow, engine, store):
    sku = store.skus[0]
    with uow() as s:
        row = service.propose_reprice(s, sku_id=sku, daily_sales=20.0, actor="ops")
        proposal_id = row.id
        # 50 units / 20 a day = 2.5 days of cover: short stock, raise (capped by the band).
        assert row.proposed_price == 30_900 and row.current_price == PRICE
        assert "low_cover" in [r["code"] for r in row.reasons]
    assert _list_price(uow, sku) == PRICE  # proposing changes nothing
    with uow() as s:
        applied, change = service.apply_reprice(s, proposal_id=proposal_id, actor="ops")
        assert applied.status == "applied" and change is not None
        assert change.reason.startswith(f"repricing proposal #{proposal_id}")
    assert _list_price(uow, sku) == 30_900
    with pytest.raises(ProposalNotApplicable), uow() as s:
        service.apply_reprice(s, proposal_id=proposal_id)


def test_a_proposal_goes_stale_when_the_price_moves(uow, store):
    sku = store.skus[0]
    with uow() as s:
        proposal_id = service.propose_reprice(s, sku_id=sku, daily_sales=20.0).id
    with uow() as s:
        service.set_list_price(s, sku_id=sku, price=IN_BAND)
    with pytest.raises(ProposalStale) as err, uow() as s:
        service.apply_reprice(s, proposal_id=proposal_id)
    assert err.value.details["now"]["price"] == IN_BAND
    with uow() as s:
        assert service.dismiss_reprice(s, proposal_id=proposal_id).status == "dismissed"


def test_repricing_bad_input(uow, store):
    with pytest.raises(InvalidPrice), uow() as s:
        service.propose_reprice(s, sku_id=store.skus[0], competitor_prices=[0])
    with pytest.raises(InvalidPrice), uow() as s:
        service.propose_reprice(s, sku_id=store.skus[0], daily_sales=-1)
    with pytest.raises(UnknownSku), uow() as s:
        service.propose_reprice(s, sku_id=999_999)
