"""The days the alert rules and the detector treat as unusual by design: campaign days."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.promotions.calendar import MEMBER_DAY, phase_of
from shopops.promotions.models import Campaign


def campaign_days(
    session: Session, start: dt.date, end: dt.date, timezone: str, *, warm_up: bool = False
) -> frozenset[dt.date]:
    """Shop-local days any campaign covers (unusual by design). Warm-ups count only when
    asked: the rules' baselines leave them out, the detector's trailing level follows them."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(timezone)
    days: set[dt.date] = set()
    d = start
    while d <= end:
        phase = phase_of(d)
        # The seed's calendar: 618 / 双11 / 年货节 peaks and wrap-ups, and member day (18th).
        if (phase is not None and (warm_up or phase.phase != "warm_up")) or d.day == MEMBER_DAY:
            days.add(d)
        d += dt.timedelta(days=1)
    for c in session.scalars(select(Campaign).where(Campaign.status != "cancelled")):
        d, last = c.starts_at.astimezone(tz).date(), c.ends_at.astimezone(tz).date()
        while d <= last:
            if start <= d <= end:
                days.add(d)
            d += dt.timedelta(days=1)
    return frozenset(days)
