"""Small helpers the store pages share (promotions, catalog, returns)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(value: dt.datetime | None, tz: str, timespec: str = "seconds") -> str:
    """An instant as the shop's wall clock with its offset ("2026-12-02 23:54:07+08:00"):
    what an operator reads, and still exact in an export."""
    if value is None:
        return ""
    return value.astimezone(_zone(tz)).isoformat(sep=" ", timespec=timespec)
