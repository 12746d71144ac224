"""Pure rules of behavioural tracking: which events we know, where a visit came from (channel
from UTM parameters and referrer), what device sent it, and where sessions start and end.

No I/O: the ingestion service and the warehouse loader both call these, so a channel or a
session means the same thing at the edge and in the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

SESSION_TIMEOUT_SECONDS = 30 * 60

# The standard e-commerce events (PostHog / Sensors Data style names); others are accepted if
# they match EVENT_NAME, so a shop can track its own.
STANDARD_EVENTS = frozenset(
    {
        "page_view",
        "search",
        "product_view",
        "add_to_cart",
        "remove_from_cart",
        "begin_checkout",
        "place_order",
        "pay",
        "share",
        "coupon_claim",
        "sign_in",
        "sign_up",
        "favorite",
        "review",
    }
)
PAGE_EVENTS = frozenset({"page_view", "product_view"})
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Channel(StrEnum):
    PAID_SEARCH = "paid_search"
    DISPLAY = "display"
    AFFILIATE = "affiliate"
    FEED_ADS = "feed_ads"
    INFLUENCER = "influencer"
    ORGANIC_SEARCH = "organic_search"
    DIRECT = "direct"
    PRIVATE_DOMAIN = "private_domain"
    REFERRAL = "referral"


PAID_CHANNELS = frozenset(
    {Channel.PAID_SEARCH, Channel.DISPLAY, Channel.AFFILIATE, Channel.FEED_ADS, Channel.INFLUENCER}
)
NATURAL_CHANNELS = frozenset(set(Channel) - PAID_CHANNELS)
CHANNEL_NAMES: dict[Channel, tuple[str, str]] = {
    Channel.PAID_SEARCH: ("付费搜索", "Paid search"),
    Channel.DISPLAY: ("展示广告", "Display"),
    Channel.AFFILIATE: ("淘宝客/联盟", "Affiliate"),
    Channel.FEED_ADS: ("信息流广告", "Feed ads"),
    Channel.INFLUENCER: ("达人/直播", "Influencer"),
    Channel.ORGANIC_SEARCH: ("自然搜索", "Organic search"),
    Channel.DIRECT: ("直接访问", "Direct"),
    Channel.PRIVATE_DOMAIN: ("私域", "Private domain"),
    Channel.REFERRAL: ("推荐/外链", "Referral"),
}

# utm_medium values (lower case) → channel; the first match wins.
_MEDIUMS: list[tuple[Channel, frozenset[str]]] = [
    (Channel.PAID_SEARCH, frozenset({"cpc", "ppc", "sem", "paid_search", "paidsearch", "竞价"})),
    (Channel.DISPLAY, frozenset({"display", "banner", "cpm", "直通车展示", "钻展"})),
    (Channel.AFFILIATE, frozenset({"affiliate", "cps", "taoke", "淘宝客", "联盟"})),
    (
        Channel.FEED_ADS,
        frozenset({"feed", "feed_ads", "paid_social", "ocpm", "信息流", "千川", "巨量"}),
    ),
    (Channel.INFLUENCER, frozenset({"influencer", "kol", "koc", "live", "达人", "直播"})),
    (
        Channel.PRIVATE_DOMAIN,
        frozenset(
            {"private", "private_domain", "wecom", "community", "sms", "email", "push", "私域"}
        ),
    ),
    (Channel.REFERRAL, frozenset({"referral", "share", "fission", "裂变"})),
    (Channel.ORGANIC_SEARCH, frozenset({"organic", "seo", "organic_search"})),
]
# utm_source values that name an ad platform even when the medium is missing or vague.
_SOURCES: dict[str, Channel] = {
    "oceanengine": Channel.FEED_ADS,
    "juliang": Channel.FEED_ADS,
    "qianchuan": Channel.FEED_ADS,
    "gdt": Channel.FEED_ADS,
    "tencent_ads": Channel.FEED_ADS,
    "baidu_sem": Channel.PAID_SEARCH,
    "wechat_group": Channel.PRIVATE_DOMAIN,
    "wecom": Channel.PRIVATE_DOMAIN,
}
_SEARCH_ENGINES = (
    "baidu.",
    "google.",
    "bing.",
    "sogou.",
    "so.com",
    "sm.cn",
    "yandex.",
    "duckduckgo.",
)
_PRIVATE_HOSTS = ("weixin.qq.com", "work.weixin.qq.com", "wx.qq.com", "qq.com")


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a visit came from: the channel and the raw parameters it was derived from."""

    channel: Channel
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer_domain: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies a traffic source: a change of it starts a new session."""
        return (self.channel.value, self.utm_source, self.utm_medium, self.utm_campaign)


def _host(url: str) -> str:
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def utm_from_url(url: str) -> dict[str, str]:
    """The utm_* parameters of a landing URL (first value of each, trimmed)."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return {}
    return {
        k: v[0].strip() for k, v in query.items() if k.startswith("utm_") and v and v[0].strip()
    }


