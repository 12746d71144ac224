"""Pure rules of behavioural tracking: which events we know, where a visit came from (channel
from UTM parameters and referrer), what device sent it, and where sessions start and end.

No I/O: the ingestion service and the warehouse loader both call these, so a channel or a
session means the same thing at the edge and in the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

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


# ---------------------------------------------------------------------------------------------
# Normalising one incoming event into the row the event log stores.

# A client clock ahead of ours is wrong by definition (the event cannot happen after we received
# it); an event older than this was buffered too long to trust its clock.
MAX_EVENT_AGE_MS = 7 * 24 * 3600 * 1000
MAX_QUERY = 200
MAX_PATH = 2048
MAX_UTM = 200
MAX_PROVINCE = 32

# The columns of one stored event, in order (the log stores rows as lists, compactly).
ROW_COLUMNS = (
    "event_id",
    "event",
    "distinct_id",
    "customer_id",
    "ts_ms",
    "received_ms",
    "device",
    "os",
    "province",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer_domain",
    "path",
    "sku_id",
    "product_id",
    "search_query",
    "order_id",
    "amount",
    "project",
    "properties",
)
IDENTIFY_EVENT = "$identify"  # internal: a distinct id merged into a customer (never public)


def clamp_time(client_ms: int | None, received_ms: int, sent_at_ms: int | None = None) -> int:
    """The event time we keep (epoch ms). Rule: no client time → the receive time; with the
    client's `sent_at` (its clock when sending), shift by the skew (received − sent_at), as
    PostHog does; then clamp into [received − MAX_EVENT_AGE_MS, received]."""
    if client_ms is None:
        return received_ms
    if sent_at_ms is not None:
        client_ms += received_ms - sent_at_ms
    return max(received_ms - MAX_EVENT_AGE_MS, min(client_ms, received_ms))


def _iso_ms(value: str) -> int | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def epoch_ms(value: object) -> int | None:
    """A client time as epoch ms: an ISO 8601 string (naive = UTC) or epoch milliseconds.
    None when it is neither (the caller reports it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if 0 < value < 1e14 else None
    if isinstance(value, str):
        return _iso_ms(value)
    return None


@lru_cache(maxsize=4096)
def _attribution(source: str, medium: str, campaign: str, referrer_domain: str) -> Attribution:
    return classify_channel(
        utm_source=source, utm_medium=medium, utm_campaign=campaign, referrer=referrer_domain
    )


@lru_cache(maxsize=4096)
def _split(url: str) -> tuple[str, str, str]:
    """(host, path, query) of a URL; empty parts when it does not parse."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return "", "", ""
    return host, parts.path, parts.query


def _int_id(value: object) -> int | str | None:
    """An id property: an int (or digit string) ≥ 1; a string result is the problem."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.isdigit() and 0 < len(value) < 19:
        return int(value)
    return "a positive integer id is required"


_ID_PROPERTIES = ("sku_id", "product_id", "order_id")
_TEXT_LIMITS = {
    "url": MAX_PATH,
    "path": MAX_PATH,
    "referrer": MAX_PATH,
    "query": MAX_QUERY,
    "search_query": MAX_QUERY,
    "province": MAX_PROVINCE,
    "utm_source": MAX_UTM,
    "utm_medium": MAX_UTM,
    "utm_campaign": MAX_UTM,
}
_CHECKED = frozenset(_TEXT_LIMITS) | {"amount", *_ID_PROPERTIES}
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)?$")


def _small_properties(props: Mapping[str, Any]) -> bool:
    """A cheap upper bound of `len(repr(props).encode())` (4 bytes a character, 8 of
    punctuation an item) — True means certainly within MAX_PROPERTIES_BYTES, so the exact
    (slower) measure of event_problems is needed only for large or nested properties."""
    total = 2
    for key, value in props.items():
        if isinstance(value, str):
            total += 4 * len(value) + 8
        elif value is None or isinstance(value, bool | int | float):
            total += 32
        else:
            return False
        total += 4 * len(key) if isinstance(key, str) else 64
    return total <= MAX_PROPERTIES_BYTES


