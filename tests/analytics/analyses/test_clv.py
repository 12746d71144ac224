"""CLV: summaries by hand; BG/NBD and Gamma-Gamma recover the parameters they simulate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from tests.analytics.analyses.builders import at, order

from shopops.analytics.analyses.clv import (
    BgNbd,
    bgnbd_log_likelihood,
    clv,
    fit_bgnbd,
    fit_gamma_gamma,
    summary,
)


def simulate_bgnbd(
    n: int, r: float, alpha: float, a: float, b: float, T: float, seed: int, horizon: float = 0
):
    """x, t_x, T per customer drawn from the BG/NBD story (first purchase at time 0), and
    the number of purchases each makes in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    xs, txs, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t, x = 0.0, 0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T + horizon:
                break
            if t > T:
                future[i] += 1
            else:
                x += 1
                xs[i], txs[i] = x, t
            if rng.random() < p[i]:
                break
    if horizon:
        return xs, txs, np.full(n, T), future
    return xs, txs, np.full(n, T)


def test_expected_purchases_match_simulated_future():
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 3.0}
    x, t_x, T, future = simulate_bgnbd(20_000, **truth, T=40.0, seed=11, horizon=30.0)
    predicted = BgNbd(**truth).expected_purchases(30.0, x, t_x, T)
    assert predicted.sum() == pytest.approx(future.sum(), rel=0.05)
    # Conditioning matters: frequent recent buyers are expected to buy more.
    busy = (x >= 3) & (t_x > 30)
    assert predicted[busy].mean() > predicted[x == 0].mean()
    assert predicted[busy].mean() == pytest.approx(future[busy].mean(), rel=0.15)


def test_bgnbd_recovers_simulated_parameters():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    x, t_x, T = simulate_bgnbd(6000, **truth, T=52.0, seed=2026)
    fit = fit_bgnbd(x, t_x, T)
    for name, value in truth.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.2), name
    # The fitted model predicts the holdout-free total of repeat purchases well.
    model = BgNbd(**truth)
    ll_fit = bgnbd_log_likelihood(np.array([fit.r, fit.alpha, fit.a, fit.b]), x, t_x, T).sum()
    ll_true = bgnbd_log_likelihood(np.array(list(truth.values())), x, t_x, T).sum()
    assert ll_fit >= ll_true - 1e-6  # the optimum is at least as likely as the truth
    alive = model.p_alive(x, t_x, T)
    assert ((alive > 0) & (alive <= 1)).all()
    assert alive[x == 0].max() == pytest.approx(1.0)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(618)
    p, q, gamma = 6.0, 4.0, 15.0
    n = 5000
    nu = rng.gamma(q, 1 / gamma, n)
    x = rng.integers(1, 8, n)
    m = np.array([rng.gamma(p, 1 / nu[i], x[i]).mean() for i in range(n)])
    fit = fit_gamma_gamma(x, m)
    assert fit.p == pytest.approx(p, rel=0.2)
    assert fit.q == pytest.approx(q, rel=0.2)
    assert fit.gamma == pytest.approx(gamma, rel=0.25)
    # Expected spend shrinks a customer's mean toward the population mean p·γ/(q−1).
    pop = fit.p * fit.gamma / (fit.q - 1)
    one = fit.expected_value(np.array([1.0]), np.array([pop * 3]))[0]
    assert pop < one < pop * 3


def test_summary_by_hand(make_wh):
    orders = [
        order(1, 1, at("2026-11-01"), 1_000),
        order(2, 1, at("2026-11-01", 12), 500),  # same day: one purchase of 1500
        order(3, 1, at("2026-11-11"), 3_000),
        order(4, 1, at("2026-11-21"), 5_000),
        order(5, 2, at("2026-11-20"), 700),  # one order only
    ]
    wh = make_wh(fact_orders=orders)
    s = summary(wh, as_of=dt.date(2026, 11, 30)).set_index("customer_id")
    assert s.loc[1, ["historical_value", "orders", "x", "t_x", "T"]].tolist() == [
        9_500,
        4,
        2,
        20,
        29,
    ]
    assert s.loc[1, "m_x"] == 4_000  # mean of the repeat purchases 3000 and 5000
    assert s.loc[2, ["x", "t_x", "T", "m_x"]].tolist() == [0, 0, 10, 0]


def test_clv_on_a_warehouse_and_on_nothing(make_wh):
    x, t_x, T = simulate_bgnbd(400, r=0.5, alpha=10.0, a=0.8, b=2.5, T=200.0, seed=1)
    rng = np.random.default_rng(3)
    as_of = dt.date(2026, 11, 30)
    orders, oid = [], 0
    for c in range(400):
        first = as_of - dt.timedelta(days=int(T[c]))
        days = {0, int(t_x[c])} if x[c] else {0}
        days |= {int(d) for d in rng.uniform(0, t_x[c], max(0, int(x[c]) - 1))}
        for d in sorted(days):
            oid += 1
            day = (first + dt.timedelta(days=d)).isoformat()
            orders.append(order(oid, c + 1, at(day), int(rng.integers(1_000, 9_000))))
    result = clv(make_wh(fact_orders=orders), as_of=as_of, horizon_days=90)
    assert result.bgnbd is not None and result.gamma_gamma is not None
    c = result.customers
    assert len(c) == 400 and (c.predicted_purchases >= 0).all()
    assert ((c.p_alive > 0) & (c.p_alive <= 1)).all()
    assert result.totals()["predicted_value"] > 0
    assert result.totals()["historical_value"] == sum(o["paid_amount"] for o in orders)
    empty = clv(make_wh(), as_of=as_of)
    assert empty.bgnbd is None and empty.totals()["customers"] == 0
    assert empty.to_dict()["customers"] == []
