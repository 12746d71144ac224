"""Pure fulfillment rules: rate choice, fee quotes, the tracking state machine, tracking
numbers and the carrier scorecard maths. No database, no web, no clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

ANY_REGION = "*"
GRAMS_PER_KG = 1000


class TrackingStatus(StrEnum):
    CREATED = "created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


T = TrackingStatus

# Where a parcel may go next. An exception (lost scan, failed delivery, damage…) can happen
# anywhere before delivery and resolves back onto the road; delivered is final.
TRACKING_TRANSITIONS: dict[TrackingStatus, frozenset[TrackingStatus]] = {
    T.CREATED: frozenset({T.PICKED_UP, T.EXCEPTION}),
    T.PICKED_UP: frozenset({T.IN_TRANSIT, T.EXCEPTION}),
    T.IN_TRANSIT: frozenset({T.OUT_FOR_DELIVERY, T.EXCEPTION}),
    T.OUT_FOR_DELIVERY: frozenset({T.DELIVERED, T.EXCEPTION}),
    T.EXCEPTION: frozenset({T.IN_TRANSIT, T.OUT_FOR_DELIVERY}),
    T.DELIVERED: frozenset(),
}

# Chinese labels carriers show for each status (揽收, 运输中…), used when a scan has no text.
STATUS_LABELS: dict[TrackingStatus, str] = {
    T.CREATED: "已揽收",
    T.PICKED_UP: "快递员已取件",
    T.IN_TRANSIT: "运输中",
    T.OUT_FOR_DELIVERY: "派送中",
    T.DELIVERED: "已签收",
    T.EXCEPTION: "物流异常",
}


class IllegalTrackingMove(ValueError):
    def __init__(self, current: str, new: str) -> None:
        super().__init__(f"a shipment that is {current} cannot become {new}")
        self.current = current
        self.new = new


class TrackingStep(StrEnum):
    ADVANCE = "advance"  # a new status
    REPEAT = "repeat"  # the current status again: no status change


def tracking_step(current: TrackingStatus | str, new: TrackingStatus | str) -> TrackingStep:
    """Whether `new` moves the shipment on or repeats its status; `IllegalTrackingMove` otherwise.

    Unknown status names are a ValueError, like any other enum parse.
    """
    cur, nxt = TrackingStatus(current), TrackingStatus(new)
    if cur is nxt:
        return TrackingStep.REPEAT
    if nxt not in TRACKING_TRANSITIONS[cur]:
        raise IllegalTrackingMove(cur, nxt)
    return TrackingStep.ADVANCE


def allowed_next(current: TrackingStatus | str) -> frozenset[TrackingStatus]:
    return TRACKING_TRANSITIONS[TrackingStatus(current)]


# --- rates and quotes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateTerms:
    """One row of a carrier's rate table, in fen and hours."""

    region: str
    first_kg_fee: int
    extra_kg_fee: int
    transit_hours: int

    def __post_init__(self) -> None:
        if self.first_kg_fee < 0 or self.extra_kg_fee < 0:
            raise ValueError("fees must not be negative")
        if self.transit_hours <= 0:
            raise ValueError("transit hours must be positive")


@dataclass(frozen=True, slots=True)
class Quote:
    region: str  # the rate row that applied ("*" for the fallback)
    weight_grams: int
    billable_kg: int
    fee: int
    promised_hours: int


_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)


def normalize_province(name: str) -> str:
    """The short name rate tables use: 新疆维吾尔自治区 → 新疆, 广东省 → 广东, 上海市 → 上海."""
    text = (name or "").strip()
    for suffix in _PROVINCE_SUFFIXES:
        # Keep at least two characters, so a bare "省" stays what it is.
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            return text[: -len(suffix)]
    return text


def select_rate(rates: Mapping[str, RateTerms], province: str) -> RateTerms | None:
    """The province's own row, else the "*" row, else None (the carrier does not go there)."""
    return rates.get(normalize_province(province)) or rates.get(ANY_REGION)


