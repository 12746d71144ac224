"""RFM scores and the eight named groups, lifecycle stage and ACCA stage, per customer.

* R = days from the customer's last paid order to `as_of` (recency: smaller is better),
  F = paid orders, M = paid amount (fen), over paid orders with `start ≤ paid_date ≤ as_of`
  (`start=None`: all history). Only customers with a paid order in the window are scored.
* Quintile scores 1–5 (5 best): `1 + ⌊5·(r−1)/n⌋`, r = the customer's rank from worst (1) to
  best (n) with ties sharing the lowest rank, so equal values always get equal scores.
* The eight groups exactly as METRICS.md: R, F, M are "high" when at least as good as the
  shop's median over the scored customers (R: recency ≤ the median recency; F, M: ≥ median).
* Lifecycle (over all paid orders up to `as_of`, whatever `start`): `new` if the first-ever
  paid order is within NEW_DAYS; otherwise by recency: `active` (≤ ACTIVE_DAYS), `returning`
  (≤ ACTIVE_DAYS but the gap before the last order was longer than ACTIVE_DAYS: came back),
  `dormant` (≤ DORMANT_DAYS), `lost` (older).
* ACCA (for every customer registered by `as_of`, buyers or not): `refer` if another customer
  has `dim_customer.referred_by` = this customer; else `retain` with ≥ 2 paid orders, `activate`
  with 1, `acquire` with none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from shopops.analytics.analyses._common import (
    check_period,
    clean,
    frame,
    paid_days,
    records,
    table,
)
from shopops.analytics.engine import Warehouse

NEW_DAYS = 30
ACTIVE_DAYS = 90
DORMANT_DAYS = 180

# (R high, F high, M high) → (code, 中文, English), exactly the groups of METRICS.md.
SEGMENTS: dict[tuple[bool, bool, bool], tuple[str, str, str]] = {
    (True, True, True): ("important_value", "重要价值客户", "Important value"),
    (True, False, True): ("important_develop", "重要发展客户", "Important to develop"),
    (False, True, True): ("important_keep", "重要保持客户", "Important to keep"),
    (False, False, True): ("important_win_back", "重要挽留客户", "Important to win back"),
    (True, True, False): ("general_value", "一般价值客户", "General value"),
    (True, False, False): ("general_develop", "一般发展客户", "General to develop"),
    (False, True, False): ("general_keep", "一般保持客户", "General to keep"),
    (False, False, False): ("general_win_back", "一般挽留客户", "General to win back"),
}
LIFECYCLE = {
    "new": "新客",
    "active": "活跃",
    "returning": "回流",
    "dormant": "沉睡",
    "lost": "流失",
}
ACCA = {"acquire": "获取", "activate": "激活", "retain": "留存", "refer": "推荐"}
COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "r_high",
    "f_high",
    "m_high",
    "segment",
    "segment_zh",
    "segment_en",
    "lifecycle",
]


def quintile_scores(goodness: np.ndarray) -> np.ndarray:
    """1–5 per value, 5 for the best fifth; ties share the score of their lowest rank."""
    n = len(goodness)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return (1 + np.floor(5 * (_min_ranks(np.asarray(goodness)) - 1) / n)).astype(np.int64)


# Integer values spanning at most this many get their ranks by counting, not sorting.
_COUNTED_SPAN = 1 << 20


def _min_ranks(values: np.ndarray) -> np.ndarray:
    """Each value's rank from 1, ties sharing the lowest (pandas' `rank(method="min")`). Whole
    numbers in a narrow span (recency days, order counts) are counted: the rank is one more
    than the number of smaller values, in one pass instead of a sort."""
    if values.dtype.kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low < _COUNTED_SPAN:
            shifted = (values - low).astype(np.int64)
            counts = np.bincount(shifted)
            below = np.cumsum(counts) - counts
            return (below[shifted] + 1).astype(float)
    return pd.Series(values).rank(method="min").to_numpy()


def segment_of(r_high: bool, f_high: bool, m_high: bool) -> tuple[str, str, str]:
    return SEGMENTS[(bool(r_high), bool(f_high), bool(m_high))]


def lifecycle_stage(
    *, as_of: dt.date, first: dt.date, last: dt.date, previous: dt.date | None
) -> str:
    """The lifecycle stage of a buyer (thresholds in the module docstring)."""
    if (as_of - first).days <= NEW_DAYS:
        return "new"
    recency = (as_of - last).days
    if recency <= ACTIVE_DAYS:
        if previous is not None and (last - previous).days > ACTIVE_DAYS:
            return "returning"
        return "active"
    return "dormant" if recency <= DORMANT_DAYS else "lost"


@dataclass
class RfmResult:
    as_of: dt.date
    start: dt.date | None
    customers: pd.DataFrame  # COLUMNS, one row per scored customer
    medians: dict[str, float | None]
    acca: pd.DataFrame  # customer_id, acca, paid_orders

    def segments(self) -> list[dict[str, Any]]:
        """Customers, share and average monetary per group, in METRICS.md order."""
        total = len(self.customers)
        out = []
        for code, zh, en in SEGMENTS.values():
            rows = self.customers[self.customers["segment"] == code]
            out.append(
                {
                    "segment": code,
                    "name_zh": zh,
                    "name_en": en,
                    "customers": len(rows),
                    "share": (len(rows) / total) if total else None,
                    "monetary": int(rows["monetary"].sum()),
                    "avg_monetary": clean(rows["monetary"].mean()) if len(rows) else None,
                }
            )
        return out

    def stage_counts(self) -> dict[str, dict[str, int]]:
        life = self.customers["lifecycle"].value_counts()
        acca = self.acca["acca"].value_counts()
        return {
            "lifecycle": {k: int(life.get(k, 0)) for k in LIFECYCLE},
            "acca": {k: int(acca.get(k, 0)) for k in ACCA},
        }

    def to_dict(self, *, limit: int = 100) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "start": self.start.isoformat() if self.start else None,
            "medians": self.medians,
            "segments": self.segments(),
            "stages": self.stage_counts(),
            "customers": records(self.customers.head(limit)),
            "total_customers": len(self.customers),
        }


def _paid_orders(wh: Warehouse, as_of: dt.date, start: dt.date | None):
    o = table(wh, "fact_orders")
    o = o.filter(o.paid_date.notnull(), o.customer_id.notnull(), o.paid_date <= as_of)
    return o.filter(o.paid_date >= start) if start else o


def _lifetime(wh: Warehouse, as_of: dt.date) -> ir.Table:
    """Each buyer's first and last paid day up to `as_of`, the paid day before the last, paid
    orders and amount. From the loader's `paid_days` summary: each buyer's last row on or
    before `as_of` carries them all (a filter); else grouped from the paid days."""
    known = wh.derived("paid_days")
    if known is not None:
        d = known[0]
        last = d.filter(d.paid_date <= as_of, d.next_date.isnull() | (d.next_date > as_of))
        return last.select(
            "customer_id",
            first=last.first_date,
            last=last.paid_date,
            orders=last.cum_orders,
            previous=last.prev_date,
            monetary=last.cum_amount,
        )
    days = paid_days(wh, as_of)
    days = days.mutate(
        previous=days.paid_date.lag().over(group_by="customer_id", order_by="paid_date")
    )
    return days.group_by("customer_id").aggregate(
        first=days.paid_date.min(),
        last=days.paid_date.max(),
        orders=days.n.sum(),
        previous=days.previous.argmax(days.paid_date),
        monetary=days.m.sum(),
    )


def rfm(wh: Warehouse, *, as_of: dt.date, start: dt.date | None = None) -> RfmResult:
    """RFM scores, the eight groups, lifecycle and ACCA stages as of `as_of` (inclusive)."""
    check_period(start, as_of)
    # Per customer and paid day, then the day before each one (a window, not a self-join):
    # the previous buying day is the one before the last.
    lifetime = frame(wh, _lifetime(wh, as_of).order_by("customer_id"))
    if start is None:
        # The scoring window is the whole history: the lifetime figures are its figures.
        df = pd.DataFrame(
            {
                "customer_id": lifetime["customer_id"],
                "last_paid": lifetime["last"],
                "frequency": lifetime["orders"],
                "monetary": lifetime["monetary"],
            }
        )
    else:
        o = _paid_orders(wh, as_of, start)
        window = o.group_by("customer_id").aggregate(
            last_paid=o.paid_date.max(), frequency=o.count(), monetary=o.paid_amount.sum()
        )
        df = frame(wh, window.order_by("customer_id"))
    customers = _score(df, as_of)
    lt = lifetime.set_index(lifetime["customer_id"].astype("int64"))
    scored_ids = customers["customer_id"].to_numpy()
    if not np.array_equal(lt.index.to_numpy(), scored_ids):
        # Only a window (`start`) scores other customers than the lifetime rows, in order.
        lt = lt.reindex(scored_ids)
    customers["lifecycle"] = lifecycle_stages(
        as_of=as_of,
        first=_days_before(as_of, lt["first"]),
        last=_days_before(as_of, lt["last"]),
        previous=_days_before(as_of, lt["previous"]),
    )
    medians = {
        "recency_days": clean(df_median(customers, "recency_days")),
        "frequency": clean(df_median(customers, "frequency")),
        "monetary": clean(df_median(customers, "monetary")),
    }
    return RfmResult(
        as_of=as_of,
        start=start,
        customers=customers[COLUMNS],
        medians=medians,
        acca=_acca(wh, as_of, lifetime),
    )


def df_median(df: pd.DataFrame, column: str) -> float | None:
    return float(np.median(df[column])) if len(df) else None


def _days_before(as_of: dt.date, dates: pd.Series) -> np.ndarray:
    """Days from each date to `as_of` (float, NaN where there is no date)."""
    raw = dates.to_numpy()
    if not np.issubdtype(raw.dtype, np.datetime64):
        raw = pd.to_datetime(pd.Series(raw), errors="coerce").to_numpy()
    # Whole days (floored, as Timedelta.days) in NumPy: pandas' .dt accessors cost far more.
    values = raw.astype("datetime64[ns]")
    delta = np.datetime64(as_of, "ns") - values
    missing = np.isnat(values)
    out = (delta[~missing] // np.timedelta64(1, "D")).astype(float)
    result = np.full(len(values), np.nan)
    result[~missing] = out
    return result


def lifecycle_stages(
    *, as_of: dt.date, first: np.ndarray, last: np.ndarray, previous: np.ndarray
) -> np.ndarray:
    """`lifecycle_stage` for arrays of days-before-`as_of` (`previous` NaN when none)."""
    gap = previous - last  # days between the previous order and the last one
    returning = ~np.isnan(previous) & (gap > ACTIVE_DAYS)
    return np.select(
        [
            first <= NEW_DAYS,
            (last <= ACTIVE_DAYS) & returning,
            last <= ACTIVE_DAYS,
            last <= DORMANT_DAYS,
        ],
        ["new", "returning", "active", "dormant"],
        "lost",
    ).astype(object)


_RFM_TEXT = np.array([str(i) for i in range(1000)], dtype=object)
_SEGMENT_TABLE = [SEGMENTS[(bool(i & 4), bool(i & 2), bool(i & 1))] for i in range(8)]


def _score(df: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": df["customer_id"].astype("int64")})
    out["recency_days"] = _days_before(as_of, df["last_paid"]).astype(np.int64)
    out["frequency"] = df["frequency"].astype("int64").to_numpy()
    out["monetary"] = df["monetary"].fillna(0).astype("int64").to_numpy()
    recency = out["recency_days"].to_numpy()
    freq = out["frequency"].to_numpy()
    money = out["monetary"].to_numpy()
    out["r_score"] = quintile_scores(-recency)
    out["f_score"] = quintile_scores(freq)
    out["m_score"] = quintile_scores(money)
    # "RFM" as three digits, looked up rather than built string by string.
    code3 = out.r_score.to_numpy() * 100 + out.f_score.to_numpy() * 10 + out.m_score.to_numpy()
    out["rfm"] = _RFM_TEXT[code3] if len(out) else pd.Series(dtype=object)
    if len(out):
        out["r_high"] = recency <= np.median(recency)
        out["f_high"] = freq >= np.median(freq)
        out["m_high"] = money >= np.median(money)
    else:
        for c in ("r_high", "f_high", "m_high"):
            out[c] = pd.Series(dtype=bool)
    code = (
        out.r_high.to_numpy(dtype=np.int64) * 4
        + out.f_high.to_numpy(dtype=np.int64) * 2
        + out.m_high.to_numpy(dtype=np.int64)
    )
    for i, column in enumerate(("segment", "segment_zh", "segment_en")):
        names = np.array([s[i] for s in _SEGMENT_TABLE], dtype=object)
        out[column] = names[code] if len(out) else pd.Series(dtype=object)
    return out


def _acca(wh: Warehouse, as_of: dt.date, lifetime: pd.DataFrame) -> pd.DataFrame:
    c = table(wh, "dim_customer")
    reg = c.filter(c.registered_date.isnull() | (c.registered_date <= as_of))
    registered = frame(wh, reg.select("customer_id", "referred_by"))
    ids = np.concatenate(
        [
            registered["customer_id"].dropna().to_numpy(dtype=np.int64),
            lifetime["customer_id"].to_numpy(dtype=np.int64),
        ]
    )
    # Sorted and de-duplicated, as np.unique, whose hash path is far slower on int64 ids; a
    # stable sort (timsort) merges the two runs, each usually sorted already, in one pass.
    ids.sort(kind="stable")
    ids = ids[np.concatenate([[True], ids[1:] != ids[:-1]])] if len(ids) else ids
    referrers = registered["referred_by"].dropna().astype("int64").to_numpy()
    # Each buyer's orders at its place among the (sorted, unique) ids, which hold every buyer.
    n = np.zeros(len(ids), dtype=np.int64)
    buyers = lifetime["customer_id"].to_numpy(dtype=np.int64)
    n[np.searchsorted(ids, buyers)] = lifetime["orders"].to_numpy(dtype=np.int64)
    stage = np.select(
        [np.isin(ids, referrers), n >= 2, n == 1], ["refer", "retain", "activate"], "acquire"
    ).astype(object)
    return pd.DataFrame({"customer_id": ids, "acca": stage, "paid_orders": n})
