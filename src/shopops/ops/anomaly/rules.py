"""Pure computations: attribution of a metric's change to a dimension's members, and the
seasonal baseline score of a day. No I/O; numbers in, numbers out."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# 1.4826 × MAD estimates σ for normal data (the usual consistency constant).
MAD_SIGMA = 1.4826
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Contribution:
    member: str
    change: float  # this member's part of the metric's change (metric units)
    share: float  # part of the total change, 1.0 = all of it
    mix: float = 0.0  # for ratios: the part due to the member's weight moving
    rate: float = 0.0  # for ratios: the part due to the member's own rate moving

    def to_dict(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "change": self.change,
            "share": self.share,
            "mix": self.mix,
            "rate": self.rate,
        }


@dataclass(frozen=True)
class Attribution:
    dimension: str
    member: str
    share: float
    change: float
    members: tuple[Contribution, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "member": self.member,
            "share": self.share,
            "change": self.change,
            "members": [c.to_dict() for c in self.members],
        }


def additive_split(current: Mapping[str, float], base: Mapping[str, float]) -> list[Contribution]:
    """Each member's share of the change of a sum: Δᵢ / ΣΔ."""
    members = sorted(set(current) | set(base))
    deltas = {m: float(current.get(m, 0) or 0) - float(base.get(m, 0) or 0) for m in members}
    total = sum(deltas.values())
    return [Contribution(m, d, d / total if total else 0.0) for m, d in deltas.items()]


def ratio_split(
    num: Mapping[str, float],
    den: Mapping[str, float],
    base_num: Mapping[str, float],
    base_den: Mapping[str, float],
) -> list[Contribution]:
    """Split the change of R = ΣNᵢ/ΣDᵢ = Σwᵢrᵢ into per-member mix (Δwᵢ·r̄ᵢ) and rate
    (w̄ᵢ·Δrᵢ) parts; midpoint weights make the parts add up exactly to ΔR."""
    members = sorted(set(den) | set(base_den))
    d1, d0 = sum(den.values()) or 0.0, sum(base_den.values()) or 0.0
    if not d1 or not d0:
        return []
    parts: dict[str, tuple[float, float]] = {}
    for m in members:
        w1, w0 = (den.get(m, 0) or 0) / d1, (base_den.get(m, 0) or 0) / d0
        r1 = (num.get(m, 0) or 0) / den[m] if den.get(m) else None
        r0 = (base_num.get(m, 0) or 0) / base_den[m] if base_den.get(m) else None
        # A member absent on one side keeps its rate from the other (its weight is 0 there).
        r1 = r0 if r1 is None else r1
        r0 = r1 if r0 is None else r0
        parts[m] = ((w1 - w0) * ((r1 or 0) + (r0 or 0)) / 2, (r1 - r0) * (w1 + w0) / 2)
    total = sum(a + b for a, b in parts.values())
    return [
        Contribution(m, a + b, (a + b) / total if total else 0.0, a, b)
        for m, (a, b) in parts.items()
    ]


def best_explanation(splits: Mapping[str, Sequence[Contribution]]) -> Attribution | None:
    """The dimension member explaining most of the change: the largest share, among
    dimensions with at least two members (one member trivially explains everything)."""
    best: Attribution | None = None
    for dim, contributions in splits.items():
        if len([c for c in contributions if c.change]) < 2:
            continue
        # "unknown" (no product / region recorded) explains nothing an operator can act on.
        known = [c for c in contributions if c.member != UNKNOWN]
        if not known:
            continue
        top = max(known, key=lambda c: (c.share, -abs(c.change)))
        if best is None or top.share > best.share:
            ranked = tuple(sorted(contributions, key=lambda c: -c.share))
            best = Attribution(dim, top.member, top.share, top.change, ranked)
    return best


@dataclass(frozen=True)
class Score:
    value: float
    expected: float
    score: float  # robust z: (value − expected) / σ̂
    history: int  # how many past days the baseline used


def seasonal_score(
    series: Sequence[tuple[int, float | None]],
    value: float,
    weekday: int,
    *,
    skip: frozenset[int] = frozenset(),
    min_history: int = 21,
    window: int = 7,
    floor: Callable[[float], float] | None = None,
    seasonal: bool = True,
) -> Score | None:
    """Score `value` against a multiplicative weekday-seasonal baseline from `series`
        (pairs of (weekday, value) for the past days, oldest first; `skip` = indexes of campaign
        days left out). Weekday factors are medians of value / overall median; the level is the
        median of the last `window` de-seasonalised days (it follows a trend); σ̂ is the MAD of
        each past day's deviation from its own trailing level, never below `floor(expected)` ×
    expected (the sampling noise of the day). None when history is too short."""
    hist = [(wd, v) for i, (wd, v) in enumerate(series) if v is not None and i not in skip]
    if len(hist) < min_history:
        return None
    overall = statistics.median(v for _, v in hist)
    if not overall:
        return None
    factors: dict[int, float] = dict.fromkeys(range(7), 1.0)
    # A price (CPC) has no weekday pattern: six samples per weekday would only add noise.
    for wd in range(7) if seasonal else ():
        same = [v / overall for w, v in hist if w == wd]
        factors[wd] = (statistics.median(same) if same else 1.0) or 1.0
    des = [v / factors[w] for w, v in hist]
    devs = [des[i] - statistics.median(des[i - window : i]) for i in range(window, len(des))]
    level = statistics.median(des[-window:])
    centre = statistics.median(devs) if devs else 0.0
    mad = statistics.median(abs(d - centre) for d in devs) if devs else 0.0
    # A floor on σ̂ keeps a perfectly flat history from turning any wobble into an alarm.
    expected = level * factors[weekday]
    rel = floor(expected) if floor else 0.0
    sigma = max(MAD_SIGMA * mad, 0.02 * abs(level), rel * abs(level), 1e-9)
    return Score(value, expected, (value / factors[weekday] - level) / sigma, len(hist))
