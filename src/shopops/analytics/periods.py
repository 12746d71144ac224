"""Report periods in the shop's time zone: parse '2026-11-11', '2026-W45', '2026-11', '2026-Q4',
'2026', '2026-11-01..2026-11-15', 'yesterday', 'last-7-days'…; split them into day/week/month
buckets; find the previous period and the same period last year.

A period is a closed range of shop-time-zone calendar dates (the warehouse's `date` column);
relative names are resolved against a `today` the caller gives (the shop's clock), so a
report never reads the wall clock behind the simulator's back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from shopops.errors import InvalidInput

GRAINS = ("day", "week", "month")
KINDS = ("day", "week", "month", "quarter", "year", "range")
EXAMPLES = (
    "2026-11-11",
    "2026-W45",
    "2026-11",
    "2026-Q4",
    "2026",
    "2026-11-01..2026-11-15",
    "today",
    "yesterday",
    "last-7-days",
    "this-month",
    "last-month",
)
# The longest period a query may cover: ten years of days keeps calendars small.
MAX_DAYS = 3700


class InvalidPeriod(InvalidInput):
    code = "invalid_period"


class InvalidGrain(InvalidInput):
    code = "invalid_grain"


@dataclass(frozen=True, order=True)
class Period:
    """The shop-time-zone dates `start`..`end` (both included)."""

    start: dt.date
    end: dt.date
    kind: str = "range"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidPeriod(
                f"period ends ({self.end}) before it starts ({self.start})",
                details={"start": self.start.isoformat(), "end": self.end.isoformat()},
            )
        if self.days > MAX_DAYS:
            raise InvalidPeriod(
                f"period of {self.days} days is longer than the {MAX_DAYS} allowed",
                details={"start": self.start.isoformat(), "end": self.end.isoformat()},
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The canonical text of the period (parses back to the same period)."""
        s = self.start
        if self.kind == "day":
            return s.isoformat()
        if self.kind == "week":
            year, week, _ = s.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(s.year)
        return f"{s.isoformat()}..{self.end.isoformat()}"

    def __str__(self) -> str:
        return self.label

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        """The period just before: the previous calendar month/quarter/year for those kinds
        (环比 as operators read it), else the same number of days immediately before."""
        if self.kind == "month":
            return month_period(*_add_months(self.start.year, self.start.month, -1))
        if self.kind == "quarter":
            y, m = _add_months(self.start.year, self.start.month, -3)
            return Period(dt.date(y, m, 1), _month_end(*_add_months(y, m, 2)), "quarter")
        if self.kind == "year":
            return year_period(self.start.year - 1)
        length = dt.timedelta(days=self.days)
        return Period(self.start - length, self.end - length, self.kind)

    def last_year(self) -> Period:
        """The same period one year earlier (同比): the same calendar dates (29 Feb → 28 Feb);
        the same ISO week of the previous year for a week."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            weeks_then = dt.date(year - 1, 12, 28).isocalendar()[1]
            return week_period(year - 1, min(week, weeks_then))
        return Period(_year_back(self.start), _year_back(self.end), self.kind)

    def buckets(self, grain: str) -> list[Period]:
        """The period cut at `grain` boundaries (ISO weeks start on Monday); the first and last
        buckets are clipped to the period."""
        check_grain(grain)
        out: list[Period] = []
        day = self.start
        while day <= self.end:
            if grain == "day":
                end = day
            elif grain == "week":
                end = day + dt.timedelta(days=6 - day.weekday())
            else:
                end = _month_end(day.year, day.month)
            end = min(end, self.end)
            out.append(Period(day, end, grain if _whole(day, end, grain) else "range"))
            day = end + dt.timedelta(days=1)
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
        }


def _whole(start: dt.date, end: dt.date, grain: str) -> bool:
    if grain == "day":
        return True
    if grain == "week":
        return start.weekday() == 0 and (end - start).days == 6
    return start.day == 1 and end == _month_end(start.year, start.month)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> dt.date:
    y, m = _add_months(year, month, 1)
    return dt.date(y, m, 1) - dt.timedelta(days=1)


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def month_period(year: int, month: int) -> Period:
    return Period(dt.date(year, month, 1), _month_end(year, month), "month")


def year_period(year: int) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def week_period(year: int, week: int) -> Period:
    start = dt.date.fromisocalendar(year, week, 1)
    return Period(start, start + dt.timedelta(days=6), "week")


def day_period(day: dt.date) -> Period:
    return Period(day, day, "day")


def shop_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the shop's time zone at the instant `now` (UTC; default: the wall clock,
    for command-line use only)."""
    instant = now or dt.datetime.now(dt.UTC)
    return instant.astimezone(ZoneInfo(timezone)).date()


