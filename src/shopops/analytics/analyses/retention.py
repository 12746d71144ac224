"""Acquisition cohorts and repurchase retention (cohort × period offset).

A customer is **retained at offset k** when they have a paid order in the k-th period after
their cohort's period (weeks start on Monday; months are calendar months; shop dates).

Cohorts:
* `first_order` (default): the period of the customer's **first-ever** paid order — first over
  the customer's whole history, not first within the period asked for. That was PostHog's
  first-time retention bug (posthog #2368: "first time" computed inside the selected range, so
  old customers showed up as new cohort members). Offset 0 is the whole cohort by definition;
  `repeat_in_first_period` counts those who bought again within that first period.
* `registration`: the period of `dim_customer.registered_date` (customers who never bought are
  in the cohort and never retained).

Modes:
* `first_time` (default): each customer belongs to exactly one cohort, as above.
* `recurring`: every period in which a customer bought starts a cohort for them (a customer is
  in many cohorts); retained at k = bought again k periods later. Only meaningful with
  `first_order`-style activity cohorts, so it ignores `cohort`.

Cells for periods after `end` are `None` (not yet observable), not 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from shopops.analytics.analyses._common import (
    BadParameter,
    arrow,
    check_period,
    frame,
    paid_days,
    table,
    to_date,
)
from shopops.analytics.engine import Warehouse

GRAINS = ("week", "month")
COHORTS = ("first_order", "registration")
MODES = ("first_time", "recurring")
MAX_PERIODS = 60
# Monthly first-order cohorts counted on the backend (False: the general path; tests compare).
BACKEND_MONTH_CELLS = True


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of `day`'s week (Monday) or month."""
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def offset(a: dt.date, b: dt.date, grain: str) -> int:
    """Whole periods from period start `a` to period start `b`."""
    if grain == "week":
        return (b - a).days // 7
    return (b.year - a.year) * 12 + (b.month - a.month)


