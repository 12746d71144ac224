"""Pure customer rules: contact validation, age bands, PII masking, default succession."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.members import rules


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008619912345678", "19912345678"),
    ],
)
def test_valid_mobile_numbers(raw, phone):
    assert rules.normalize_phone(raw) == phone


@pytest.mark.parametrize(
    "raw", ["", "1381234567", "138123456789", "23812345678", "1381234567a", "+1 4155550100"]
)
def test_invalid_mobile_numbers(raw):
    with pytest.raises(ValueError):
        rules.normalize_phone(raw)


def test_email():
    assert rules.normalize_email("  Li.Lei@Example.COM ") == "li.lei@example.com"
    for bad in ("li", "li@", "@x.cn", "a b@x.cn", "li@x"):
        with pytest.raises(ValueError):
            rules.normalize_email(bad)


@pytest.mark.parametrize(
    ("birthday", "band"),
    [
        (dt.date(2008, 6, 15), "18-24"),  # 18 today
        (dt.date(2008, 6, 16), "under-18"),  # 18 tomorrow
        (dt.date(2001, 6, 16), "18-24"),  # 24
        (dt.date(2001, 6, 15), "25-34"),
        (dt.date(1991, 6, 15), "35-44"),
        (dt.date(1981, 6, 15), "45-54"),
        (dt.date(1971, 6, 15), "55+"),
        (dt.date(1930, 1, 1), "55+"),
    ],
)
def test_age_bands(birthday, band):
    assert rules.age_band(birthday, dt.date(2026, 6, 15)) == band


# `today` stops in 2100: a year later must still be a date (9999-12-31 + 400 days is not).
@given(
    st.dates(dt.date(1900, 1, 1), dt.date(2026, 1, 1)),
    st.dates(dt.date(2026, 1, 1), dt.date(2100, 1, 1)),
)
def test_age_band_never_gets_younger(birthday, today):
    later = today + dt.timedelta(days=400)
    order = rules.AGE_BAND_NAMES
    assert order.index(rules.age_band(birthday, later)) >= order.index(
        rules.age_band(birthday, today)
    )


def test_leap_day_birthday():
    assert rules.age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17
    assert rules.age_on(dt.date(2000, 2, 29), dt.date(2018, 3, 1)) == 18


def test_masking():
    assert rules.mask_phone("13812345678") == "138****5678"
    assert rules.mask_phone(None) is None
    assert rules.mask_email("lilei@example.com") == "l***@example.com"
    assert rules.mask_name("张三丰") == "张**"
    masked = rules.mask_address(
        {
            "recipient": "张三",
            "phone": "13812345678",
            "province": "上海",
            "city": "上海",
            "district": "浦东新区",
            "detail": "世纪大道 100 号",
            "postal_code": "200120",
        }
    )
    assert masked == {
        "recipient": "张*",
        "phone": "138****5678",
        "province": "上海",
        "city": "上海",
        "district": "浦东新区",
        "detail": "***",
        "postal_code": "",
    }
    customer = rules.mask_customer(
        {"name": "李雷", "phone": "13812345678", "email": "a@b.cn", "birthday": "1990-01-01"}
    )
    assert customer == {
        "name": "李*",
        "phone": "138****5678",
        "email": "a***@b.cn",
        "birthday": None,
    }


@given(st.text(alphabet="0123456789", min_size=8, max_size=20))
def test_masked_phone_keeps_length_and_hides_the_middle(phone):
    masked = rules.mask_phone(phone)
    assert masked is not None and len(masked) == len(phone)
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:]
    assert set(masked[3:-4]) == {"*"}


def test_who_sees_pii():
    assert rules.sees_pii("operator") and rules.sees_pii("agent") and rules.sees_pii("admin")
    assert not rules.sees_pii("analyst") and not rules.sees_pii("storefront")


def test_next_default_is_the_newest_left():
    assert rules.next_default_address([3, 7, 5], removed=7) == 5
    assert rules.next_default_address([3], removed=3) is None


def test_postal_code():
    assert rules.is_postal_code("") and rules.is_postal_code("200120")
    assert not rules.is_postal_code("20012") and not rules.is_postal_code("abcdef")
