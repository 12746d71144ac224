"""issue_on_trigger_many: event coupons for many customers as the per-event path issues them."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from tests import factories as f
from tests.conftest import sibling_database

from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.events import OutboxEvent
from shopops.promotions import service
from shopops.promotions.models import Coupon, CouponTemplate
from shopops.promotions.schemas import PromotionCreate, TemplateCreate
from shopops.promotions.service.coupons import _issue_on_trigger, issue_on_trigger_many

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
PG_URL = os.environ.get("SHOPOPS_TEST_DATABASE_URL")


@pytest.fixture
def twin(engine: Engine, tmp_path: Any) -> Iterator[Engine]:
    """A second empty store on the same backend as `engine`."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    else:
        assert PG_URL is not None
        other = make_engine(sibling_database(PG_URL, "coupons_twin"))
        with other.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(other)
    yield other
    other.dispose()


def _seed(engine: Engine) -> list[int]:
    """Three customers; registration templates: two each, two in all, one disabled, one
    dated, and one of an ended promotion."""
    service.clear_cache()
    with session_scope(engine) as s:
        set_clock(s, T0 - dt.timedelta(days=1))

        def promo(name: str) -> int:
            row = service.create_promotion(
                s,
                spec=PromotionCreate(
                    name=name, kind="first_order", params={"amount": 500}, requires_coupon=True
                ),
            )
            service.change_status(s, promotion_id=row.id, action="activate")
            return row.id

        live, ended = promo("live"), promo("ended")
        for name, pid, fields in (
            ("两张", live, {"per_customer": 2, "valid_days": 3}),
            ("限两张", live, {"issue_limit": 2}),
            ("停用", live, {}),
            ("到期", live, {"valid_days": 30, "valid_until": T0 + dt.timedelta(days=2)}),
            ("已结束", ended, {}),
        ):
            spec = TemplateCreate(promotion_id=pid, name=name, trigger="registration", **fields)
            t = service.create_template(s, spec=spec)
            t.active = name != "停用"
        service.change_status(s, promotion_id=ended, action="end")
        return [f.customer(s).id for _ in range(3)]


def _state(engine: Engine) -> tuple[Any, ...]:
    with session_scope(engine, readonly=True) as s:
        coupons = [
            (c.id, c.template_id, c.customer_id, c.status, c.reason, c.valid_from, c.valid_until)
            for c in s.scalars(select(Coupon).order_by(Coupon.id))
        ]
        stock = [
            (t.id, t.issued_count)
            for t in s.scalars(select(CouponTemplate).order_by(CouponTemplate.id))
        ]
        events = [
            (e.name, e.aggregate_id, e.occurred_at, {**e.payload, "code": None})
            for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
        ]
        return coupons, stock, events


def test_many_grants_issue_as_each_event_in_turn(engine, twin):
    c1, c2, c3 = _seed(engine)
    assert _seed(twin) == [c1, c2, c3]
    grants = [
        (c1, T0),
        (c2, T0 + dt.timedelta(minutes=1)),
        (c1, T0 + dt.timedelta(minutes=2)),  # a second grant: only the two-per-customer one
        (c3, T0 + dt.timedelta(days=1)),  # the limited one has run out by now
    ]
    with session_scope(engine) as s:
        for cid, at in grants:
            set_clock(s, at)
            _issue_on_trigger(s, trigger="registration", customer_id=cid)
    with session_scope(twin) as s:
        ids = issue_on_trigger_many(s, trigger="registration", grants=grants)
    one, many = _state(engine), _state(twin)
    assert one == many
    coupons, stock, _ = many
    assert [c[0] for c in coupons] == ids
    names = {1: "两张", 2: "限两张", 4: "到期"}
    assert [(names[c[1]], c[2]) for c in coupons] == [
        ("两张", c1), ("限两张", c1), ("到期", c1),
        ("两张", c2), ("限两张", c2), ("到期", c2),
        ("两张", c1),
        ("两张", c3), ("到期", c3),
    ]  # fmt: skip
    assert stock == [(1, 4), (2, 2), (3, 0), (4, 3), (5, 0)]
    # The dated template ends before the 30 days: its own date wins.
    assert {c[6] for c in coupons if c[1] == 4} == {T0 + dt.timedelta(days=2)}


def test_no_grants_or_no_templates_issue_nothing(session):
    assert issue_on_trigger_many(session, trigger="registration", grants=[]) == []
    c = f.customer(session)
    assert issue_on_trigger_many(session, trigger="first_order", grants=[(c.id, T0)]) == []
