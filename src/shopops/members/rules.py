"""Pure rules of customers and loyalty: contact validation, age bands, default addresses, PII
masking; growth value, tiers, points earning, redemption caps, expiry and refunds; referral."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A mainland China mobile number: 11 digits starting with 1 (after an optional +86 prefix).
_CN_MOBILE = re.compile(r"^1\d{10}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTAL_CODE = re.compile(r"^\d{6}$")

# (lowest age, band) from the oldest down; under 18 has its own band.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (55, "55+"),
    (45, "45-54"),
    (35, "35-44"),
    (25, "25-34"),
    (18, "18-24"),
)
UNDER_18 = "under-18"
AGE_BAND_NAMES: tuple[str, ...] = (UNDER_18, *(band for _, band in reversed(AGE_BANDS)))

# Staff roles whose work needs the shopper's phone and address (shipping, service calls).
PII_ROLES = frozenset({"admin", "operator", "agent"})
MAX_ADDRESSES = 20


def normalize_phone(raw: str) -> str:
    """A CN mobile number as 11 digits; raises ValueError when it is not one."""
    digits = re.sub(r"[\s\-()]", "", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if not _CN_MOBILE.match(digits):
        raise ValueError("a mobile number is 11 digits starting with 1")
    return digits


def normalize_email(raw: str) -> str:
    """An e-mail address, trimmed and lower-cased; raises ValueError when malformed."""
    email = raw.strip().lower()
    if len(email) > 200 or not _EMAIL.match(email):
        raise ValueError("not an e-mail address")
    return email


def is_postal_code(raw: str) -> bool:
    """Six digits, or empty (the code is optional)."""
    return raw == "" or bool(_POSTAL_CODE.match(raw))


def age_on(birthday: dt.date, today: dt.date) -> int:
    """Whole years between `birthday` and `today` (a birthday today counts)."""
    years = today.year - birthday.year
    if (today.month, today.day) < (birthday.month, birthday.day):
        years -= 1
    return years


def age_band(birthday: dt.date, today: dt.date) -> str:
    """The customer's age band ("18-24" … "55+", or "under-18") on `today`."""
    age = age_on(birthday, today)
    for lowest, band in AGE_BANDS:
        if age >= lowest:
            return band
    return UNDER_18


def next_default_address(address_ids: list[int], *, removed: int) -> int | None:
    """Which address becomes the default when the default `removed` goes: the newest left."""
    left = [a for a in address_ids if a != removed]
    return max(left) if left else None


def sees_pii(role: str) -> bool:
    """Whether a staff role may read phone numbers, e-mail and street addresses in full."""
    return role in PII_ROLES


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the carrier prefix and last four digits stay, the rest is hidden."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:] if len(phone) > 2 else "*" * len(phone)


def mask_email(email: str | None) -> str | None:
    """a***@example.com: the first letter and the domain stay."""
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_name(name: str) -> str:
    """张** : the first character stays (surname, or initial)."""
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_address(address: Mapping[str, Any]) -> dict[str, Any]:
    """An address with the region kept (province, city, district) and the rest hidden."""
    masked = dict(address)
    if "recipient" in masked:
        masked["recipient"] = mask_name(str(masked["recipient"] or ""))
    if "phone" in masked:
        masked["phone"] = mask_phone(masked["phone"])
    if "detail" in masked:
        masked["detail"] = "***"
    if "postal_code" in masked:
        masked["postal_code"] = ""
    return masked


def mask_customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A customer's profile without what identifies the person: name, phone, e-mail, birthday."""
    masked = dict(customer)
    if "name" in masked:
        masked["name"] = mask_name(str(masked["name"] or ""))
    if "phone" in masked:
        masked["phone"] = mask_phone(masked["phone"])
    if "email" in masked:
        masked["email"] = mask_email(masked["email"])
    if "birthday" in masked:
        masked["birthday"] = None
    return masked


# --- membership: growth value and tiers ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Privileges:
    """What a tier grants. Promotions applies the discount and free shipping at checkout."""

    discount_bp: int = 0
    free_shipping: bool = False
    priority_shipping: bool = False
    birthday_points: int = 0
    member_day_offers: bool = False
    points_multiplier_pct: int = 100


@dataclass(frozen=True, slots=True)
class Tier:
    code: str
    name_zh: str
    name_en: str
    threshold: int
    privileges: Privileges = Privileges()


# Defaults for a 3C shop with a ¥200-500 basket (growth ≈ ¥ paid + 10 an order): a couple of
# orders make silver, a regular buyer reaches gold within a year.
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("silver", "白银会员", "Silver", 1_000, Privileges(0, False, False, 200, True, 100)),
    Tier("gold", "黄金会员", "Gold", 3_000, Privileges(200, True, False, 500, True, 120)),
    Tier("platinum", "铂金会员", "Platinum", 8_000, Privileges(300, True, True, 1_000, True, 150)),
    Tier("diamond", "钻石会员", "Diamond", 20_000, Privileges(500, True, True, 2_000, True, 200)),
)
MAX_DISCOUNT_BP = 5_000
_TIER_CODE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


