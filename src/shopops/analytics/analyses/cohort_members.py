"""The customers behind one cell of the retention table (`analyses.retention`, first-order
cohorts, first-time mode): those whose first paid order falls in the cohort's period and who
paid again `k` periods later (k = 0: the whole cohort).

The same rules as `retention`: paid orders up to `end` with a customer, weeks start on Monday,
periods are whole weeks or calendar months.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shopops.analytics.analyses._common import BadParameter, frame, table
from shopops.analytics.analyses.retention import GRAINS, period_start
from shopops.analytics.engine import Warehouse

COLUMNS = ["customer_id", "orders", "paid_amount"]


def add_periods(start: dt.date, k: int, grain: str) -> dt.date:
    """The start of the period `k` periods after period start `start`."""
    if grain == "week":
        return start + dt.timedelta(days=7 * k)
    months = start.year * 12 + start.month - 1 + k
    return dt.date(months // 12, months % 12 + 1, 1)


def cohort_members(
    wh: Warehouse, *, cohort: dt.date, k: int, grain: str, end: dt.date
) -> pd.DataFrame:
    """COLUMNS for each member of the cell: orders and paid amount (fen) in period `k`."""
    if grain not in GRAINS:
        raise BadParameter(f"grain must be one of {', '.join(GRAINS)}", details={"grain": grain})
    if k < 0:
        raise BadParameter("the period offset must be 0 or more", details={"k": k})
    first_p = period_start(cohort, grain)
    target = add_periods(first_p, k, grain)
    o = table(wh, "fact_orders")
    o = o.filter(o.paid_date.notnull(), o.customer_id.notnull(), o.paid_date <= end)
    first = o.group_by("customer_id").aggregate(first_day=o.paid_date.min())
    nxt = add_periods(target, 1, grain)
    cell = o.filter(o.paid_date >= target, o.paid_date < nxt, o.paid_date <= end)
    per = cell.group_by(_c=cell.customer_id).aggregate(
        orders=cell.count(), paid_amount=cell.paid_amount.sum()
    )
    lo, hi = first_p, add_periods(first_p, 1, grain)
    members = first.filter(first.first_day >= lo, first.first_day < hi)
    j = members.inner_join(per, members.customer_id == per._c)
    df = frame(wh, j.select("customer_id", "orders", "paid_amount").order_by("customer_id"))
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in COLUMNS})
    return df.astype("int64")[COLUMNS]
