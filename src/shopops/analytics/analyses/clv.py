"""Customer lifetime value: historical, and predicted with BG/NBD + Gamma-Gamma.

Historical value: paid amount, paid orders, first and last paid day per customer.

Prediction (time unit: days; a "purchase" is a day with ≥ 1 paid order, as in the papers'
calibration summaries):
* x = repeat purchases (purchase days − 1), t_x = days from first to last purchase,
  T = days from first purchase to `as_of`, m_x = mean value (fen) of the repeat purchases.
* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
  customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each purchase they drop
  out with probability p ~ Beta(a, b). Log-likelihood per customer (eq. 6 of the paper):
      ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
             + ln[(α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x)]
  Expected purchases in the next t days (eq. 10) and P(alive) follow the same paper.
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", and Fader & Hardie's note on the
  Gamma-Gamma spend model): transaction values z ~ Gamma(p, ν), ν ~ Gamma(q, γ); for x ≥ 1
      ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x
             − (px+q) ln(γ + x m_x)
  and E[M | x, m_x] = (γ + x m_x) p / (px + q − 1).
* Both are fitted by maximum likelihood with `scipy.optimize.minimize` over the logs of the
  parameters (so they stay positive); predicted value over a horizon = expected purchases ×
  expected value per purchase (undiscounted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from shopops.analytics.analyses._common import (
    BadParameter,
    check_period,
    clean,
    execute_df,
    records,
    table,
    to_date,
)
from shopops.analytics.engine import Warehouse


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        return num / self._denominator(x, t_x, T)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        return 1.0 / self._denominator(x, t_x, T)

    def _denominator(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return 1 + np.where(x > 0, extra, 0.0)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def expected_value(self, x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
        """E[value per purchase | x, m_x]; the population mean where x = 0."""
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(m_x, dtype=float))
        p, q, g = self.p, self.q, self.gamma
        return (g + x * m) * p / (p * x + q - 1)


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood at (r, α, a, b)."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(x > 0, a4, -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def gg_log_likelihood(params: np.ndarray, x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood at (p, q, γ), for x ≥ 1 and m_x > 0."""
    p, q, g = params
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(g)
        + (p * x - 1) * np.log(m_x)
        + p * x * np.log(x)
        - (p * x + q) * np.log(g + x * m_x)
    )


# The optimisers search log-parameters; past e^±100 a parameter describes no purchase process,
# and exp/log there overflow to inf or 0, whose NaN terms used to reach np.logaddexp.
_LOG_LIMIT = 100.0
_PENALTY = 1e300


def _plausible(log_params: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(log_params)) and np.abs(log_params).max() <= _LOG_LIMIT)


def _fit(nll: Any, start: np.ndarray) -> np.ndarray:
    best = None
    for method in ("L-BFGS-B", "Nelder-Mead"):
        res = optimize.minimize(nll, np.log(start), method=method, options={"maxiter": 5000})
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise BadParameter("the model could not be fitted to these data", details={})
    return np.exp(best.x)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for customers' (x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) < 2 or not (x > 0).any():
        raise BadParameter(
            "BG/NBD needs at least two customers and some repeat purchases",
            details={"customers": len(x)},
        )
    # Identical (x, t_x, T) rows share one likelihood term: fit on the unique rows, weighted.
    keys, counts = np.unique(np.stack([x, t_x, T]), axis=1, return_counts=True)
    ux, ut, uT = keys

    def nll(log_params: np.ndarray) -> float:
        if not _plausible(log_params):
            return _PENALTY
        ll = bgnbd_log_likelihood(np.exp(log_params), ux, ut, uT)
        value = -(counts * ll).sum()
        return float(value) if np.isfinite(value) else _PENALTY

    r, alpha, a, b = _fit(nll, np.array([1.0, max(T.mean(), 1.0), 1.0, 1.0]))
    return BgNbd(r=r, alpha=alpha, a=a, b=b)


