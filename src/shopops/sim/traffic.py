"""Traffic channels: who sends visitors, how well they convert, what a click costs.

Shares follow seed 000 (natural traffic — organic search, direct, private domain, referral —
28% of visits; the rest bought from 直通车 paid search, display, 淘宝客 affiliates, Douyin feed
ads and KOL content). A channel's cost per click moves as a mean-reverting random walk, so the
daily ad spend file has believable wobble. Pure rules.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPlan:
    code: str  # shopops.tracking.rules.Channel value: what the analytics classify it as
    share: float  # of a day's visitors
    order_rate: float  # chance a visit places an order, before persona/calendar effects
    cpc_fen: int  # mean cost per click (0: free traffic)
    utm_source: str
    utm_medium: str
    referrer: str = ""


CHANNELS: tuple[ChannelPlan, ...] = (
    ChannelPlan("paid_search", 0.22, 0.036, 250, "taobao", "cpc"),
    ChannelPlan("display", 0.09, 0.014, 90, "yinli_mofang", "display"),
    ChannelPlan("affiliate", 0.12, 0.038, 120, "taoke", "affiliate"),
    ChannelPlan("feed_ads", 0.20, 0.022, 150, "oceanengine", "feed"),
    ChannelPlan("influencer", 0.09, 0.034, 200, "douyin_kol", "kol"),
    ChannelPlan("organic_search", 0.10, 0.034, 0, "", "", "https://www.baidu.com/s?wd=快充"),
    ChannelPlan("direct", 0.08, 0.042, 0, "", ""),
    ChannelPlan("private_domain", 0.06, 0.063, 0, "wecom", "wecom"),
    ChannelPlan("referral", 0.04, 0.038, 0, "friend", "referral"),
)
BY_CODE = {c.code: c for c in CHANNELS}
PAID = frozenset(c.code for c in CHANNELS if c.cpc_fen)


def channel_codes() -> list[str]:
    return [c.code for c in CHANNELS]


def landing_url(plan: ChannelPlan, path: str, campaign: str) -> str:
    """The landing page with the channel's UTM tags (what the tracking classifies)."""
    if not plan.utm_medium:
        return f"https://shop.example.com{path}"
    return (
        f"https://shop.example.com{path}?utm_source={plan.utm_source}"
        f"&utm_medium={plan.utm_medium}&utm_campaign={campaign}"
    )


class CpcWalk:
    """Each paid channel's CPC: log-space AR(1) around its mean (daily σ 6%, half-life ~5 days)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"cpc-{seed}")
        self.level = {code: 0.0 for code in PAID}

    def step(self) -> dict[str, int]:
        out = {}
        for plan in CHANNELS:
            if not plan.cpc_fen:
                continue
            x = 0.87 * self.level[plan.code] + self.rng.gauss(0.0, 0.06)
            self.level[plan.code] = x
            out[plan.code] = max(1, round(plan.cpc_fen * math.exp(x)))
        return out


def split_visitors(total: int, shares: dict[str, float], rng: random.Random) -> dict[str, int]:
    """A day's visitors per channel: a multinomial draw over the (possibly disturbed) shares."""
    codes = list(shares)
    weights = [shares[c] for c in codes]
    counts = dict.fromkeys(codes, 0)
    if total <= 0 or sum(weights) <= 0:
        return counts
    for code in rng.choices(codes, weights=weights, k=total):
        counts[code] += 1
    return counts
