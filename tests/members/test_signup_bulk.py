"""register_customers: a batch of sign-ups leaves the store as the single calls in order do."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from tests.conftest import sibling_database

from shopops.db import Base, make_engine, now, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.members import rules
from shopops.members import service as members
from shopops.members.models import Address, Customer
from shopops.promotions import service as promotions
from shopops.promotions.models import Coupon, CouponTemplate
from shopops.promotions.schemas import PromotionCreate, TemplateCreate

T0 = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
SH = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("SHOPOPS_TEST_DATABASE_URL")


@pytest.fixture
def twin(engine: Engine, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """A second empty store on the same backend as `engine`."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    else:
        assert PG_URL is not None
        other = make_engine(sibling_database(PG_URL, "signup_twin"))
        with other.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(other)
    yield other
    other.dispose()


def _seed(engine: Engine) -> None:
    """Two customers, a registration coupon for all and a second one limited to 5 in all."""
    promotions.clear_cache()
    with session_scope(engine) as s:
        set_clock(s, T0 - dt.timedelta(days=30))
        first = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="新人首单立减18元",
                kind="first_order",
                params={"amount": 1800},
                requires_coupon=True,
                limits={"per_customer": 1},
                combines_with=["order", "shipping"],
                starts_at=T0 - dt.timedelta(days=30),
            ),
        )
        promotions.change_status(s, promotion_id=first.id, action="activate")
        spec = TemplateCreate(
            promotion_id=first.id, name="新人券", trigger="registration", valid_days=7
        )
        promotions.create_template(s, spec=spec)
        limited = spec.model_copy(update={"name": "限量券", "issue_limit": 5, "valid_days": None})
        promotions.create_template(s, spec=limited)
        members.register_customer(s, name="老客一", phone="13900000001", email="a@example.com")
        members.register_customer(s, name="老客二", phone="13900000002")