def _typed(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Ids as int64 and the period column as datetime64 (the backend's date type varies)."""
    out = df.copy()
    out["customer_id"] = out["customer_id"].astype("int64")
    out[column] = pd.to_datetime(out[column]).astype("datetime64[ns]")
    return out


def _offsets(cohort: pd.Series, p: pd.Series, grain: str) -> pd.Series:
    """Whole periods from each cohort period start to each activity period start."""
    if grain == "week":
        return (p - cohort).dt.days // 7
    return (p.dt.year - cohort.dt.year) * 12 + (p.dt.month - cohort.dt.month)


def _next_month(month: dt.date) -> dt.date:
    """The first day of the month after `month` (a month's first day)."""
    return (month + dt.timedelta(days=32)).replace(day=1)


def _months_between(a: Any, b: Any) -> Any:
    return (b.year() - a.year()) * 12 + (b.month() - a.month())


def _month_cells(
    wh: Warehouse, by_period: Any, end: dt.date, first_p: dt.date, last_p: dt.date, periods: int
) -> Any:
    """Per first-order month cohort and offset k: customers who bought (`n`), and at k = 0
    those with two or more orders in it (`repeat`), up to `end`."""
    known = wh.derived("paid_days")
    if known is not None:
        # The summary's rows carry each customer's first paid date, whether the row is their
        # first paid day in its month, and the month's running orders: counting rows (no
        # distinct, no join) gives the cells; a customer's "repeat" row is where the running
        # orders reach two.
        d = known[0]
        # The cohorts' first days and the counted rows, on the stored columns first: the scan
        # filters them before any month arithmetic (the same rows as the filters below).
        d = d.filter(
            d.paid_date <= end,
            d.first_date >= first_p,
            d.first_date < _next_month(last_p),
            d.month_first | (d.month_orders >= 2),
        )
        d = d.mutate(
            cohort=d.first_date.truncate("M"),
            reached=(d.month_orders >= 2) & (d.month_orders - d.orders < 2),
        )
        d = d.mutate(k=_months_between(d.cohort, d.paid_date.truncate("M")))
        d = d.filter(
            (d.cohort >= first_p) & (d.cohort <= last_p),
            (d.k >= 0) & (d.k < periods),
            d.month_first | d.reached,
        )
        return d.group_by("cohort", "k").aggregate(
            n=d.count(where=d.month_first), repeat=d.count(where=(d.k == 0) & d.reached)
        )
    first = by_period.group_by("customer_id").aggregate(cohort=by_period.p.min())
    members = first.filter((first.cohort >= first_p) & (first.cohort <= last_p))
    j = by_period.inner_join(members, "customer_id")
    j = j.mutate(k=_months_between(j.cohort, j.p))
    j = j.filter((j.k >= 0) & (j.k < periods))
    return j.group_by("cohort", "k").aggregate(
        n=j.customer_id.nunique(),
        repeat=j.customer_id.nunique(where=(j.k == 0) & (j.orders >= 2)),
    )


def _first_order_months(
    wh: Warehouse,
    cells: Any,
    first_p: dt.date,
    last_p: dt.date,
    periods: int,
    result: RetentionResult,
) -> RetentionResult:
    """Monthly first-order cohorts counted on the backend: the cells (≤ periods² rows) come
    back, not every customer's months. Same counts as the general path below."""
    counts: dict[tuple[dt.date, int], int] = {}
    repeats: dict[dt.date, int] = {}
    for row in arrow(wh, cells).to_pylist():
        c = to_date(row["cohort"])
        counts[(c, int(row["k"]))] = int(row["n"])
        if int(row["k"]) == 0:
            repeats[c] = int(row["repeat"] or 0)
    for cohort_start in sorted(repeats):
        size = counts[(cohort_start, 0)]
        observable = offset(cohort_start, last_p, "month")
        retained: list[int | None] = [
            counts.get((cohort_start, k), 0) if k <= observable else None for k in range(periods)
        ]
        result.rows.append(
            CohortRow(
                cohort=cohort_start,
                size=size,
                retained=retained,
                repeat_in_first_period=repeats[cohort_start],
            )
        )
    return result


@dataclass
class CohortRow:
    cohort: dt.date
    size: int
    retained: list[int | None]
    repeat_in_first_period: int = 0

    @property
    def rates(self) -> list[float | None]:
        return [None if r is None or not self.size else r / self.size for r in self.retained]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort.isoformat(),
            "size": self.size,
            "retained": self.retained,
            "rates": self.rates,
            "repeat_in_first_period": self.repeat_in_first_period,
        }


@dataclass
class RetentionResult:
    grain: str
    cohort: str
    mode: str
    start: dt.date
    end: dt.date
    rows: list[CohortRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grain": self.grain,
            "cohort": self.cohort,
            "mode": self.mode,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": [r.to_dict() for r in self.rows],
        }


def _check(grain: str, cohort: str, mode: str, periods: int) -> None:
    for name, value, allowed in (
        ("grain", grain, GRAINS),
        ("cohort", cohort, COHORTS),
        ("mode", mode, MODES),
    ):
        if value not in allowed:
            raise BadParameter(
                f"{name} must be one of {', '.join(allowed)}",
                details={name: value, "allowed": list(allowed)},
            )
    if not 1 <= periods <= MAX_PERIODS:
        raise BadParameter(f"periods must be 1..{MAX_PERIODS}", details={"periods": periods})


def retention(
    wh: Warehouse,
    *,
    start: dt.date,
    end: dt.date,
    grain: str = "month",
    cohort: str = "first_order",
    mode: str = "first_time",
    periods: int = 12,
) -> RetentionResult:
    """Cohorts whose period starts within [start, end], retention over `periods` offsets."""
    _check(grain, cohort, mode, periods)
    check_period(start, end)
    days = paid_days(wh, end)
    # The backend groups paid days by customer and period (weeks start on Monday there too);
    # what is left is vectorised pandas over customers × periods, no per-row Python.
    unit = "W" if grain == "week" else "M"
    by_period = days.group_by("customer_id", p=days.paid_date.truncate(unit)).aggregate(
        orders=days.n.sum()
    )
    first_p, last_p = period_start(start, grain), period_start(end, grain)
    result = RetentionResult(grain=grain, cohort=cohort, mode=mode, start=start, end=end)
    if (
        BACKEND_MONTH_CELLS
        and grain == "month"
        and cohort == "first_order"
        and mode == "first_time"
    ):
        return _first_order_months(
            wh,
            _month_cells(wh, by_period, end, first_p, last_p, periods),
            first_p,
            last_p,
            periods,
            result,
        )
    activity = _typed(frame(wh, by_period), "p")
    if mode == "recurring":
        members = activity[["customer_id", "p"]].rename(columns={"p": "cohort"})
        members["orders_in_first"] = activity["orders"]
    elif cohort == "first_order":
        first = activity.loc[activity.groupby("customer_id")["p"].idxmin()]
        members = first.rename(columns={"p": "cohort", "orders": "orders_in_first"})
    else:
        c = table(wh, "dim_customer")
        c = c.filter(c.registered_date.notnull(), c.registered_date <= end)
        reg = c.select("customer_id", cohort=c.registered_date.truncate(unit))
        members = _typed(frame(wh, reg), "cohort")
        members["orders_in_first"] = 0
    lo, hi = pd.Timestamp(first_p), pd.Timestamp(last_p)
    members = members[(members["cohort"] >= lo) & (members["cohort"] <= hi)]
    if members.empty:
        return result
    joined = members.merge(activity, on="customer_id")
    joined["k"] = _offsets(joined["cohort"], joined["p"], grain)
    joined = joined[(joined["k"] >= 0) & (joined["k"] < periods)]
    counts = joined.groupby(["cohort", "k"])["customer_id"].nunique()
    sizes = members.groupby("cohort")["customer_id"].nunique()
    repeats = members[members["orders_in_first"] >= 2].groupby("cohort")["customer_id"].nunique()
    counts.index = counts.index.set_levels(
        [[to_date(v) for v in counts.index.levels[0]], counts.index.levels[1]]
    )
    sizes.index = [to_date(v) for v in sizes.index]
    repeats.index = [to_date(v) for v in repeats.index]
    for cohort_start, size in sizes.sort_index().items():
        observable = offset(cohort_start, last_p, grain)
        retained: list[int | None] = [
            int(counts.get((cohort_start, k), 0)) if k <= observable else None
            for k in range(periods)
        ]
        if cohort == "first_order" or mode == "recurring":
            retained[0] = int(size)
        result.rows.append(
            CohortRow(
                cohort=cohort_start,
                size=int(size),
                retained=retained,
                repeat_in_first_period=int(repeats.get(cohort_start, 0)),
            )
        )
    return result
