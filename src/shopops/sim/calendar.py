"""The shop's time: weekday and hour-of-day rhythm, the campaign calendar, member days.

Three campaigns a year as in seed 000 — 618, 双11 and 年货节 (before the Spring Festival) —
each with a warm-up (预热), a peak (爆发) and a wrap-up (收尾) that lift traffic and
conversion; the 18th of every month is member day (会员日). Pure rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Share of a day's visits by shop-local hour: quiet nights, a late-morning bump, an evening peak.
HOUR_WEIGHTS = (
    1.2, 0.7, 0.4, 0.3, 0.3, 0.4, 0.8, 1.6, 2.6, 3.6, 4.4, 4.6,
    4.2, 4.4, 4.6, 4.4, 4.2, 4.3, 4.6, 5.4, 6.4, 7.0, 6.2, 3.4,
)  # fmt: skip
# Monday … Sunday traffic multipliers (weekends browse more).
WEEKDAY = (0.94, 0.95, 0.96, 0.98, 1.03, 1.08, 1.06)
# Lunar new year's day (the 年货节 ends a few days before it).
SPRING_FESTIVAL = {
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}
MEMBER_DAY = 18


@dataclass(frozen=True)
class Phase:
    campaign: str  # "618" | "double11" | "new_year"
    phase: str  # "warm_up" | "peak" | "wrap_up"
    start: dt.date
    end: dt.date  # inclusive
    traffic: float  # multiplier on visitors
    conversion: float  # multiplier on the order rate


def _phases(year: int) -> list[Phase]:
    d = dt.date
    out = [
        Phase("618", "warm_up", d(year, 6, 1), d(year, 6, 15), 1.2, 1.05),
        Phase("618", "peak", d(year, 6, 16), d(year, 6, 18), 2.0, 1.5),
        Phase("618", "wrap_up", d(year, 6, 19), d(year, 6, 21), 1.1, 1.05),
        Phase("double11", "warm_up", d(year, 10, 20), d(year, 11, 9), 1.25, 0.9),
        Phase("double11", "peak", d(year, 11, 10), d(year, 11, 11), 2.6, 1.7),
        Phase("double11", "wrap_up", d(year, 11, 12), d(year, 11, 14), 1.15, 1.05),
    ]
    festival = SPRING_FESTIVAL.get(year + 1)
    if festival is not None:
        # The 年货节 of next year's festival runs in this year's calendar when it is early.
        out += _new_year(festival)
    festival = SPRING_FESTIVAL.get(year)
    if festival is not None:
        out += _new_year(festival)
    return [p for p in out if p.start.year == year or p.end.year == year]


def _new_year(festival: dt.date) -> list[Phase]:
    peak_end = festival - dt.timedelta(days=10)  # couriers stop before the holiday
    return [
        Phase("new_year", "warm_up", peak_end - dt.timedelta(days=16), peak_end -
              dt.timedelta(days=4), 1.15, 1.05),
        Phase("new_year", "peak", peak_end - dt.timedelta(days=3), peak_end, 1.6, 1.3),
        Phase("new_year", "wrap_up", peak_end + dt.timedelta(days=1), peak_end +
              dt.timedelta(days=3), 0.9, 1.0),
    ]  # fmt: skip


def phase_of(day: dt.date) -> Phase | None:
    for phase in _phases(day.year):
        if phase.start <= day <= phase.end:
            return phase
    return None


def is_member_day(day: dt.date) -> bool:
    return day.day == MEMBER_DAY


@dataclass(frozen=True)
class DayRhythm:
    traffic: float
    conversion: float
    campaign: str | None
    phase: str | None
    member_day: bool


def rhythm(day: dt.date) -> DayRhythm:
    """A day's multipliers: weekday × campaign phase × member day."""
    phase = phase_of(day)
    traffic = WEEKDAY[day.weekday()] * (phase.traffic if phase else 1.0)
    conversion = phase.conversion if phase else 1.0
    member = is_member_day(day)
    if member:
        traffic, conversion = traffic * 1.15, conversion * 1.2
    return DayRhythm(
        traffic,
        conversion,
        phase.campaign if phase else None,
        phase.phase if phase else None,
        member,
    )
