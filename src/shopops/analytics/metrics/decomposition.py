"""The four-dimension model: gmv = uv × conversion_rate × aov, and a change of gmv between two
periods split over the three factors with the additive LMDI (log-mean Divisia index) so the
parts add up exactly to the change; new vs returning buyers' gmv beside it.

Zero-safe: conversion_rate is 0 when uv is 0 and aov is 0 when buyers are 0, so the model's
gmv (uv × cvr × aov) is 0 in an empty period. When a factor is 0 in one period, LMDI's limit
gives the whole change to the factors that are 0 there (shared equally). When orders were paid
without any tracked visitor (uv = 0 but gmv > 0, or buyers unknown) the model cannot explain
that gmv: the difference is reported as `residual`, so parts plus residual are the change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics.evaluate import CURRENT, PREVIOUS, evaluate
from shopops.analytics.metrics.registry import ratio
from shopops.analytics.periods import Period

FACTORS = ("uv", "conversion_rate", "aov")


def log_mean(a: float, b: float) -> float:
    """L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a; both positive."""
    ratio_ = a / b
    if ratio_ == 1.0:  # equal, or too close for logs to tell apart
        return (a + b) / 2
    return (a - b) / math.log(ratio_)


def factors(uv: float, buyers: float, gmv: float) -> dict[str, float]:
    """The model's factors, 0 where undefined (no visitors, no buyers)."""
    return {
        "uv": float(uv),
        "conversion_rate": ratio(buyers, uv) or 0.0,
        "aov": ratio(gmv, buyers) or 0.0,
    }


def lmdi(
    before: Mapping[str, float],
    after: Mapping[str, float],
    v0: float | None = None,
    v1: float | None = None,
) -> dict[str, float]:
    """Additive LMDI parts of V1 − V0 (V = Π factors, or the exact values given), one per
    factor, summing to the change."""
    if v0 is None:
        v0 = math.prod(before.values())
    if v1 is None:
        v1 = math.prod(after.values())
    names = list(before)
    if v0 > 0 and v1 > 0:
        weight = log_mean(v1, v0)
        parts = {f: weight * math.log(after[f] / before[f]) for f in names}
        # Float rounding only: give the last unit of error to the largest part.
        error = (v1 - v0) - sum(parts.values())
        big = max(names, key=lambda f: abs(parts[f]))
        parts[big] += error
        return parts
    if v0 == v1:
        return dict.fromkeys(names, 0.0)
    # One side is 0: the δ → 0 limit of LMDI gives the change to the factors that are 0.
    zero_side = before if v0 == 0 else after
    zeros = [f for f in names if zero_side[f] == 0]
    share = (v1 - v0) / len(zeros)
    return {f: (share if f in zeros else 0.0) for f in names}


def split_fen(parts: Mapping[str, float], total: int) -> dict[str, int]:
    """Round parts to whole fen that add up exactly to `total` (largest remainder)."""
    names = list(parts)
    floors = {f: math.floor(parts[f]) for f in names}
    short = total - sum(floors.values())
    order = sorted(names, key=lambda f: (-(parts[f] - floors[f]), names.index(f)))
    if short >= 0:
        for i in range(short):
            floors[order[i % len(order)]] += 1
    else:
        for i in range(-short):
            floors[order[::-1][i % len(order)]] -= 1
    return floors


@dataclass
class Decomposition:
    period: Period
    against: Period
    before: dict[str, float]
    after: dict[str, float]
    gmv_before: int
    gmv_after: int
    parts: dict[str, float]
    parts_fen: dict[str, int]
    residual: int
    new_buyer_gmv: tuple[int, int]
    returning_buyer_gmv: tuple[int, int]

    @property
    def change(self) -> int:
        return self.gmv_after - self.gmv_before

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.to_dict(),
            "against": self.against.to_dict(),
            "gmv": {"before": self.gmv_before, "after": self.gmv_after, "change": self.change},
            "factors": {f: {"before": self.before[f], "after": self.after[f]} for f in FACTORS},
            "parts": self.parts,
            "parts_fen": self.parts_fen,
            "residual": self.residual,
            "new_buyer_gmv": {
                "before": self.new_buyer_gmv[0],
                "after": self.new_buyer_gmv[1],
            },
            "returning_buyer_gmv": {
                "before": self.returning_buyer_gmv[0],
                "after": self.returning_buyer_gmv[1],
            },
        }


def decompose_values(
    period: Period,
    against: Period,
    before: Mapping[str, float | int],
    after: Mapping[str, float | int],
) -> Decomposition:
    """The decomposition from each period's measure totals (uv, buyers, gmv, new_buyer_gmv)."""
    f0 = factors(before.get("uv", 0), before.get("buyers", 0), before.get("gmv", 0))
    f1 = factors(after.get("uv", 0), after.get("buyers", 0), after.get("gmv", 0))
    g0, g1 = int(before.get("gmv", 0)), int(after.get("gmv", 0))
    # The model's gmv: the real one wherever there were visitors to explain it.
    model0 = g0 if min(f0.values()) > 0 else 0
    model1 = g1 if min(f1.values()) > 0 else 0
    residual = (g1 - g0) - (model1 - model0)
    parts = lmdi(f0, f1, model0, model1)
    n0, n1 = int(before.get("new_buyer_gmv", 0)), int(after.get("new_buyer_gmv", 0))
    return Decomposition(
        period=period,
        against=against,
        before=f0,
        after=f1,
        gmv_before=g0,
        gmv_after=g1,
        parts=parts,
        parts_fen=split_fen(parts, model1 - model0),
        residual=residual,
        new_buyer_gmv=(n0, n1),
        returning_buyer_gmv=(g0 - n0, g1 - n1),
    )


DECOMPOSITION_METRICS: Sequence[str] = ("uv", "buyers", "gmv", "new_buyer_gmv")


def decompose(
    wh: Warehouse,
    period: Period,
    against: Period | None = None,
    *,
    filters: Mapping[str, Any] | None = None,
    timezone: str = "Asia/Shanghai",
) -> Decomposition:
    """gmv of `period` against `against` (default: the previous period), split by LMDI."""
    against = against or period.previous()
    now = evaluate(
        wh, DECOMPOSITION_METRICS, period, compare=(), filters=filters, timezone=timezone
    )
    then = evaluate(
        wh, DECOMPOSITION_METRICS, against, compare=(), filters=filters, timezone=timezone
    )
    return decompose_values(period, against, then.measures[CURRENT], now.measures[CURRENT])


def decompose_evaluation(
    measures: Mapping[str, Mapping[str, float | int]], period: Period, against: Period
) -> Decomposition:
    """The decomposition of an evaluation that already holds current and previous totals."""
    return decompose_values(period, against, measures.get(PREVIOUS, {}), measures.get(CURRENT, {}))
