"""Order numbers: human-friendly, sortable by time, unique in practice (the database's unique
constraint and a retry make them unique for certain)."""

from __future__ import annotations

import datetime as dt
import secrets

RANDOM_DIGITS = 8


def new_order_number(when: dt.datetime) -> str:
    """`yymmddHHMMSS` in UTC and 8 random digits, e.g. `26111506301204857311` (20 digits).

    At 3,000 orders a second two numbers clash about once in 20 seconds; the caller retries.
    """
    stamp = when.astimezone(dt.UTC).strftime("%y%m%d%H%M%S")
    return stamp + f"{secrets.randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
