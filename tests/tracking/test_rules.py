"""Channel attribution, devices, sessions and event validation: the pure tracking rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.tracking.rules import (
    NATURAL_CHANNELS,
    PAID_CHANNELS,
    SESSION_TIMEOUT_SECONDS,
    Channel,
    Hit,
    classify_channel,
    device_of,
    event_problems,
    session_starts,
    utm_from_url,
)

C = Channel


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"utm_medium": "cpc", "utm_source": "baidu"}, C.PAID_SEARCH),
        ({"utm_medium": "CPM"}, C.DISPLAY),
        ({"utm_medium": "淘宝客"}, C.AFFILIATE),
        ({"utm_source": "oceanengine"}, C.FEED_ADS),
        ({"utm_medium": "信息流", "utm_source": "douyin"}, C.FEED_ADS),
        ({"utm_medium": "live", "utm_source": "douyin"}, C.INFLUENCER),
        ({"utm_medium": "wecom"}, C.PRIVATE_DOMAIN),
        ({"utm_medium": "share"}, C.REFERRAL),
        ({"utm_source": "newsletter-x"}, C.REFERRAL),
        ({}, C.DIRECT),
        ({"referrer": "https://shop.example.com/cart"}, C.DIRECT),
        ({"referrer": "https://www.baidu.com/s?wd=充电器"}, C.ORGANIC_SEARCH),
        ({"referrer": "https://m.sm.cn/s?q=x"}, C.ORGANIC_SEARCH),
        ({"referrer": "https://weixin.qq.com/x"}, C.PRIVATE_DOMAIN),
        ({"referrer": "https://www.zhihu.com/question/1"}, C.REFERRAL),
        ({"referrer": "not a url at all"}, C.REFERRAL),
        # UTM beats the referrer: a paid click from a search page is paid search.
        ({"utm_medium": "cpc", "referrer": "https://www.baidu.com/"}, C.PAID_SEARCH),
    ],
)
def test_channels(kwargs, expected):
    got = classify_channel(shop_hosts=["shop.example.com"], **kwargs)
    assert got.channel == expected


def test_paid_and_natural_split_every_channel():
    assert set(Channel) == PAID_CHANNELS | NATURAL_CHANNELS
    assert not PAID_CHANNELS & NATURAL_CHANNELS
    assert {C.ORGANIC_SEARCH, C.DIRECT, C.PRIVATE_DOMAIN, C.REFERRAL} == NATURAL_CHANNELS


def test_utm_from_url():
    url = "https://s.example.com/p/1?utm_source=douyin&utm_medium=live&x=1&utm_campaign=%E5%8F%8C11"
    assert utm_from_url(url) == {
        "utm_source": "douyin",
        "utm_medium": "live",
        "utm_campaign": "双11",
    }
    assert utm_from_url("https://s.example.com/") == {}


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", ("mobile", "ios")),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36", ("mobile", "android")),
        ("Mozilla/5.0 (Linux; Android 13; SM-X700) Safari/537.36", ("tablet", "android")),
        ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X)", ("tablet", "ios")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", ("desktop", "windows")),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari", ("desktop", "macos")),
        ("Baiduspider/2.0", ("bot", "other")),
        ("", ("unknown", "unknown")),
    ],
)
def test_devices(ua, expected):
    assert device_of(ua) == expected


def _sessions(hits):
    return list(session_starts(hits))


def test_sessions_split_on_timeout_person_and_new_source():
    t = SESSION_TIMEOUT_SECONDS
    paid = ("paid_search", "baidu", "cpc", "")
    feed = ("feed_ads", "douyin", "feed", "")
    hits = [
        Hit("a", 0, paid),
        Hit("a", 60),
        Hit("a", 60 + t),  # exactly the timeout: same session
        Hit("a", 61 + 2 * t),  # more than the timeout after the last one: new
        Hit("a", 62 + 2 * t, paid),  # the session's first tagged landing names its source
        Hit("a", 63 + 2 * t, feed),  # another source: new session
        Hit("a", 64 + 2 * t, feed),  # the same source again: same session
        Hit("b", 64 + 2 * t),  # another person
    ]
    assert _sessions(hits) == [True, False, False, True, False, True, False, True]


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(0, 4 * SESSION_TIMEOUT_SECONDS)),
        max_size=40,
    )
)
def test_session_boundaries_are_exactly_the_gaps(raw):
    hits = [Hit(p, float(ts)) for p, ts in sorted(raw)]
    starts = _sessions(hits)
    for i, (hit, start) in enumerate(zip(hits, starts, strict=True)):
        if i == 0:
            assert start
            continue
        prev = hits[i - 1]
        gap_breaks = prev.person_id != hit.person_id or hit.ts - prev.ts > SESSION_TIMEOUT_SECONDS
        assert start == gap_breaks


def test_event_problems():
    assert event_problems({"event": "page_view", "distinct_id": "anon-1"}) == []
    assert event_problems({"event": "my_custom_event", "distinct_id": "x", "properties": {}}) == []
    bad = event_problems({"event": "Page View", "distinct_id": "", "properties": []})
    assert [p.split(":")[0] for p in bad] == ["event", "distinct_id", "properties"]
    huge = event_problems({"event": "a", "distinct_id": "x", "properties": {"k": "v" * 9000}})
    assert huge and huge[0].startswith("properties")