def _at(minutes: int, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    return (T0 + dt.timedelta(minutes=minutes)).astimezone(tz)


def _address(phone: str = "13800000000", **fields: Any) -> members.NewAddress:
    values = {"recipient": "张三", "phone": phone, "province": "浙江省", "city": "杭州市"}
    values.update(fields)
    return members.NewAddress(detail="文一西路 100 号", **values)


def _signups() -> list[members.Signup]:
    s = members.Signup
    return [
        s(name="新客一", phone="13800000011", gender="female", birthday=dt.date(1995, 6, 18),
          region="浙江省", city="杭州市", acquisition_channel="search", registered_at=_at(1, SH),
          tags=["persona:a", " persona:a ", "vip"], address=_address("138 0000 0011")),
        s(name="新客二", phone="+86 13800000012", registered_at=_at(2),
          referral_code=rules.referral_code(1).lower(), address=_address(district="西湖区")),
        s(name="坏号码", phone="12345", registered_at=_at(3), address=_address()),
        s(name="撞老客", phone="13900000002", registered_at=_at(4), address=_address()),
        s(name="撞新客", phone="13800000011", registered_at=_at(5), address=_address()),
        s(name="无此码", phone="13800000016", registered_at=_at(6),
          referral_code=rules.referral_code(10_000), address=_address()),
        s(name="乱码", phone="13800000017", registered_at=_at(7), referral_code="??",
          address=_address()),
        # Referred by 新客一, registered earlier in the same batch (id 3: after the two seeded).
        s(name="批内推荐", phone="13800000018", registered_at=_at(8, SH),
          referral_code=rules.referral_code(3), address=_address()),
        s(name="标签太多", phone="13800000019", registered_at=_at(9),
          tags=[f"t{i}" for i in range(60)], address=_address()),
        s(name="收件电话坏", phone="13800000020", registered_at=_at(10), address=_address("1")),
        # The same phone as the refused one before: it wrote nothing, so this one registers.
        s(name="重来", phone="13800000020", email="New@Example.com", registered_at=_at(11),
          address=_address()),
        s(name="撞邮箱", phone="13800000022", email="new@example.com ", registered_at=_at(12)),
        s(name="撞老邮箱", phone="13800000023", email="A@example.com", registered_at=_at(13)),
        s(name="无地址", phone="13800000024", registered_at=_at(14), age_band="35-44"),
        s(name="无电话", email="x@example.com", registered_at=_at(15), address=_address()),
        # No contact to match the new rows by: written one by one, in their place.
        s(name="无联系一", registered_at=_at(16), address=_address(recipient="甲")),
        s(name="无联系二", registered_at=_at(17), address=_address(recipient="乙")),
        s(name="有电话", phone="13800000028", registered_at=_at(18), address=_address()),
    ]  # fmt: skip


EXPECTED = [
    "ok",
    "ok",
    "invalid_phone",
    "customer_exists",
    "customer_exists",
    "referral_code_not_found",
    "referral_code_not_found",
    "ok",
    "invalid_input",
    "invalid_phone",
    "ok",
    "customer_exists",
    "customer_exists",
    "ok",
    "ok",
    "ok",
    "ok",
    "ok",
]


def _single(session: Session, signups: Sequence[members.Signup]) -> list[Any]:
    """The reference: the simulator's three calls per sign-up, in a savepoint, clock at it."""
    out: list[Any] = []
    for u in signups:
        set_clock(session, u.registered_at)
        try:
            with session.begin_nested():
                c = members.register_customer(
                    session, name=u.name, phone=u.phone, email=u.email, gender=u.gender,
                    birthday=u.birthday, age_band=u.age_band, region=u.region, city=u.city,
                    acquisition_channel=u.acquisition_channel, registered_at=u.registered_at,
                    referral_code=u.referral_code,
                )  # fmt: skip
                members.set_customer_tags(session, customer_id=c.id, tags=u.tags)
                address = None
                if u.address is not None:
                    a = u.address
                    address = members.add_address(
                        session, customer_id=c.id, recipient=a.recipient, phone=a.phone,
                        province=a.province, city=a.city, detail=a.detail,
                        district=a.district, postal_code=a.postal_code,
                    )  # fmt: skip
            out.append((c.id, address.id if address else None))
        except ShopOpsError as exc:
            out.append(exc)
    return out


def _code(result: Any) -> str:
    return result.code if isinstance(result, ShopOpsError) else "ok"


def _state(engine: Engine) -> dict[str, Any]:
    """Every table the sign-ups touch, ids replaced by natural keys, in a canonical order."""
    with session_scope(engine, readonly=True) as s:
        customers = {c.id: c for c in s.scalars(select(Customer))}
        key = {cid: c.phone or c.email or c.name for cid, c in customers.items()}
        skip = {"id"}

        def row(obj: Any, *drop: str) -> dict[str, Any]:
            cols = obj.__table__.columns.keys()
            return {k: getattr(obj, k) for k in cols if k not in skip | set(drop)}

        people = sorted(
            (
                {**row(c, "referred_by"), "referred_by": key.get(c.referred_by)}
                for c in customers.values()
            ),
            key=repr,
        )
        addresses = sorted(
            (
                {**row(a, "customer_id"), "who": key[a.customer_id]}
                for a in s.scalars(select(Address))
            ),
            key=repr,
        )
        coupons = {c.id: c for c in s.scalars(select(Coupon))}
        coupon_key = {i: (key[c.customer_id], c.template_id) for i, c in coupons.items()}
        wallet = sorted(
            (
                {**row(c, "code", "customer_id"), "who": key[c.customer_id]}
                for c in coupons.values()
            ),
            key=repr,
        )
        by_id = select(CouponTemplate).order_by(CouponTemplate.id)
        templates = [row(t, "created_at") for t in s.scalars(by_id)]
        outbox = []
        for e in s.scalars(select(OutboxEvent)):
            p = dict(e.payload)
            for name in ("customer_id", "referred_by"):
                if name in p:
                    p[name] = key.get(p[name])
            if "coupon_id" in p:
                p["coupon_id"] = coupon_key[p["coupon_id"]]
                p.pop("code")
            agg = e.aggregate_id
            if e.aggregate_type == "customer":
                agg = key[int(agg)]
            elif e.aggregate_type == "coupon":
                agg = coupon_key[int(agg)]
            facts = (e.name, e.aggregate_type, repr(agg), e.occurred_at, repr(sorted(p.items())))
            outbox.append(facts)
        return {
            "customers": people,
            "addresses": addresses,
            "coupons": wallet,
            "templates": templates,
            "outbox": sorted(outbox, key=repr),
        }


def test_a_batch_registers_as_the_single_calls_do_refusals_alone(engine, twin):
    _seed(engine)
    _seed(twin)
    signups = _signups()
    with session_scope(engine) as s:
        single = _single(s, signups)
    with session_scope(twin) as s:
        set_clock(s, T0)
        bulk = members.register_customers(s, signups=signups)
        assert now(s) == T0
    assert [_code(r) for r in single] == EXPECTED
    assert [_code(r) for r in bulk] == EXPECTED
    for one, many in zip(single, bulk, strict=True):
        if isinstance(one, ShopOpsError):
            assert (type(many), many.details) == (type(one), one.details)
    a, b = _state(engine), _state(twin)
    for table in a:
        assert a[table] == b[table], table
    # Refused sign-ups wrote nothing: 2 seeded + 9 registered, 8 of them with an address.
    assert len(b["customers"]) == 11
    assert len(b["addresses"]) == 8
    referred = {c["name"]: c["referred_by"] for c in b["customers"]}
    assert referred["新客二"] == "13900000001"
    assert referred["批内推荐"] == "13800000011"
    # Both templates to the 2 seeded and to the 9 new, but the limited one ran out after 3.
    assert len(b["coupons"]) == 2 + 2 + 9 + 3
    first = bulk[0]
    assert isinstance(first, members.SignedUp)
    with session_scope(twin, readonly=True) as s:
        customer, address = members.get_customer_and_address(s, customer_id=first.customer_id)
        assert (address.id, customer.tags, customer.age_band) == (
            first.address_id,
            ["persona:a", "vip"],
            "25-34",
        )
        assert customer.registered_at == _at(1)
    assert bulk[13].address_id is None  # type: ignore[union-attr]


def test_batches_of_one_and_after_one_another(engine, twin):
    _seed(engine)
    _seed(twin)
    signups = _signups()
    with session_scope(engine) as s:
        _single(s, signups)
    results = []
    for u in signups:
        with session_scope(twin) as s:
            results += members.register_customers(s, signups=[u])
    # The in-batch referral is now to a customer of an earlier batch: the same outcome.
    assert [_code(r) for r in results] == EXPECTED
    a, b = _state(engine), _state(twin)
    for table in a:
        assert a[table] == b[table], table


def test_an_empty_batch_naive_times_and_unknown_genders(session):
    assert members.register_customers(session, signups=[]) == []
    naive = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError):
        members.register_customers(
            session, signups=[members.Signup(phone="13800000001", registered_at=naive)]
        )
    with pytest.raises(ValueError):
        members.register_customers(
            session, signups=[members.Signup(phone="13800000001", gender="robot")]
        )
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_the_clock_dates_a_signup_without_a_time(session):
    set_clock(session, T0)
    (done,) = members.register_customers(session, signups=[members.Signup(phone="13800000001")])
    assert isinstance(done, members.SignedUp)
    assert (done.registered_at, done.address_id, done.id) == (T0, None, done.customer_id)
    assert members.get_customer(session, customer_id=done.id).registered_at == T0
