"""Daily series read once for a run of consecutive evaluated days (a backfill), then sliced.

Evaluating day D reads each rule's and the detector's series over [D − look-back, D]; a
backfill of N days would read nearly the same six weeks N times. A day's value is that day's
alone (`raw_daily_series`), so the cache reads a key once from the first start it is asked
for up to the backfill's last day and serves each later window as a slice. The leading zeros
are trimmed per window, as `daily_series` does, so every evaluated day sees exactly what it
would have read by itself — and nothing after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shopops.analytics.engine import Warehouse
from shopops.ops.anomaly.service import Filters, Series, raw_daily_series, trim_leading

Key = tuple[str, Filters]


class SeriesCache:
    """`daily_series` for windows ending on or before `until`, each key read at most once
    (again only if a window starts before what was read)."""

    def __init__(self, until: dt.date) -> None:
        self.until = until
        self._read: dict[Key, tuple[dt.date, Series]] = {}  # key → (first day read, values)
        self.reads = 0  # warehouse reads made, for tests and logs

    def daily_series(
        self,
        wh: Warehouse,
        wanted: Iterable[tuple[str, Filters]],
        start: dt.date,
        end: dt.date,
        timezone: str,
    ) -> dict[Key, Series]:
        if end > self.until:
            raise ValueError(f"the window ends {end}, after the cache's last day {self.until}")
        keys = list(dict.fromkeys(wanted))
        missing = [k for k in keys if k not in self._read or self._read[k][0] > start]
        if missing:
            self.reads += 1
            for key, vals in raw_daily_series(wh, missing, start, self.until, timezone).items():
                self._read[key] = (start, vals)
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        out: dict[Key, Series] = {}
        for key in keys:
            vals = self._read[key][1]
            out[key] = trim_leading({d: vals.get(d) for d in days})
        return out