def validate_event(raw: Mapping[str, Any]) -> list[str]:
    """Why an incoming event cannot be kept (empty when it can): event_problems plus the
    typed fields (`uuid`, `timestamp`, `customer_id`, and in the properties ids, `amount` in
    fen and bounded strings). Fast: ingestion runs it on every event before acknowledging."""
    problems: list[str] = []
    name = raw.get("event")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        problems.append("event: a lower_snake_case name of 1–64 characters is required")
    distinct_id = raw.get("distinct_id")
    if not isinstance(distinct_id, str) or not 1 <= len(distinct_id) <= MAX_ID:
        problems.append(f"distinct_id: a string of 1–{MAX_ID} characters is required")
    props = raw.get("properties")
    if props is None:
        props = {}
    elif not isinstance(props, Mapping):
        problems.append("properties: must be an object")
        props = {}
    elif not _small_properties(props) and len(repr(props).encode()) > MAX_PROPERTIES_BYTES:
        problems.append(f"properties: at most {MAX_PROPERTIES_BYTES} bytes")
    uuid_in = raw.get("uuid")
    if uuid_in is None:
        uuid_in = raw.get("event_id")
    if uuid_in is not None and not (isinstance(uuid_in, str) and _UUID.match(uuid_in)):
        problems.append("uuid: a UUID string is required")
    ts = raw.get("timestamp")
    if ts is not None and (
        not (isinstance(ts, str) and _ISO.match(ts) and _iso_ms(ts) is not None)
        and (isinstance(ts, str) or epoch_ms(ts) is None)
    ):
        problems.append("timestamp: an ISO 8601 time or epoch milliseconds is required")
    customer_id = raw.get("customer_id")
    if customer_id is not None and isinstance(_int_id(customer_id), str):
        problems.append("customer_id: a positive integer id is required")
    for key in props.keys() & _CHECKED:
        value = props[key]
        if value is None:
            continue
        limit = _TEXT_LIMITS.get(key)
        if limit is not None:
            if not isinstance(value, str) or len(value) > limit:
                problems.append(f"properties.{key}: a string of at most {limit} characters")
        elif key == "amount":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append("properties.amount: a non-negative integer amount in fen")
        elif isinstance(_int_id(value), str):
            problems.append(f"properties.{key}: a positive integer id is required")
    if len(problems) > 1:
        problems.sort()  # a stable order, whatever order the keys came in
    return problems


@lru_cache(maxsize=4096)
def _utm_of_query(url: str) -> tuple[str, str, str]:
    utm = utm_from_url(url)
    return utm.get("utm_source", ""), utm.get("utm_medium", ""), utm.get("utm_campaign", "")


def _text(props: Mapping[str, Any], key: str) -> str:
    value = props.get(key)
    return value if isinstance(value, str) else ""


def _id(props: Mapping[str, Any], key: str) -> int | None:
    got = _int_id(props.get(key))
    return got if isinstance(got, int) else None


def to_row(
    raw: Mapping[str, Any],
    *,
    event_id: str,
    received_ms: int,
    sent_at_ms: int | None = None,
    device: str = "unknown",
    os: str = "unknown",
    province: str = "",
    project: str = "",
) -> list[Any]:
    """A validated event (validate_event found nothing) as a stored row, in ROW_COLUMNS order.
    The event id is the client's `uuid` (canonical form) or `event_id` when it sent none.

    The traffic source (channel, utm_*, referrer domain) is set only on an event that names
    one — UTM parameters (in the properties or the URL) or a referrer from another site —
    and is empty otherwise: sessions take it from their landing (see session_starts)."""
    props = raw.get("properties") or {}
    uuid_in = raw.get("uuid") or raw.get("event_id")
    if isinstance(uuid_in, str):
        event_id = str(UUID(uuid_in))
    url = _text(props, "url")
    host, path, query = _split(url) if url else ("", "", "")
    path = _text(props, "path") or path
    src, med, camp = (
        _text(props, "utm_source"),
        _text(props, "utm_medium"),
        _text(props, "utm_campaign"),
    )
    if not (src or med or camp) and "utm_" in query:
        src, med, camp = _utm_of_query(url)
    referrer = _text(props, "referrer")
    referrer_domain = _split(referrer)[0] if referrer else ""
    if referrer_domain and referrer_domain == host:
        referrer_domain = ""  # navigation inside the shop is not a traffic source
    channel = ""
    if src or med or camp or referrer_domain:
        attribution = _attribution(src, med, camp, referrer_domain)
        channel, src, med = (
            attribution.channel.value,
            attribution.utm_source,
            attribution.utm_medium,
        )
    customer_id = _int_id(raw.get("customer_id"))
    amount = props.get("amount")
    return [
        event_id,
        raw["event"],
        raw["distinct_id"],
        customer_id if isinstance(customer_id, int) else None,
        clamp_time(epoch_ms(raw.get("timestamp")), received_ms, sent_at_ms),
        received_ms,
        device,
        os,
        _text(props, "province") or province,
        channel,
        src,
        med,
        camp,
        referrer_domain,
        path,
        _id(props, "sku_id"),
        _id(props, "product_id"),
        _text(props, "search_query") or _text(props, "query"),
        _id(props, "order_id"),
        amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        project,
        props,
    ]


def normalize_event(
    raw: Mapping[str, Any], *, event_id: str, received_ms: int, **context: Any
) -> tuple[list[Any] | None, list[str]]:
    """`(row, [])` for a good event, `(None, problems)` for a bad one (validate_event, then
    to_row with the same context)."""
    problems = validate_event(raw)
    if problems:
        return None, problems
    return to_row(raw, event_id=event_id, received_ms=received_ms, **context), problems
