"""The shop's time: weekday and hour-of-day rhythm on top of the retail calendar.

The campaigns (618, 双11, 年货节 with their phases) and member days live in
`shopops.promotions.calendar`; this module adds the simulator's hour and weekday rhythm and a
day's multipliers. Pure rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shopops.promotions.calendar import (
    MEMBER_DAY,
    SPRING_FESTIVAL,
    Phase,
    is_member_day,
    phase_of,
)

__all__ = [
    "HOUR_WEIGHTS",
    "MEMBER_DAY",
    "SPRING_FESTIVAL",
    "WEEKDAY",
    "DayRhythm",
    "Phase",
    "is_member_day",
    "phase_of",
    "rhythm",
]

# Share of a day's visits by shop-local hour: quiet nights, a late-morning bump, an evening peak.
HOUR_WEIGHTS = (
    1.2, 0.7, 0.4, 0.3, 0.3, 0.4, 0.8, 1.6, 2.6, 3.6, 4.4, 4.6,
    4.2, 4.4, 4.6, 4.4, 4.2, 4.3, 4.6, 5.4, 6.4, 7.0, 6.2, 3.4,
)  # fmt: skip
# Monday … Sunday traffic multipliers (weekends browse more).
WEEKDAY = (0.94, 0.95, 0.96, 0.98, 1.03, 1.08, 1.06)


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