def billable_kg(weight_grams: int) -> int:
    """Whole kilograms charged: every started kilogram counts, and at least one."""
    if weight_grams < 0:
        raise ValueError("weight must not be negative")
    return max(1, -(-weight_grams // GRAMS_PER_KG))


def quote_fee(terms: RateTerms, weight_grams: int) -> int:
    """First kilogram, plus each further started kilogram at the extra-kg fee (fen)."""
    return terms.first_kg_fee + (billable_kg(weight_grams) - 1) * terms.extra_kg_fee


def promised_hours(terms: RateTerms) -> int:
    """Hours from pick-up the carrier promises for this destination."""
    return terms.transit_hours


def quote(terms: RateTerms, weight_grams: int) -> Quote:
    return Quote(
        region=terms.region,
        weight_grams=weight_grams,
        billable_kg=billable_kg(weight_grams),
        fee=quote_fee(terms, weight_grams),
        promised_hours=promised_hours(terms),
    )


def parcel_weight(lines: Iterable[tuple[int, int]]) -> int:
    """Grams of a parcel from (quantity, unit weight in grams) pairs."""
    total = 0
    for quantity, grams in lines:
        if quantity < 0 or grams < 0:
            raise ValueError("quantities and weights must not be negative")
        total += quantity * grams
    return total


# --- tracking numbers -----------------------------------------------------------------------

# Carrier waybill formats: a fixed prefix and a run of digits (SF + 12 digits, JD + 13…).
TRACKING_FORMATS: dict[str, tuple[str, int]] = {
    "sf": ("SF", 12),
    "jd": ("JD", 13),
    "zto": ("75", 12),
    "yto": ("YT", 13),
    "sto": ("77", 11),
    "yunda": ("46", 11),
    "ems": ("11", 11),
}
DEFAULT_TRACKING_DIGITS = 12
TRACKING_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9-]{6,40}$")


def tracking_format(carrier_code: str) -> tuple[str, int]:
    """(prefix, digits) of a carrier's numbers; unknown carriers use their code and 12 digits."""
    code = carrier_code.lower()
    return TRACKING_FORMATS.get(code, (code.upper()[:8], DEFAULT_TRACKING_DIGITS))


def format_tracking_number(carrier_code: str, serial: int) -> str:
    """The carrier's number for `serial` (taken modulo the digit space, zero-padded)."""
    prefix, digits = tracking_format(carrier_code)
    return f"{prefix}{serial % 10**digits:0{digits}d}"


def is_valid_tracking_number(number: str) -> bool:
    """Letters, digits and dashes, 6 to 40 long: what any carrier's waybill looks like."""
    return bool(TRACKING_NUMBER_PATTERN.fullmatch(number))


# --- carrier scorecard ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShipmentFacts:
    """What the scorecard needs of one shipment."""

    carrier_code: str
    fee: int
    promised_hours: int
    shipped_at: dt.datetime
    delivered_at: dt.datetime | None = None
    exception_count: int = 0


@dataclass(frozen=True, slots=True)
class CarrierScore:
    carrier_code: str
    shipments: int
    delivered: int
    on_time: int
    on_time_rate: float | None  # on time / delivered; None when nothing was delivered
    mean_delivery_hours: float | None
    mean_fee: int  # fen, rounded half up
    total_fee: int
    exceptions: int  # shipments with at least one exception


def delivery_hours(shipped_at: dt.datetime, delivered_at: dt.datetime) -> float:
    return (delivered_at - shipped_at).total_seconds() / 3600


def is_on_time(facts: ShipmentFacts) -> bool:
    """Delivered within the promised hours (a promise of exactly N hours met at N counts)."""
    if facts.delivered_at is None:
        return False
    return delivery_hours(facts.shipped_at, facts.delivered_at) <= facts.promised_hours


def _mean_fen(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count) if count else 0


def scorecard(shipments: Iterable[ShipmentFacts]) -> list[CarrierScore]:
    """Per carrier (sorted by code): volume, on-time rate, mean delivery hours, fees, exceptions."""
    groups: dict[str, list[ShipmentFacts]] = {}
    for facts in shipments:
        groups.setdefault(facts.carrier_code, []).append(facts)
    scores = []
    for code in sorted(groups):
        rows = groups[code]
        delivered = [r for r in rows if r.delivered_at is not None]
        hours = [delivery_hours(r.shipped_at, r.delivered_at) for r in delivered if r.delivered_at]
        on_time = sum(1 for r in delivered if is_on_time(r))
        total_fee = sum(r.fee for r in rows)
        scores.append(
            CarrierScore(
                carrier_code=code,
                shipments=len(rows),
                delivered=len(delivered),
                on_time=on_time,
                on_time_rate=on_time / len(delivered) if delivered else None,
                mean_delivery_hours=sum(hours) / len(hours) if hours else None,
                mean_fee=_mean_fen(total_fee, len(rows)),
                total_fee=total_fee,
                exceptions=sum(1 for r in rows if r.exception_count > 0),
            )
        )
    return scores


# --- default carriers -----------------------------------------------------------------------

_JZH = ("上海", "江苏", "浙江")  # 江浙沪: the cheap heartland of the tongda carriers

Terms = tuple[int, int, int]  # first-kg fee, extra-kg fee, transit hours


def _rates(default: Terms, regions: Mapping[str, Terms]) -> dict[str, RateTerms]:
    out = {ANY_REGION: RateTerms(ANY_REGION, *default)}
    out.update({region: RateTerms(region, *terms) for region, terms in regions.items()})
    return out


def _tongda(default: Terms, near: Terms, xinjiang: Terms) -> dict[str, RateTerms]:
    """ZTO/YTO/STO/Yunda: cheap and quick inside 江浙沪, dearest and slowest to 新疆/西藏."""
    first, extra, hours = xinjiang
    regions = {p: near for p in _JZH} | {
        "新疆": xinjiang,
        "西藏": (first + 200, extra + 300, hours + 24),
    }
    return _rates(default, regions)


# (code, name) → rates by destination province; fees in fen, hours from pick-up.
DEFAULT_CARRIERS: dict[tuple[str, str], dict[str, RateTerms]] = {
    ("sf", "顺丰速运"): _rates(
        (2300, 800, 48),
        {
            "广东": (1200, 200, 24),
            "上海": (1400, 400, 24),
            "北京": (1600, 500, 24),
            "新疆": (2800, 2000, 72),
            "西藏": (3000, 2200, 96),
        },
    ),
    ("jd", "京东物流"): _rates(
        (1500, 500, 48),
        {
            "北京": (1000, 200, 24),
            "上海": (1200, 300, 24),
            "广东": (1200, 300, 24),
            "新疆": (2500, 1500, 96),
            "西藏": (2800, 1800, 120),
        },
    ),
    ("zto", "中通快递"): _tongda((800, 300, 72), (500, 100, 48), (1800, 1200, 120)),
    ("yto", "圆通速递"): _tongda((800, 300, 72), (500, 100, 48), (1800, 1200, 120)),
    ("sto", "申通快递"): _tongda((750, 300, 72), (500, 100, 48), (1700, 1200, 120)),
    ("yunda", "韵达快递"): _tongda((700, 250, 72), (450, 100, 48), (1700, 1100, 120)),
    ("ems", "中国邮政EMS"): _rates(
        (2000, 600, 72),
        {"新疆": (2200, 800, 96), "西藏": (2400, 1000, 120)},
    ),
}
