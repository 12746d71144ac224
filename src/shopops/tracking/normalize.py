"""Normalising one incoming event into the row the event log stores: validation with a
reason per field, the client clock clamped, channel, device and ids derived once (pure rules,
no I/O; the channel and device rules themselves are in `tracking.rules`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from shopops.tracking.rules import (
    EVENT_NAME,
    MAX_ID,
    MAX_PROPERTIES_BYTES,
    Attribution,
    classify_channel,
    utm_from_url,
)

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
