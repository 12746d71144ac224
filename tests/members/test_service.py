"""Customers and addresses through the services, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shopops.db import set_clock
from shopops.events import OutboxEvent
from shopops.members import service
from shopops.members.errors import (
    AddressNotFound,
    CustomerExists,
    CustomerNotFound,
    InvalidEmail,
    InvalidPhone,
    NoDefaultAddress,
    TooManyAddresses,
)
from shopops.members.models import Address
from shopops.members.rules import MAX_ADDRESSES

ADDRESS = {
    "recipient": "王五",
    "phone": "13912345678",
    "province": "广东",
    "city": "深圳",
    "district": "南山区",
    "detail": "科技园 8 号",
}


def test_register_derives_the_age_band_and_emits(uow):
    when = dt.datetime(2026, 6, 15, 2, tzinfo=dt.UTC)
    with uow() as s:
        set_clock(s, when)
        c = service.register_customer(
            s,
            name="李雷",
            phone="+86 138 0013 8000",
            email="LiLei@Example.com",
            gender="male",
            birthday=dt.date(1996, 6, 16),
            age_band="55+",
            region="江苏",
            city="南京",
            acquisition_channel="douyin",
        )
        assert (c.phone, c.email, c.age_band) == ("13800138000", "lilei@example.com", "25-34")
        assert c.registered_at == when
    with uow(readonly=True) as s:
        event = s.scalars(select(OutboxEvent)).one()
    assert event.name == "customer.registered" and event.aggregate_id == str(c.id)
    assert event.payload == {
        "customer_id": c.id,
        "gender": "male",
        "age_band": "25-34",
        "birth_month": 6,
        "region": "江苏",
        "city": "南京",
        "acquisition_channel": "douyin",
        "registered_at": when.isoformat(),
        "referred_by": None,
    }


def test_duplicates_are_refused(uow):
    with uow() as s:
        service.register_customer(s, phone="13800000001", email="a@b.cn")
    with uow() as s, pytest.raises(CustomerExists) as err:
        service.register_customer(s, phone="138 0000 0001")
    assert err.value.status_code == 409 and err.value.details == {"field": "phone"}
    with uow() as s, pytest.raises(CustomerExists) as err:
        service.register_customer(s, phone="13800000002", email="A@B.CN")
    assert err.value.details == {"field": "email"}


def test_invalid_contacts(session):
    with pytest.raises(InvalidPhone):
        service.register_customer(session, phone="12345")
    with pytest.raises(InvalidEmail):
        service.register_customer(session, phone="13800000003", email="nope")


def test_update_profile(uow):
    with uow() as s:
        a = service.register_customer(s, phone="13800000010")
        service.register_customer(s, phone="13800000011", email="taken@x.cn")
    with uow() as s:
        set_clock(s, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        c = service.update_customer(
            s, customer_id=a.id, changes={"name": "韩梅梅", "birthday": dt.date(1980, 1, 2)}
        )
        assert c.name == "韩梅梅" and c.age_band == "45-54"
    with uow() as s, pytest.raises(CustomerExists):
        service.update_customer(s, customer_id=a.id, changes={"email": "taken@x.cn"})
    with uow() as s, pytest.raises(CustomerExists):
        service.update_customer(s, customer_id=a.id, changes={"phone": "13800000011"})
    with uow() as s:
        # Its own phone again is no change, not a clash.
        service.update_customer(s, customer_id=a.id, changes={"phone": "13800000010"})
    with uow(readonly=True) as s:
        names = [e.name for e in s.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]
    assert names == ["customer.registered", "customer.registered", "customer.updated"]
    with uow() as s, pytest.raises(CustomerNotFound):
        service.update_customer(s, customer_id=9999, changes={"name": "x"})


def test_list_customers_filters_and_pages(uow):
    with uow() as s:
        for i in range(5):
            set_clock(s, dt.datetime(2026, 1, 1 + i, tzinfo=dt.UTC))
            service.register_customer(
                s,
                name=f"顾客{i}",
                phone=f"1380000010{i}",
                region="上海" if i % 2 else "北京",
                acquisition_channel="wechat",
            )
    with uow(readonly=True) as s:
        rows, total = service.list_customers(s, region="上海")
        assert total == 2 and [c.name for c in rows] == ["顾客3", "顾客1"]
        rows, total = service.list_customers(s, limit=2, offset=1)
        assert total == 5 and [c.name for c in rows] == ["顾客3", "顾客2"]
        rows, _ = service.list_customers(s, q="00102")
        assert [c.name for c in rows] == ["顾客2"]
        _, total = service.list_customers(
            s,
            registered_from=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            registered_to=dt.datetime(2026, 1, 4, tzinfo=dt.UTC),
        )
        assert total == 2


def _defaults(s, customer_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return list(
        s.scalars(select(Address.id).where(Address.customer_id == customer_id, Address.is_default))
    )


def test_exactly_one_default_address(uow):
    with uow() as s:
        cid = service.register_customer(s, phone="13800000020").id
        first = service.add_address(s, customer_id=cid, **ADDRESS)
        second = service.add_address(s, customer_id=cid, **{**ADDRESS, "detail": "二号"})
        assert first.is_default and not second.is_default
    with uow() as s:
        third = service.add_address(s, customer_id=cid, **ADDRESS, is_default=True)
    with uow(readonly=True) as s:
        assert _defaults(s, cid) == [third.id]
        assert service.get_address(s, customer_id=cid).id == third.id
    with uow() as s:
        service.update_address(
            s, customer_id=cid, address_id=first.id, changes={"is_default": True}
        )
    with uow(readonly=True) as s:
        assert _defaults(s, cid) == [first.id]
    with uow() as s:
        # Deleting the default promotes the newest remaining address.
        service.delete_address(s, customer_id=cid, address_id=first.id)
    with uow(readonly=True) as s:
        assert _defaults(s, cid) == [third.id]
    with uow() as s:
        service.delete_address(s, customer_id=cid, address_id=second.id)
    with uow(readonly=True) as s:
        assert _defaults(s, cid) == [third.id]
    with uow() as s:
        service.delete_address(s, customer_id=cid, address_id=third.id)
    with uow(readonly=True) as s, pytest.raises(NoDefaultAddress):
        service.get_address(s, customer_id=cid)


def test_addresses_belong_to_their_customer(uow):
    with uow() as s:
        a = service.register_customer(s, phone="13800000030").id
        b = service.register_customer(s, phone="13800000031").id
        addr = service.add_address(s, customer_id=a, **ADDRESS)
    with uow() as s:
        with pytest.raises(AddressNotFound):
            service.get_address(s, customer_id=b, address_id=addr.id)
        with pytest.raises(AddressNotFound):
            service.update_address(s, customer_id=b, address_id=addr.id, changes={"city": "x"})
        with pytest.raises(AddressNotFound):
            service.delete_address(s, customer_id=b, address_id=addr.id)
        with pytest.raises(AddressNotFound):
            service.get_customer_and_address(s, customer_id=b, address_id=addr.id)
        with pytest.raises(NoDefaultAddress):
            service.get_customer_and_address(s, customer_id=b)
        with pytest.raises(CustomerNotFound):
            service.get_customer_and_address(s, customer_id=9999)
        customer, address = service.get_customer_and_address(s, customer_id=a)
        assert (customer.id, address.id) == (a, addr.id)


def test_address_validation_and_limit(uow):
    with uow() as s:
        cid = service.register_customer(s, phone="13800000040").id
    with uow() as s, pytest.raises(InvalidPhone):
        service.add_address(s, customer_id=cid, **{**ADDRESS, "phone": "110"})
    with uow() as s:
        for _ in range(MAX_ADDRESSES):
            service.add_address(s, customer_id=cid, **ADDRESS)
    with uow() as s, pytest.raises(TooManyAddresses):
        service.add_address(s, customer_id=cid, **ADDRESS)
    with uow() as s, pytest.raises(CustomerNotFound):
        service.add_address(s, customer_id=9999, **ADDRESS)


def test_the_database_refuses_two_defaults(uow):
    from sqlalchemy.exc import IntegrityError

    with uow() as s:
        cid = service.register_customer(s, phone="13800000050").id
        service.add_address(s, customer_id=cid, **ADDRESS)
    with pytest.raises(IntegrityError), uow() as s:
        s.add(Address(customer_id=cid, is_default=True, **ADDRESS))
        s.flush()