def tier_problems(tiers: Sequence[Tier]) -> list[str]:
    """Why a tier table is not usable (empty list = fine): unique codes, thresholds > 0 and
    strictly increasing, privileges never shrinking as tiers rise, sane values."""
    problems: list[str] = []
    codes = [t.code for t in tiers]
    if len(set(codes)) != len(codes):
        problems.append("tier codes must be unique")
    for t in tiers:
        p = t.privileges
        if not _TIER_CODE.match(t.code):
            problems.append(f"{t.code!r}: a code is lowercase letters, digits and _ (≤20)")
        if t.threshold <= 0:
            problems.append(f"{t.code}: the growth threshold must be > 0")
        if not 0 <= p.discount_bp <= MAX_DISCOUNT_BP:
            problems.append(f"{t.code}: discount_bp must be within 0..{MAX_DISCOUNT_BP}")
        if p.birthday_points < 0:
            problems.append(f"{t.code}: birthday_points must be >= 0")
        if not 100 <= p.points_multiplier_pct <= 1_000:
            problems.append(f"{t.code}: points_multiplier_pct must be within 100..1000")
    ordered = sorted(tiers, key=lambda t: t.threshold)
    for low, high in itertools.pairwise(ordered):
        if high.threshold == low.threshold:
            problems.append(f"{low.code} and {high.code}: thresholds must strictly increase")
        if high.privileges.discount_bp < low.privileges.discount_bp:
            problems.append(f"{high.code}: a higher tier cannot have a smaller discount")
    return problems


def tier_for(growth: int, tiers: Sequence[Tier]) -> str:
    """The highest tier whose threshold the growth value reaches ('' below the lowest)."""
    best, best_threshold = "", -1
    for t in tiers:
        if best_threshold < t.threshold <= growth:
            best, best_threshold = t.code, t.threshold
    return best


def tier_rank(code: str, tiers: Sequence[Tier]) -> int:
    """0 for no tier, then 1, 2, … by threshold; an unknown (deleted) tier ranks 0."""
    ordered = [t.code for t in sorted(tiers, key=lambda t: t.threshold)]
    return ordered.index(code) + 1 if code in ordered else 0


def evaluate_tier(current: str, growth: int, tiers: Sequence[Tier], *, downgrade: bool) -> str:
    """The tier a member should hold. Events only raise it (`downgrade=False`); the periodic
    re-evaluation over the trailing window may lower it too."""
    target = tier_for(growth, tiers)
    if downgrade:
        return target
    return target if tier_rank(target, tiers) >= tier_rank(current, tiers) else current


def order_growth(paid: int, *, per_yuan: int, per_order: int) -> int:
    """Growth value (成长值) of a paid order: spend (per whole yuan) plus a frequency bonus."""
    return paid // 100 * per_yuan + per_order


# --- points -----------------------------------------------------------------------------------


def points_earned(paid: int, *, per_yuan: int, multiplier_pct: int = 100) -> int:
    """Points a paid order earns: whole yuan × rate × the tier multiplier, rounded down."""
    return paid // 100 * per_yuan * multiplier_pct // 100


def points_value(points: int, *, points_per_yuan: int) -> int:
    """Fen that `points` take off (rounded down)."""
    return points * 100 // points_per_yuan


def max_redeemable_points(remaining: int, *, cap_bp: int, points_per_yuan: int) -> int:
    """Most points usable on an order whose items have `remaining` fen left after earlier
    discounts: their value may not pass cap_bp of it."""
    cap_fen = remaining * cap_bp // 10_000
    return cap_fen * points_per_yuan // 100


def proportional(total: int, part: int, whole: int) -> int:
    """`total × part / whole` rounded down, clamped to 0..total (0 when whole is 0)."""
    if whole <= 0 or total <= 0:
        return 0
    return max(0, min(total, total * part // whole))


def expired_due(lots: Iterable[tuple[dt.datetime, int]], debits: int, as_of: dt.datetime) -> int:
    """Points to expire now under FIFO: debits consume the lots that expire first, so what is
    left of the lots expired by `as_of` is their total minus every debit so far (never < 0).

    `lots` = (expires_at, amount) of every credit; `debits` = the total of every debit entry
    (redeemed, reversed, expired, negative adjustments) as a positive number.
    """
    due = sum(amount for expires_at, amount in lots if expires_at <= as_of)
    return max(0, due - debits)


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` later (clamped to the month's end)."""
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return when.replace(year=year, month=month, day=min(when.day, days))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# --- referral ---------------------------------------------------------------------------------

# No 0/O/1/I: codes are read aloud and typed from screenshots.
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8


_CODE_SPACE = 32**REFERRAL_CODE_LENGTH  # 2**40
_MULT = 0x9E3779B97  # odd, so invertible modulo 2**40
_OFFSET = 0x5A5A5A5A5
_INVERSE = pow(_MULT, -1, _CODE_SPACE)


def referral_code(customer_id: int) -> str:
    """The customer's referral code: a scrambled, reversible encoding of the id (so it needs
    no storage and no uniqueness retries)."""
    n = (customer_id * _MULT + _OFFSET) % _CODE_SPACE
    chars = []
    for _ in range(REFERRAL_CODE_LENGTH):
        n, digit = divmod(n, 32)
        chars.append(REFERRAL_ALPHABET[digit])
    return "".join(chars)


def decode_referral_code(code: str) -> int | None:
    """The customer id a code stands for, or None when it is not a code."""
    code = normalize_referral_code(code)
    if len(code) != REFERRAL_CODE_LENGTH or any(c not in REFERRAL_ALPHABET for c in code):
        return None
    n = 0
    for c in reversed(code):
        n = n * 32 + REFERRAL_ALPHABET.index(c)
    customer_id = (n - _OFFSET) * _INVERSE % _CODE_SPACE
    return customer_id if 0 < customer_id < 2**31 else None


def normalize_referral_code(raw: str) -> str:
    return raw.strip().upper()


def referral_chain_has(chain: Sequence[int], customer_id: int) -> bool:
    """Whether attributing would make a cycle: the new referrer's own chain of referrers
    already contains the customer."""
    return customer_id in chain
