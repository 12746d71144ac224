"""Pure rules of customers: contact validation, age bands, default addresses, PII masking."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
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
