"""A day's new visitors drawn at once: channel, persona, arrival time, whether the visit means
to buy and, for one that does not, how far it browses (`visit.browse_shape`'s shape).

Drawn as arrays from one numpy stream per day (the same seed gives the same visitors), since
all but a few percent of them never become Python objects in the store's process: buyers are
made `Visit`s by the engine, the rest go to the ingestion as columns (`sim.browsing`). Pure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from shopops.sim import calendar, personas, traffic
from shopops.sim.visit import ABANDON_CART, ABANDON_CHECKOUT, BOUNCE, CART, CHECKOUT, SEARCHED

_SHARES = np.array([c.share for c in traffic.CHANNELS])
_ORDER_RATE = np.array([c.order_rate for c in traffic.CHANNELS])
_HOURS = np.array(calendar.HOUR_WEIGHTS) / sum(calendar.HOUR_WEIGHTS)
_PERSONA_SHARES = np.array([p.share for p in personas.PERSONAS]) / sum(
    p.share for p in personas.PERSONAS
)
_CONVERSION = np.array([p.conversion for p in personas.PERSONAS])


def stream(key: str) -> np.random.Generator:
    """A numpy generator seeded from `key` (stable across runs and machines)."""
    return np.random.default_rng(
        int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest())
    )


@dataclass
class Arrivals:
    """The day's new visitors, in the order their numbers (1…n) are given."""

    channel: np.ndarray  # index into traffic.CHANNELS
    persona: np.ndarray  # index into personas.PERSONAS
    seconds: np.ndarray  # after local midnight
    p: np.ndarray  # the true chance the visit places an order
    buys: np.ndarray
    shape: np.ndarray  # a non-buyer's browsing shape (0 for buyers)

    def __len__(self) -> int:
        return len(self.channel)


def draw(
    rng: np.random.Generator, total: int, keep: list[float], conversion: list[float]
) -> Arrivals:
    """`total` visitors split over the channels by share, each channel's kept with chance
    `keep` (a traffic drop), converting at its order rate × persona × `conversion`."""
    counts = rng.multinomial(max(0, total), _SHARES / _SHARES.sum())
    counts = rng.binomial(counts, np.clip(keep, 0.0, 1.0))
    channel = np.repeat(np.arange(len(counts)), counts)
    n = len(channel)
    hour = rng.choice(24, size=n, p=_HOURS)
    seconds = hour * 3600 + rng.uniform(0, 3599, size=n)
    persona = rng.choice(len(_CONVERSION), size=n, p=_PERSONA_SHARES)
    p = np.minimum(
        0.9, _ORDER_RATE[channel] * _CONVERSION[persona] * np.asarray(conversion)[channel]
    )
    buys = rng.random(n) < p
    return Arrivals(channel, persona, seconds, p, buys, np.where(buys, 0, shapes(rng, n)))


def shapes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` browsing shapes, distributed as `visit.browse_shape` draws one."""
    stayed = rng.random(n) >= BOUNCE
    searched = rng.random(n) < 0.35
    views = rng.integers(0, 4, size=n)
    cart = rng.random(n) < ABANDON_CART
    checkout = cart & (rng.random(n) < ABANDON_CHECKOUT)
    shape = 1 | searched * SEARCHED | views << 2 | cart * CART | checkout * CHECKOUT
    return np.where(stayed, shape, 0).astype(np.int64)


def shape_events(shape: np.ndarray) -> np.ndarray:
    """How many tracking events non-buyers of `shape` make (`visit.shape_events`, per row)."""
    made = 2 + (shape >> 2 & 3) + (shape & SEARCHED > 0) + (shape & CART > 0)
    made = made + (shape & CHECKOUT > 0)
    return np.where(shape == 0, 1, made)
