"""Pure rules of the warehouse: shop-time-zone dates, the festival calendar, the date dimension.

No I/O. A fact's partition date is the shop-time-zone calendar date of its grain event, so a
day in a report is a day in the shop, not in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

# Spring Festival (春节) dates: 年货节 is placed before them.
SPRING_FESTIVAL = {
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}
# 年货节 runs from 30 days before the Spring Festival until carriers stop, 8 days before it.
NIANHUO_START_DAYS, NIANHUO_END_DAYS = 30, 8
# 会员日 (member day): this day of every month, unless a bigger festival claims it.
MEMBER_DAY_OF_MONTH = 18

# Fixed-date sale seasons, (month, first day, last day), in priority order.
FIXED_FESTIVALS: tuple[tuple[str, int, int, int], ...] = (
    ("双11", 11, 1, 11),
    ("618", 6, 1, 18),
    ("双12", 12, 12, 12),
    ("38节", 3, 3, 8),
)
FESTIVALS = ("双11", "618", "双12", "年货节", "38节", "会员日")


def festival_of(day: dt.date) -> str:
    """The sale festival a shop day belongs to, or "" (the biggest one wins an overlap)."""
    for name, month, first, last in FIXED_FESTIVALS:
        if day.month == month and first <= day.day <= last:
            return name
    # The Spring Festival of `day`'s year, or of next year for days in December.
    for year in (day.year, day.year + 1):
        spring = SPRING_FESTIVAL.get(year)
        if spring is not None:
            start = spring - dt.timedelta(days=NIANHUO_START_DAYS)
            end = spring - dt.timedelta(days=NIANHUO_END_DAYS)
            if start <= day <= end:
                return "年货节"
    if day.day == MEMBER_DAY_OF_MONTH:
        return "会员日"
    return ""


def date_row(day: dt.date) -> dict[str, Any]:
    """One `dim_date` row."""
    iso = day.isocalendar()
    return {
        "date": day,
        "year": day.year,
        "quarter": (day.month - 1) // 3 + 1,
        "month": day.month,
        "iso_week": iso.week,
        "weekday": iso.weekday,
        "is_weekend": iso.weekday >= 6,
        "festival": festival_of(day),
    }


def date_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def calendar_span(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """Whole years around the data, and the year before it (same-period-last-year compares)."""
    return dt.date(first.year - 1, 1, 1), dt.date(last.year + 1, 12, 31)


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_ts(value: Any) -> dt.datetime | None:
    """An ISO time (or datetime) from a payload as aware UTC; None stays None."""
    if value is None or value == "":
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        # The store writes aware UTC; a naive value is read as UTC rather than guessed.
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def shop_date(when: dt.datetime | None, tz: str) -> dt.date | None:
    """The shop-time-zone calendar date of a UTC time."""
    if when is None:
        return None
    return when.astimezone(zone(tz)).date()