def classify_channel(
    *,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    referrer: str = "",
    shop_hosts: Iterable[str] = (),
) -> Attribution:
    """The channel of a visit: UTM parameters first (medium, then a known ad source), then the
    referrer (a search engine is organic search, WeChat is private domain, another site is a
    referral), else direct. A referrer on the shop's own hosts is direct (internal navigation)."""
    medium, source = utm_medium.strip().lower(), utm_source.strip().lower()
    domain = _host(referrer) if referrer else ""
    own = {h.lower().removeprefix("www.") for h in shop_hosts}

    def made(channel: Channel) -> Attribution:
        return Attribution(channel, source, medium, utm_campaign.strip(), domain)

    if medium:
        for channel, mediums in _MEDIUMS:
            if medium in mediums:
                return made(channel)
    if source in _SOURCES:
        return made(_SOURCES[source])
    if source and not medium:
        # Tagged but unclassified: a campaign link somebody shared.
        return made(Channel.REFERRAL)
    if not domain or domain in own:
        return made(Channel.DIRECT)
    if any(engine in domain for engine in _SEARCH_ENGINES):
        return made(Channel.ORGANIC_SEARCH)
    if any(domain == h or domain.endswith("." + h) for h in _PRIVATE_HOSTS):
        return made(Channel.PRIVATE_DOMAIN)
    return made(Channel.REFERRAL)


def device_of(user_agent: str) -> tuple[str, str]:
    """(device, os) from a User-Agent: device is mobile, tablet, desktop or bot."""
    ua = user_agent.lower()
    if not ua:
        return "unknown", "unknown"
    if any(b in ua for b in ("bot", "spider", "crawler", "headless")):
        device = "bot"
    elif "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        device = "tablet"
    elif any(m in ua for m in ("mobile", "iphone", "android", "micromessenger")):
        device = "mobile"
    else:
        device = "desktop"
    if "iphone" in ua or "ipad" in ua or "ios" in ua:
        os = "ios"
    elif "android" in ua or "harmonyos" in ua:
        os = "android"
    elif "windows" in ua:
        os = "windows"
    elif "mac os" in ua or "macintosh" in ua:
        os = "macos"
    elif "linux" in ua:
        os = "linux"
    else:
        os = "other"
    return device, os


@dataclass(frozen=True, slots=True)
class Hit:
    """What sessionization needs of one event: who, when (epoch seconds), and the traffic
    source when the event is a landing that carries one (None otherwise)."""

    person_id: str
    ts: float
    source: tuple[str, str, str, str] | None = None


def session_starts(
    hits: Iterable[Hit], *, timeout_seconds: int = SESSION_TIMEOUT_SECONDS
) -> Iterator[bool]:
    """For hits sorted by (person_id, ts): True where a new session starts — a new person,
    more than `timeout_seconds` since that person's previous event, or a landing from another
    traffic source than the session's."""
    person: str | None = None
    last = 0.0
    source: tuple[str, str, str, str] | None = None
    for hit in hits:
        new = (
            hit.person_id != person
            or hit.ts - last > timeout_seconds
            or (hit.source is not None and source is not None and hit.source != source)
        )
        if new:
            source = hit.source
        elif hit.source is not None and source is None:
            source = hit.source  # the session's first tagged landing names its source
        person, last = hit.person_id, hit.ts
        yield new


MAX_PROPERTIES_BYTES = 8192
MAX_ID = 128


def event_problems(raw: Mapping[str, object]) -> list[str]:
    """Why an incoming event cannot be kept (empty when it can): checked one by one so a bad
    event in a batch is refused alone."""
    problems: list[str] = []
    name = raw.get("event")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        problems.append("event: a lower_snake_case name of 1–64 characters is required")
    distinct_id = raw.get("distinct_id")
    if not isinstance(distinct_id, str) or not 1 <= len(distinct_id) <= MAX_ID:
        problems.append(f"distinct_id: a string of 1–{MAX_ID} characters is required")
    properties = raw.get("properties", {})
    if not isinstance(properties, Mapping):
        problems.append("properties: must be an object")
    elif len(repr(properties).encode()) > MAX_PROPERTIES_BYTES:
        problems.append(f"properties: at most {MAX_PROPERTIES_BYTES} bytes")
    return problems
