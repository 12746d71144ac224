"""The retail calendar: 618, 双11 and 年货节 with their phases, and the monthly member day.

Three campaigns a year as in seed 000, each with a warm-up (预热), a peak (爆发) and a wrap-up
(收尾), with the lift in traffic and conversion an operator plans for; the 18th of every month
is member day (会员日). Pure rules, read by the alert rules (ops) and the simulator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