def check_grain(grain: str | None) -> str | None:
    if grain is not None and grain not in GRAINS:
        raise InvalidGrain(
            f"unknown grain {grain!r}; choose one of {', '.join(GRAINS)}",
            details={"grain": grain, "valid": list(GRAINS)},
        )
    return grain


_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_LAST = re.compile(r"^last-(\d{1,4})-days$", re.IGNORECASE)


def _bad(text: str, why: str) -> InvalidPeriod:
    return InvalidPeriod(
        f"bad period {text!r}: {why}; write e.g. {', '.join(EXAMPLES)}",
        details={"period": text, "examples": list(EXAMPLES)},
    )


def _parse_date(text: str, original: str) -> dt.date:
    m = _DAY.match(text)
    if not m:
        raise _bad(original, f"{text!r} is not a date YYYY-MM-DD")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise _bad(original, str(exc)) from None


def parse_period(text: str, *, today: dt.date | None = None) -> Period:
    """The period `text` names; relative names ('yesterday', 'last-7-days' = the 7 whole days
    ending yesterday, 'this-month' = the 1st up to today) need `today` (the shop's date)."""
    if not isinstance(text, str) or not text.strip():
        raise _bad(str(text), "empty")
    raw = text
    text = text.strip()
    if ".." in text:
        left, _, right = text.partition("..")
        start, end = _parse_date(left.strip(), raw), _parse_date(right.strip(), raw)
        if end < start:
            raise _bad(raw, "the range ends before it starts")
        return Period(start, end, "range")
    if _DAY.match(text):
        return day_period(_parse_date(text, raw))
    if m := _WEEK.match(text):
        try:
            return week_period(int(m[1]), int(m[2]))
        except ValueError:
            raise _bad(raw, f"year {m[1]} has no ISO week {m[2]}") from None
    if m := _MONTH.match(text):
        if not 1 <= int(m[2]) <= 12:
            raise _bad(raw, f"no month {m[2]}")
        return month_period(int(m[1]), int(m[2]))
    if m := _QUARTER.match(text):
        q = int(m[2])
        y = int(m[1])
        return Period(dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q), "quarter")
    if m := _YEAR.match(text):
        if int(m[1]) < 1:
            raise _bad(raw, "no year 0")
        return year_period(int(m[1]))
    relative = text.lower()
    m = _LAST.match(relative)
    if relative in {"today", "yesterday", "this-month", "last-month", "this-week"} or m:
        if today is None:
            raise _bad(raw, "a relative period needs today's date")
        if relative == "today":
            return day_period(today)
        if relative == "yesterday":
            return day_period(today - dt.timedelta(days=1))
        if relative == "this-week":
            return Period(today - dt.timedelta(days=today.weekday()), today, "range")
        if relative == "this-month":
            return Period(today.replace(day=1), today, "range")
        if relative == "last-month":
            return month_period(*_add_months(today.year, today.month, -1))
        assert m is not None
        n = int(m[1])
        if n < 1:
            raise _bad(raw, "the number of days must be at least 1")
        end = today - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=n - 1), end, "range")
    raise _bad(raw, "not a period")