def fit_gamma_gamma(x: np.ndarray, m_x: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters over customers with x ≥ 1 and m_x > 0."""
    x, m_x = np.asarray(x, dtype=float), np.asarray(m_x, dtype=float)
    keep = (x >= 1) & (m_x > 0)
    x, m_x = x[keep], m_x[keep]
    if len(x) < 2:
        raise BadParameter(
            "Gamma-Gamma needs at least two customers with repeat purchases",
            details={"customers": len(x)},
        )

    def nll(log_params: np.ndarray) -> float:
        if not _plausible(log_params):
            return _PENALTY
        value = -gg_log_likelihood(np.exp(log_params), x, m_x).sum()
        return float(value) if np.isfinite(value) else _PENALTY

    p, q, g = _fit(nll, np.array([1.0, 2.0, max(float(m_x.mean()), 1.0)]))
    return GammaGamma(p=p, q=q, gamma=g)


@dataclass
class ClvResult:
    as_of: dt.date
    horizon_days: int
    customers: pd.DataFrame
    bgnbd: BgNbd | None
    gamma_gamma: GammaGamma | None

    def totals(self) -> dict[str, Any]:
        c = self.customers
        return {
            "customers": len(c),
            "historical_value": int(c["historical_value"].sum()) if len(c) else 0,
            "predicted_purchases": clean(c["predicted_purchases"].sum()) if len(c) else 0.0,
            "predicted_value": clean(c["predicted_value"].sum()) if len(c) else 0.0,
        }

    def to_dict(self, *, limit: int = 100) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "bgnbd": None
            if self.bgnbd is None
            else {k: clean(v) for k, v in vars(self.bgnbd).items()},
            "gamma_gamma": None
            if self.gamma_gamma is None
            else {k: clean(v) for k, v in vars(self.gamma_gamma).items()},
            "totals": self.totals(),
            "customers": records(
                self.customers.sort_values("predicted_value", ascending=False, kind="stable").head(
                    limit
                )
            ),
        }


def summary(wh: Warehouse, *, as_of: dt.date, start: dt.date | None = None) -> pd.DataFrame:
    """Per customer: historical value and orders, first/last paid day, x, t_x, T, m_x."""
    check_period(start, as_of)
    o = table(wh, "fact_orders")
    o = o.filter(o.paid_date.notnull(), o.customer_id.notnull(), o.paid_date <= as_of)
    if start:
        o = o.filter(o.paid_date >= start)
    days = execute_df(
        wh,
        o.group_by("customer_id", "paid_date").aggregate(
            orders=o.count(), value=o.paid_amount.sum()
        ),
    )
    if days.empty:
        return pd.DataFrame(
            columns=[
                "customer_id",
                "historical_value",
                "orders",
                "first_paid",
                "last_paid",
                "x",
                "t_x",
                "T",
                "m_x",
            ]
        )
    days["day"] = [to_date(d) for d in days["paid_date"]]
    days["customer_id"] = days["customer_id"].astype("int64")
    days["value"] = days["value"].fillna(0).astype("int64")
    days = days.sort_values(["customer_id", "day"])
    days["nth"] = days.groupby("customer_id").cumcount()
    g = days.groupby("customer_id")
    out = pd.DataFrame(
        {
            "historical_value": g["value"].sum(),
            "orders": g["orders"].sum(),
            "first_paid": g["day"].min(),
            "last_paid": g["day"].max(),
            "x": g["day"].count() - 1,
        }
    )
    repeat = days[days["nth"] > 0].groupby("customer_id")["value"].mean()
    out["m_x"] = repeat.reindex(out.index).fillna(0.0)
    out["t_x"] = [
        (last - first).days for first, last in zip(out.first_paid, out.last_paid, strict=True)
    ]
    out["T"] = [(as_of - first).days for first in out.first_paid]
    return out.reset_index()


def clv(
    wh: Warehouse,
    *,
    as_of: dt.date,
    horizon_days: int = 365,
    start: dt.date | None = None,
) -> ClvResult:
    """Historical value per customer and, when the data allow a fit, BG/NBD + Gamma-Gamma
    predicted purchases, P(alive) and value over the next `horizon_days`."""
    if not 1 <= horizon_days <= 3650:
        raise BadParameter("horizon_days must be 1..3650", details={"horizon_days": horizon_days})
    s = summary(wh, as_of=as_of, start=start)
    bg = gg = None
    s["p_alive"] = np.nan
    s["predicted_purchases"] = 0.0
    s["expected_value_per_purchase"] = np.nan
    s["predicted_value"] = 0.0
    if len(s) >= 2 and (s["x"] > 0).any():
        x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
        try:
            bg = fit_bgnbd(x, t_x, T)
        except BadParameter:
            bg = None
        if bg is not None:
            s["p_alive"] = bg.p_alive(x, t_x, T)
            # Eq. 10 has a − 1 in a denominator: a fit at exactly a = 1 predicts nothing.
            if abs(bg.a - 1) > 1e-9:
                s["predicted_purchases"] = bg.expected_purchases(horizon_days, x, t_x, T)
        if (s["x"] >= 1).sum() >= 2:
            try:
                gg = fit_gamma_gamma(x, s["m_x"].to_numpy(dtype=float))
            except BadParameter:
                gg = None
        if gg is not None and gg.q > 1:
            s["expected_value_per_purchase"] = gg.expected_value(x, s["m_x"].to_numpy())
            s["predicted_value"] = s["predicted_purchases"] * s["expected_value_per_purchase"]
    return ClvResult(as_of=as_of, horizon_days=horizon_days, customers=s, bgnbd=bg, gamma_gamma=gg)
